import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAuthorized, type ManagerHttpAuth } from './http-auth.js';
import { PAGE_HEADERS, pageAsset } from './page-assets.js';
import { TopologyFeed, type TopologySource } from './topology-feed.js';

export interface ManagerHttpSource extends TopologySource {
  /** The socket port workers connect to. */
  port(): number;
}

/** Keeps proxies and idle timeouts from cutting a quiet event stream. */
const HEARTBEAT_MS = 15_000;

/**
 * The plain Manager's HTTP routes (the Nest module serves the same ones from its controller):
 *   GET /socket-mesh/port      { port }, always open: workers given { url } discover the socket port here
 *   GET /socket-mesh/nodes     the registry                        (bearer token when httpAuth is set)
 *   GET /socket-mesh/topology  workers, instances, links (JSON)    (bearer token when httpAuth is set)
 *   GET /socket-mesh/events    the same as Server-Sent Events, one 'topology' event per change (token)
 *   GET /socket-mesh/ui        the topology page; /socket-mesh/ui.js its script (static, no data: open)
 */
export class ManagerHttp {
  readonly feed: TopologyFeed;
  private readonly streams = new Set<ServerResponse>();

  constructor(
    private readonly source: ManagerHttpSource,
    readonly auth: ManagerHttpAuth | undefined,
  ) {
    this.feed = new TopologyFeed(source);
  }

  /** `streams: false` on a server whose idle timeout would cut an event stream (the socket port). */
  handle(req: IncomingMessage, res: ServerResponse, { streams = true }: { streams?: boolean } = {}): void {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 404, { error: 'not found' });
    switch (path) {
      case '/socket-mesh/port':
        return json(res, 200, { port: this.source.port() });
      case '/socket-mesh/ui':
      case '/socket-mesh/ui.js': {
        const asset = pageAsset(path.endsWith('.js') ? 'script' : 'page');
        res.writeHead(200, { ...PAGE_HEADERS, 'content-type': asset.contentType }).end(asset.body);
        return;
      }
      case '/socket-mesh/nodes':
      case '/socket-mesh/topology':
      case '/socket-mesh/events':
        if (!isAuthorized(this.auth, req.headers.authorization)) {
          res.setHeader('www-authenticate', 'Bearer realm="socket-mesh"');
          return json(res, 401, { error: 'unauthorized' });
        }
        if (path === '/socket-mesh/nodes') return json(res, 200, this.source.nodes());
        if (path === '/socket-mesh/topology') return json(res, 200, this.feed.view());
        if (streams) return this.stream(req, res);
    }
    json(res, 404, { error: 'not found' });
  }

  /** Ends every open event stream (before the servers close, which would wait for them). */
  close(): void {
    this.feed.close();
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    this.streams.add(res);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const unsubscribe = this.feed.subscribe({
      next: (view) => res.write(`event: topology\ndata: ${JSON.stringify(view)}\n\n`),
      end: () => res.end(),
    });
    req.socket.setTimeout(0);
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(res);
    });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
