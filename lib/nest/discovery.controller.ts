import { Controller, Get, UseGuards } from '@nestjs/common';
import type { RegistryEntry } from '../core/manager/registry.js';
import { ManagerHost } from './manager.host.js';
import { MeshHttpAuthGuard } from './mesh-http-auth.guard.js';

/**
 * Served on the manager app's HTTP server: `GET /socket-mesh/port` tells workers given
 * `manager: { url }` the socket port; `GET /socket-mesh/nodes` lists the registry.
 */
@Controller('socket-mesh')
export class DiscoveryController {
  constructor(private readonly host: ManagerHost) {}

  @Get('port')
  port(): { port: number } {
    return { port: this.host.port };
  }

  @Get('nodes')
  @UseGuards(MeshHttpAuthGuard)
  nodes(): RegistryEntry[] {
    return this.host.nodes();
  }
}
