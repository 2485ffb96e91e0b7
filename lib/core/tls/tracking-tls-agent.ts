import type { Agent } from 'node:https';
import type { Socket } from 'node:net';
import { OpenedConnections, type LinkAgent } from '../connection-tracker.js';

type TlsLinkAgent = Agent & LinkAgent;
let AgentClass: (new (connectTimeout?: number) => TlsLinkAgent) | undefined;

/**
 * The HTTPS agent of one outgoing link in TLS mode: TrackingAgent's connection tracking, and no
 * TLS session cache, so every connection verifies the other side's certificate and name again
 * (a resumed session skips `checkServerIdentity`). The class is defined on first use: node:https
 * is loaded only by processes that use TLS.
 */
export function createTrackingTlsAgent(connectTimeout = 2000): TlsLinkAgent {
  AgentClass ??= class TrackingTlsAgent extends process.getBuiltinModule('node:https').Agent implements LinkAgent {
    private readonly opened: OpenedConnections;

    constructor(timeout = 2000) {
      super({ maxCachedSessions: 0 });
      this.opened = new OpenedConnections(timeout);
    }

    override createConnection(...args: Parameters<Agent['createConnection']>): ReturnType<Agent['createConnection']> {
      // https.Agent's createConnection(port, host, options) takes the options object first too.
      return this.opened.dial(args, (options) => super.createConnection(options as never) as unknown as Socket) as ReturnType<
        Agent['createConnection']
      >;
    }

    destroyAll(): void {
      this.opened.destroyAll();
      this.destroy();
    }
  };
  return new AgentClass(connectTimeout);
}
