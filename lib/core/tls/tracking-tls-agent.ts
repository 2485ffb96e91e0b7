import { Agent } from 'node:https';
import type { Socket } from 'node:net';
import { OpenedConnections, type LinkAgent } from '../connection-tracker.js';

/**
 * The HTTPS agent of one outgoing link in TLS mode: TrackingAgent's connection tracking, and no
 * TLS session cache, so every connection verifies the other side's certificate and name again
 * (a resumed session skips `checkServerIdentity`).
 */
export class TrackingTlsAgent extends Agent implements LinkAgent {
  private readonly opened: OpenedConnections;

  constructor(connectTimeout = 2000) {
    super({ maxCachedSessions: 0 });
    this.opened = new OpenedConnections(connectTimeout);
  }

  override createConnection(...args: Parameters<Agent['createConnection']>): ReturnType<Agent['createConnection']> {
    return this.opened.add(super.createConnection(...args) as Socket | undefined) as ReturnType<Agent['createConnection']>;
  }

  destroyAll(): void {
    this.opened.destroyAll();
    this.destroy();
  }
}
