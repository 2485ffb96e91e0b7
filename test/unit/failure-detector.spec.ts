import { EventEmitter, once } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { CommandTable } from '../../lib/core/command-spec.js';
import { MeshError, MeshErrorCode } from '../../lib/core/errors.js';
import { CallRouter, type RoutedLink, type RouterDirectory } from '../../lib/core/node/call-router.js';
import { FailureDetector } from '../../lib/core/node/failure-detector.js';
import { PeerGroup } from '../../lib/core/node/peer-group.js';
import type { PeerLinkState } from '../../lib/core/peer-link.js';
import { PendingCalls, reportOutcome, type InstanceHealth } from '../../lib/core/pending-calls.js';
import { recordingLogger } from '../support/recording-logger.js';

describe('FailureDetector', () => {
  const clock = () => {
    let t = 1000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('opens after `threshold` consecutive timeouts, not before', () => {
    const c = clock();
    const d = new FailureDetector({ threshold: 2, coolDown: 1000, now: c.now });
    d.timeout('b1');
    expect(d.admit('b1')).toBe(true);
    d.timeout('b1');
    expect(d.isOpen('b1')).toBe(true);
    expect(d.admit('b1')).toBe(false);
    expect(d.admit('b2')).toBe(true);
  });

  it('an answer between timeouts resets the count', () => {
    const d = new FailureDetector({ threshold: 2 });
    d.timeout('b1');
    d.success('b1');
    d.timeout('b1');
    expect(d.isOpen('b1')).toBe(false);
  });

  it('half-open: after the cool-down exactly one probe goes; success closes, timeout reopens', () => {
    const c = clock();
    const d = new FailureDetector({ threshold: 2, coolDown: 1000, now: c.now });
    d.timeout('b1');
    d.timeout('b1');
    c.advance(999);
    expect(d.admit('b1')).toBe(false);
    c.advance(1);
    expect(d.admit('b1')).toBe(true); // the probe
    expect(d.admit('b1')).toBe(false); // nobody else while it runs
    d.timeout('b1');
    expect(d.isOpen('b1')).toBe(true);
    c.advance(1000);
    expect(d.admit('b1')).toBe(true);
    d.success('b1');
    expect(d.isOpen('b1')).toBe(false);
    expect(d.admit('b1')).toBe(true);
    expect(d.admit('b1')).toBe(true);
  });

  it('an inconclusive probe (disconnected) frees the probe slot; reset forgets', () => {
    const c = clock();
    const d = new FailureDetector({ threshold: 1, coolDown: 10, now: c.now });
    d.timeout('b1');
    c.advance(10);
    expect(d.admit('b1')).toBe(true);
    d.inconclusive('b1');
    expect(d.admit('b1')).toBe(true);
    d.reset('b1');
    expect(d.openCount()).toBe(0);
  });
});

const commands: CommandTable = Object.assign(Object.create(null) as CommandTable, {
  work: { kind: 'balanced', responds: false, queued: false },
});

/** In-process instance: answers at once, or "hangs" (a MESH_TIMEOUT, as PeerLink reports one). */
class Instance extends EventEmitter implements RoutedLink {
  state: PeerLinkState = 'ready';
  hasRoom = true;
  readonly commands = commands;
  hung = false;
  calls = 0;
  constructor(readonly variant: string) {
    super();
  }
  // Like PeerLink, it tells the health it is given how the call ended, before settling it.
  request(command: string, _payload?: string, _timeout?: number, _metadata?: string, health?: InstanceHealth): Promise<unknown> {
    this.calls++;
    if (this.hung) {
      const error = new MeshError(MeshErrorCode.TIMEOUT, `${this.variant} did not answer`, { command });
      reportOutcome(health, this.variant, error);
      return Promise.reject(error);
    }
    reportOutcome(health, this.variant, undefined);
    return Promise.resolve(this.variant);
  }
}

function setup(now: () => number, ...variants: string[]) {
  const group = new PeerGroup<Instance>('NodeB', new FailureDetector({ threshold: 2, coolDown: 1000, now }));
  const instances = variants.map((v) => new Instance(v));
  for (const i of instances) group.add(i);
  const changes = new EventEmitter();
  const directory: RouterDirectory<Instance> = {
    topologyReceived: true,
    group: (w) => (w === 'NodeB' ? group : undefined),
    isDenied: () => false,
    // As the real directory: resolves at the next change, or at the deadline.
    nextChange: (ms) =>
      once(changes, 'change', { signal: AbortSignal.timeout(ms) }).then(
        () => undefined,
        () => undefined,
      ),
  };
  const router = new CallRouter(directory, {
    worker: 'NodeA',
    connect: new Set(['NodeB']),
    timeout: 1000,
    logger: recordingLogger(),
    closing: () => false,
  });
  return { router, instances, group };
}

describe('CallRouter with the failure detector', () => {
  it('a hung instance costs its threshold of timeouts plus one probe per cool-down, then rotation skips it', async () => {
    let t = 0;
    const { router, instances } = setup(() => t, 'b1', 'b2');
    instances[1]!.hung = true;
    let failed = 0;
    for (let i = 0; i < 40; i++) await router.call('NodeB', 'work').catch(() => failed++);
    expect(failed).toBe(2);
    expect(instances[1]!.calls).toBe(2);
    t += 1000; // cool-down over: one probe goes, fails, reopens
    for (let i = 0; i < 40; i++) await router.call('NodeB', 'work').catch(() => failed++);
    expect(failed).toBe(3);
    expect(instances[1]!.calls).toBe(3);
    instances[1]!.hung = false; // answers again: the next probe closes the breaker
    t += 1000;
    for (let i = 0; i < 10; i++) await router.call('NodeB', 'work');
    expect(instances[1]!.calls).toBeGreaterThanOrEqual(8); // back in rotation (probe + about half of the rest)
  });

  it('an instance that reconnects starts back in rotation', async () => {
    const t = 0;
    const { router, instances, group } = setup(() => t, 'b1', 'b2');
    instances[1]!.hung = true;
    for (let i = 0; i < 10; i++) await router.call('NodeB', 'work').catch(() => undefined);
    expect(group.health.isOpen('b2')).toBe(true);
    instances[1]!.hung = false;
    instances[1]!.state = 'connecting';
    instances[1]!.emit('down');
    instances[1]!.state = 'ready';
    instances[1]!.emit('ready');
    expect(group.health.isOpen('b2')).toBe(false);
  });

  it('when every instance is out, a call still goes to one (no MESH_NO_PEER while links are up)', async () => {
    const t = 0;
    const { router, instances } = setup(() => t, 'b1');
    instances[0]!.hung = true;
    for (let i = 0; i < 3; i++) await router.call('NodeB', 'work').catch(() => undefined);
    await expect(router.call('NodeB', 'work')).rejects.toMatchObject({ code: MeshErrorCode.TIMEOUT });
  });
});

describe('PendingCalls tells the failure detector how each call ended', () => {
  const spy = () => {
    const heard: string[] = [];
    const health: InstanceHealth = {
      success: (v) => heard.push(`success ${v}`),
      timeout: (v) => heard.push(`timeout ${v}`),
      inconclusive: (v) => heard.push(`inconclusive ${v}`),
    };
    return { heard, health };
  };

  it('an answer (a result or a remote error) is a success; a timeout a timeout; a dropped link inconclusive', async () => {
    const { heard, health } = spy();
    const pending = new PendingCalls({ worker: 'NodeB', variant: 'b1' });
    const ok = pending.track(1, 'work', 10_000, health);
    const remote = pending.track(2, 'work', 10_000, health);
    const overloaded = pending.track(3, 'work', 10_000, health);
    pending.answer(1, true, 'value');
    pending.answer(2, false, { code: MeshErrorCode.REMOTE_ERROR, message: 'boom' });
    pending.answer(3, false, { code: MeshErrorCode.OVERLOADED, message: 'busy' });
    await expect(ok).resolves.toBe('value');
    await expect(remote).rejects.toMatchObject({ code: MeshErrorCode.REMOTE_ERROR });
    await expect(overloaded).rejects.toMatchObject({ code: MeshErrorCode.OVERLOADED });
    const timedOut = pending.track(4, 'work', 5, health);
    await expect(timedOut).rejects.toMatchObject({ code: MeshErrorCode.TIMEOUT });
    const dropped = pending.track(5, 'work', 10_000, health);
    const untold = pending.track(6, 'work', 10_000);
    pending.failAll('link closed');
    await expect(dropped).rejects.toMatchObject({ code: MeshErrorCode.PEER_DISCONNECTED });
    await expect(untold).rejects.toMatchObject({ code: MeshErrorCode.PEER_DISCONNECTED });
    pending.stop();
    expect(heard).toEqual(['success b1', 'success b1', 'inconclusive b1', 'timeout b1', 'inconclusive b1']);
  });
});
