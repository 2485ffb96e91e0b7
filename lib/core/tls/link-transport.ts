import type { Agent } from 'node:http';
import { TrackingAgent, type LinkAgent } from '../connection-tracker.js';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { clientTlsOptions, type MeshTlsOptions } from './tls-options.js';
import { createTrackingTlsAgent } from './tracking-tls-agent.js';

/** How one outgoing link dials: plain, or TLS with the name the other side's certificate must give. */
export interface LinkTransport {
  scheme: 'http' | 'https';
  agent: LinkAgent & Agent;
  /** socket.io-client options (key, cert, ca, rejectUnauthorized, checkServerIdentity): empty without TLS. */
  options: Partial<ManagerOptions & SocketOptions>;
}

/** `expected`: the worker being dialed, or the manager's name (TLS mode only). */
export function linkTransport(tls: MeshTlsOptions | undefined, expected: string): LinkTransport {
  if (!tls) return { scheme: 'http', agent: new TrackingAgent(), options: {} };
  return {
    scheme: 'https',
    agent: createTrackingTlsAgent() as unknown as LinkAgent & Agent,
    // socket.io-client types key/cert/ca as strings; engine.io-client hands them to ws and node:tls, which take Buffers too.
    options: clientTlsOptions(tls, expected) as unknown as Partial<ManagerOptions & SocketOptions>,
  };
}
