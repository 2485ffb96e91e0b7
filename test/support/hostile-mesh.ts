/**
 * The mesh the security suites attack, in the Jest process: a Manager holding workers to a
 * schema, NodeB (allow NodeA, command `status`) and NodeA (connect NodeB), all on loopback,
 * ports 0, small limits so the limits can be hit cheaply. Each process logs into its own
 * CapturingLogger.
 */
import { expect } from '@jest/globals';
import type { LocalCommand } from '../../lib/core/command-spec.js';
import { deriveMeshKeys, type MeshKeys } from '../../lib/core/crypto/mesh-keys.js';
import { Manager } from '../../lib/core/manager.js';
import { MeshNode } from '../../lib/core/mesh-node.js';
import type { MeshSchema } from '../../lib/core/schema.js';
import { CapturingLogger, offTestStack } from './hostile-client.js';
import { TEST_KEYS } from './mesh-process.js';
import { waitForEmit } from './wait-for.js';

export const HANDSHAKE_TIMEOUT = 300;
export const MAX_FRAME = 4096;
/** What socket.io itself accepts in one packet on our servers (see MeshServer / Manager). */
export const MAX_HTTP_BUFFER = MAX_FRAME + 1024;

export const SCHEMA: MeshSchema = {
  NodeA: { _connect: ['NodeB'] },
  NodeB: { _allow: ['NodeA'], _commands: { _balanced: { status: () => ({ status: 'ok' }) } } },
  NodeC: { _allow: ['NodeA'] },
};

let statusRuns = 0;
/** How many times NodeB's `status` handler ran, so a test can prove a request never reached it. */
export function statusCalls(): number {
  return statusRuns;
}

const statusCommand: LocalCommand = {
  name: 'status',
  kind: 'balanced',
  responds: false,
  queued: false,
  handler: (payload) => {
    statusRuns++;
    return { status: 'ok', echo: payload };
  },
};

export interface HostileMesh {
  keys: MeshKeys;
  manager: Manager;
  nodeA: MeshNode;
  nodeB: MeshNode;
  logs: { manager: CapturingLogger; nodeA: CapturingLogger; nodeB: CapturingLogger };
  managerUrl: string;
  meshUrl: string;
  managerPort: number;
  meshPort: number;
  /** Asserts a real NodeA -> NodeB call still works and the manager still lists both. */
  assertServing(tag?: unknown): Promise<void>;
  /** A new worker can still register with the manager (and leaves again). */
  assertRegistrationWorks(): Promise<void>;
  close(): Promise<void>;
}

let callCounter = 0;

export function workerOptions(
  manager: Manager,
  worker: string,
  logger: CapturingLogger,
  extra: Partial<ConstructorParameters<typeof MeshNode>[0]> = {},
) {
  return {
    worker,
    manager: { host: '127.0.0.1', port: manager.port },
    meshPort: 0,
    bindHost: '127.0.0.1',
    advertiseHost: '127.0.0.1',
    allow: [] as string[],
    connect: [] as string[],
    commands: [] as LocalCommand[],
    ...TEST_KEYS,
    logger,
    maxFrameSize: MAX_FRAME,
    handshakeTimeout: HANDSHAKE_TIMEOUT,
    timeout: 3000,
    drainTimeout: 500,
    // The suites open hundreds of connections a second from 127.0.0.1 on purpose.
    handshakesPerSecond: 1_000_000,
    ...extra,
  };
}

export async function startHostileMesh(): Promise<HostileMesh> {
  await offTestStack();
  const logs = { manager: new CapturingLogger(), nodeA: new CapturingLogger(), nodeB: new CapturingLogger() };
  const manager = new Manager({
    ...TEST_KEYS,
    port: 0,
    host: '127.0.0.1',
    discoveryPort: false,
    schema: SCHEMA,
    logger: logs.manager,
    handshakeTimeout: HANDSHAKE_TIMEOUT,
    maxFrameSize: MAX_FRAME,
    // The suites open hundreds of connections a second from 127.0.0.1 on purpose.
    registrationsPerSecond: 1_000_000,
  });
  await manager.ready();
  const nodeB = new MeshNode(
    workerOptions(manager, 'NodeB', logs.nodeB, { variant: 'NodeB-1', allow: ['NodeA'], commands: [statusCommand] }),
  );
  const nodeA = new MeshNode(workerOptions(manager, 'NodeA', logs.nodeA, { variant: 'NodeA-1', connect: ['NodeB'] }));
  const linked = waitForEmit(nodeA, 'peer.connected', 10_000, (p: { worker: string }) => p.worker === 'NodeB');
  await nodeB.start();
  await nodeA.start();
  await Promise.all([nodeA.ready(), nodeB.ready(), linked]);

  const assertServing = async (tag: unknown = ++callCounter) => {
    await expect(nodeA.call('NodeB', 'status', { tag }, { timeout: 3000 })).resolves.toEqual({ status: 'ok', echo: { tag } });
    const variants = manager
      .nodes()
      .map((n) => n.variant)
      .sort();
    expect(variants).toEqual(expect.arrayContaining(['NodeA-1', 'NodeB-1']));
    expect(nodeA.peers('NodeB').map((p) => p.variant)).toEqual(['NodeB-1']);
  };

  const assertRegistrationWorks = async () => {
    await offTestStack();
    const logger = new CapturingLogger();
    const probe = new MeshNode(
      workerOptions(manager, 'NodeC', logger, { variant: `NodeC-probe-${++callCounter}`, allow: ['NodeA'] }),
    );
    try {
      await probe.start();
      await probe.ready();
      expect(manager.nodes().some((n) => n.variant === probe.variant)).toBe(true);
    } finally {
      await probe.close();
    }
  };

  return {
    keys: deriveMeshKeys(TEST_KEYS.publicKey, TEST_KEYS.privateKey),
    manager,
    nodeA,
    nodeB,
    logs,
    managerUrl: `http://127.0.0.1:${manager.port}`,
    meshUrl: `http://127.0.0.1:${nodeB.server.port}`,
    managerPort: manager.port,
    meshPort: nodeB.server.port,
    assertServing,
    assertRegistrationWorks,
    async close() {
      await nodeA.close();
      await nodeB.close();
      await manager.close();
    },
  };
}

/**
 * Internals the leak checks read: how many engine.io clients a socket.io server holds, and the
 * mesh server's admitted links / the manager's sessions. Private fields, read on purpose: a leak
 * there is exactly what a flood of hostile connections would cause.
 */
export function serverLoad(mesh: HostileMesh): {
  meshClients: number;
  meshLinks: number;
  managerClients: number;
  managerSessions: number;
} {
  type WithIo = { io: { engine: { clientsCount: number } } };
  const server = mesh.nodeB.server as unknown as WithIo & { links: Set<unknown> };
  const manager = mesh.manager as unknown as WithIo & { sessions: Set<unknown> };
  return {
    meshClients: server.io.engine.clientsCount,
    meshLinks: server.links.size,
    managerClients: manager.io.engine.clientsCount,
    managerSessions: manager.sessions.size,
  };
}

/** Watches the process for unhandled rejections and uncaught exceptions while a suite runs. */
export function watchProcess(): { seen: string[]; stop(): void } {
  const seen: string[] = [];
  const onRejection = (reason: unknown) =>
    seen.push(`unhandledRejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  const onException = (err: Error) => seen.push(`uncaughtException: ${err.stack ?? String(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    seen,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
