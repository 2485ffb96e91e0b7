import { describe, expect, it } from '@jest/globals';
import { entryOf, Registry, type RegisteredInstance } from '../../lib/core/manager/registry.js';
import type { CommandTable } from '../../lib/core/command-spec.js';

let port = 4000;
function instance(worker: string, variant: string, allow: string[] | 'anyNode', connect: string[]): RegisteredInstance {
  return {
    worker,
    variant,
    host: '127.0.0.1',
    port: ++port,
    allow,
    connect,
    commands: Object.create(null) as CommandTable,
    registeredAt: 0,
  };
}

const peerVariants = (registry: Registry, i: RegisteredInstance) =>
  registry
    .topologyFor(i)
    .peers.map((p) => p.variant)
    .sort();

describe('Registry.topologyFor', () => {
  it('lists a peer only when the caller connects to it and the peer allows the caller: rights are directional', () => {
    const registry = new Registry();
    const a = instance('NodeA', 'a1', [], ['NodeB']);
    const b = instance('NodeB', 'b1', ['NodeA'], []);
    registry.add(a);
    registry.add(b);
    expect(peerVariants(registry, a)).toEqual(['b1']);
    expect(registry.topologyFor(b)).toEqual({ peers: [], denied: [] });
  });

  it('names a worker in denied when it is in connect but its allow refuses the caller', () => {
    const registry = new Registry();
    const a = instance('NodeA', 'a1', [], ['NodeB', 'NodeC']);
    registry.add(a);
    registry.add(instance('NodeB', 'b1', ['NodeX'], []));
    registry.add(instance('NodeC', 'c1', 'anyNode', []));
    const topology = registry.topologyFor(a);
    expect(topology.peers.map((p) => p.variant)).toEqual(['c1']);
    expect(topology.denied).toEqual(['NodeB']);
  });

  it('lists every instance of a reachable worker, never the caller itself, and nothing outside connect', () => {
    const registry = new Registry();
    const a1 = instance('NodeA', 'a1', ['NodeA'], ['NodeA', 'NodeB']);
    registry.add(a1);
    registry.add(instance('NodeA', 'a2', ['NodeA'], []));
    registry.add(instance('NodeB', 'b1', 'anyNode', []));
    registry.add(instance('NodeB', 'b2', 'anyNode', []));
    registry.add(instance('NodeC', 'c1', 'anyNode', []));
    expect(peerVariants(registry, a1)).toEqual(['a2', 'b1', 'b2']);
    expect(registry.topologyFor(a1).denied).toEqual([]);
  });

  it('follows the registry: a removed instance is no longer offered, a replaced one is offered at its new address', () => {
    const registry = new Registry();
    const a = instance('NodeA', 'a1', [], ['NodeB']);
    registry.add(a);
    const b = instance('NodeB', 'b1', ['NodeA'], []);
    registry.add(b);
    const moved = { ...b, port: 9999 };
    expect(registry.add(moved)).toBe(b);
    expect(registry.topologyFor(a).peers.map((p) => p.port)).toEqual([9999]);
    registry.remove('b1');
    expect(registry.topologyFor(a).peers).toEqual([]);
  });

  it('shows an entry with command names and an ISO time, no handlers', () => {
    const i = {
      ...instance('NodeB', 'b1', 'anyNode', []),
      commands: { ping: { kind: 'balanced' as const, responds: false, queued: false } },
    };
    expect(entryOf(i)).toEqual({
      worker: 'NodeB',
      variant: 'b1',
      host: '127.0.0.1',
      port: i.port,
      allow: 'anyNode',
      connect: [],
      commands: ['ping'],
      registeredAt: new Date(0).toISOString(),
    });
  });
});
