import { Controller, Get, Header, Sse, UseGuards, type MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import { PAGE_HEADERS, pageAsset } from '../core/manager-http/page-assets.js';
import type { TopologyView } from '../core/manager-http/topology-view.js';
import { ManagerHost } from './manager.host.js';
import { MeshHttpAuthGuard } from './mesh-http-auth.guard.js';

/**
 * The manager app's topology routes, as the plain Manager serves them: `GET /socket-mesh/topology`
 * (JSON), `GET /socket-mesh/events` (one SSE 'topology' event per change) and the page
 * `GET /socket-mesh/ui` with its script `ui.js` (static, no data).
 */
@Controller('socket-mesh')
export class TopologyController {
  constructor(private readonly host: ManagerHost) {}

  @Get('topology')
  @UseGuards(MeshHttpAuthGuard)
  topology(): TopologyView {
    return this.host.manager.routes.feed.view();
  }

  @Sse('events')
  @UseGuards(MeshHttpAuthGuard)
  events(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) =>
      this.host.manager.routes.feed.subscribe({
        next: (view) => subscriber.next({ type: 'topology', data: view }),
        end: () => subscriber.complete(),
      }),
    );
  }

  @Get('ui')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_HEADERS['content-security-policy']!)
  @Header('cache-control', 'no-cache')
  page(): string {
    return pageAsset('page').body;
  }

  @Get('ui.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  script(): string {
    return pageAsset('script').body;
  }
}
