import { Agent } from 'node:http';
import { trackConnections, type LinkAgent } from '../connection-tracker.js';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { clientTlsOptions, type MeshTlsOptions } from './tls-options.js';

/** How one outgoing link dials: plain, or TLS with the name the other side's certificate must give. */
export interface LinkTransport {
  scheme: 'http' | 'https';
  agent: LinkAgent & Agent;
  /** socket.io-client options (key, cert, ca, rejectUnauthorized, checkServerIdentity): empty without TLS. */
  options: Partial<ManagerOptions & SocketOptions>;
}

/** `expected`: the worker being dialed, or the manager's name (TLS mode only). */
export function linkTransport(tls: MeshTlsOptions | undefined, expected: string): LinkTransport {
  if (!tls) return { scheme: 'http', agent: trackConnections(new Agent()), options: {} };
  return {
    scheme: 'https',
    // No TLS session cache: every connection verifies the other side's certificate and name
    // again (a resumed session skips checkServerIdentity). node:https loads only in TLS mode.
    agent: trackConnections(new (process.getBuiltinModule('node:https').Agent)({ maxCachedSessions: 0 })),
    // socket.io-client types key/cert/ca as strings; engine.io-client hands them to ws and node:tls, which take Buffers too.
    options: clientTlsOptions(tls, expected) as unknown as Partial<ManagerOptions & SocketOptions>,
  };
}
