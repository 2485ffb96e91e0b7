import { EventEmitter, once } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { CommandTable } from '../../lib/core/command-spec.js';
import { MeshError, MeshErrorCode } from '../../lib/core/errors.js';
import { CallRouter, type RoutedLink, type RouterDirectory } from '../../lib/core/node/call-router.js';
import { PeerGroup } from '../../lib/core/node/peer-group.js';
import type { PeerLinkState } from '../../lib/core/peer-link.js';
import { recordingLogger } from '../support/recording-logger.js';

const commands: CommandTable = Object.assign(Object.create(null) as CommandTable, {
  work: { kind: 'balanced', responds: false, queued: false },
  retried: { kind: 'balanced', responds: false, queued: false, retries: 2 },
});

/** An in-process instance: answers with its variant, or fails with the code it is told to. */
class Instance extends EventEmitter implements RoutedLink {
  state: PeerLinkState = 'ready';
  hasRoom = true;
  readonly commands = commands;
  failWith: MeshErrorCode | undefined;
  calls = 0;
  constructor(readonly variant: string) {
    super();
  }
  request(command: string): Promise<unknown> {
    this.calls++;
    if (this.failWith) return Promise.reject(new MeshError(this.failWith, `${this.variant} failed`, { command }));
    return Promise.resolve(this.variant);
  }
}

class Directory implements RouterDirectory<Instance> {
  topologyReceived = true;
  readonly groups = new Map<string, PeerGroup<Instance>>();
  group(worker: string) {
    return this.groups.get(worker);
  }
  isDenied(): boolean {
    return false;
  }
  readonly changes = new EventEmitter();
  // As the real directory: resolves at the next change, or at the deadline.
  nextChange(ms: number): Promise<void> {
    return once(this.changes, 'change', { signal: AbortSignal.timeout(ms) }).then(
      () => undefined,
      () => undefined,
    );
  }
}

function setup(...variants: string[]) {
  const directory = new Directory();
  const group = new PeerGroup<Instance>('NodeB');
  const instances = variants.map((v) => new Instance(v));
  for (const i of instances) group.add(i);
  directory.groups.set('NodeB', group);
  const logger = recordingLogger();
  const router = new CallRouter(directory, {
    worker: 'NodeA',
    connect: new Set(['NodeB']),
    timeout: 1000,
    logger,
    closing: () => false,
  });
  return { router, instances, logger };
}

describe('CallRouter: balanced retries', () => {
  it('without retries, a disconnected instance fails the call', async () => {
    const { router, instances } = setup('b1', 'b2');
    instances[0]!.failWith = MeshErrorCode.PEER_DISCONNECTED;
    await expect(router.call('NodeB', 'work')).rejects.toMatchObject({ code: MeshErrorCode.PEER_DISCONNECTED });
  });

  it('retries MESH_PEER_DISCONNECTED on another instance', async () => {
    const { router, instances, logger } = setup('b1', 'b2', 'b3');
    instances[0]!.failWith = MeshErrorCode.PEER_DISCONNECTED;
    const answer = await router.call('NodeB', 'work', undefined, { retries: 1 });
    expect(answer === 'b2' || answer === 'b3').toBe(true);
    expect(instances[0]!.calls).toBe(1);
    expect(instances.reduce((n, i) => n + i.calls, 0)).toBe(2);
    expect(logger.at('debug').some((l) => l.includes('retrying') && l.includes('b1'))).toBe(true);
  });

  it('does not go back to an instance it already tried while another is untried', async () => {
    const { router, instances } = setup('b1', 'b2', 'b3');
    instances[0]!.failWith = MeshErrorCode.NO_PEER;
    instances[1]!.failWith = MeshErrorCode.PEER_DISCONNECTED;
    instances[2]!.failWith = MeshErrorCode.PEER_DISCONNECTED;
    await expect(router.call('NodeB', 'work', undefined, { retries: 2 })).rejects.toMatchObject({
      code: MeshErrorCode.PEER_DISCONNECTED,
    });
    // Three attempts, one on each instance: none was tried twice.
    expect(instances.map((i) => i.calls)).toEqual([1, 1, 1]);
  });

  it('stops after `retries` attempts and rejects with the last error', async () => {
    const { router, instances } = setup('b1', 'b2', 'b3');
    for (const i of instances) i.failWith = MeshErrorCode.PEER_DISCONNECTED;
    await expect(router.call('NodeB', 'work', undefined, { retries: 1 })).rejects.toMatchObject({
      code: MeshErrorCode.PEER_DISCONNECTED,
    });
    expect(instances.reduce((n, i) => n + i.calls, 0)).toBe(2);
  });

  it('never retries other errors (the command may have run)', async () => {
    const { router, instances } = setup('b1', 'b2');
    instances[0]!.failWith = MeshErrorCode.TIMEOUT;
    await expect(router.call('NodeB', 'work', undefined, { retries: 3 })).rejects.toMatchObject({ code: MeshErrorCode.TIMEOUT });
    expect(instances.map((i) => i.calls)).toEqual([1, 0]);
  });

  it("uses the command's own retries when the call sets none; the call's option wins", async () => {
    const { router, instances } = setup('b1', 'b2', 'b3');
    instances[0]!.failWith = MeshErrorCode.PEER_DISCONNECTED;
    instances[1]!.failWith = MeshErrorCode.PEER_DISCONNECTED;
    await expect(router.call('NodeB', 'retried')).resolves.toBe('b3');
    const fresh = setup('b1', 'b2');
    fresh.instances[0]!.failWith = MeshErrorCode.PEER_DISCONNECTED;
    await expect(fresh.router.call('NodeB', 'retried', undefined, { retries: 0 })).rejects.toMatchObject({
      code: MeshErrorCode.PEER_DISCONNECTED,
    });
    expect(fresh.instances[1]!.calls).toBe(0);
  });

  it('with one instance, retries the same one again', async () => {
    const { router, instances } = setup('b1');
    let failures = 1;
    const only = instances[0]!;
    const original = only.request.bind(only);
    only.request = (command: string) =>
      failures-- > 0 ? Promise.reject(new MeshError(MeshErrorCode.PEER_DISCONNECTED, 'x')) : original(command);
    await expect(router.call('NodeB', 'work', undefined, { retries: 1 })).resolves.toBe('b1');
  });

  it('keeps to only/exclude while retrying', async () => {
    const { router, instances } = setup('b1', 'b2', 'b3');
    instances[0]!.failWith = MeshErrorCode.PEER_DISCONNECTED;
    await expect(router.call('NodeB', 'work', undefined, { retries: 2, exclude: 'b2' })).resolves.toBe('b3');
    expect(instances[1]!.calls).toBe(0);
  });

  it('refuses a bad retries value with MESH_BAD_REQUEST before calling anyone', async () => {
    const { router, instances } = setup('b1');
    await expect(router.call('NodeB', 'work', undefined, { retries: -1 })).rejects.toMatchObject({
      code: MeshErrorCode.BAD_REQUEST,
    });
    await expect(router.call('NodeB', 'work', undefined, { retries: 1.5 })).rejects.toMatchObject({
      code: MeshErrorCode.BAD_REQUEST,
    });
    expect(instances[0]!.calls).toBe(0);
  });
});
