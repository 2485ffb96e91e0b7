/** Every default of both fronts (Nest module and plain API), the node and the manager, in one place. */
export const DEFAULTS = Object.freeze({
  /** Call timeout, ms, when neither the call nor the command sets one. */
  timeout: 10_000,
  /** Largest frame sent or accepted, bytes. */
  maxFrameSize: 1024 * 1024,
  /** The manager's discovery HTTP port (`GET /socket-mesh/port`), as the seed. */
  discoveryPort: 8765,
  /** The manager host of the plain API. */
  managerHost: '127.0.0.1',
  /** Handshake deadline for a connection dialing in, ms. */
  handshakeTimeout: 5000,
  /** Requests one caller instance may have running on a node at once. */
  maxInFlight: 4096,
  /** Calls a node may have waiting on one peer instance. */
  maxPending: 10_000,
  /** How long close() lets running requests finish, ms. */
  drainTimeout: 5000,
  /** A node's own mesh port: 0 picks a free one. */
  meshPort: 0,
  /** Registrations the manager accepts per second per remote address. */
  registrationsPerSecond: 100,
  /** New connections a worker's mesh port accepts per second per remote address. */
  handshakesPerSecond: 100,
  /** Connections that have not proven the keys yet, at once, per port (manager and mesh ports). */
  maxUnauthenticated: 256,
  /**
   * ms of silence from another process before a liveness ping (one per pair of processes,
   * node/link-liveness.ts): a node's value for the links it opens and its manager connections,
   * a manager's for its workers' connections.
   */
  heartbeatInterval: 2000,
  /** Links whose peer does not answer a ping within this many ms are dropped (silent partition: ≤ interval + timeout). */
  heartbeatTimeout: 2500,
  queue: Object.freeze({
    /** Memory queues: requests stored and unfinished per queue. */
    maxPending: 10_000,
    /** Redis queues: runs of a request whose handler throws, the first included. */
    attempts: 3,
    /** Redis queues: ms before the first retry, doubling at each further one. */
    backoff: 1000,
  }),
});
