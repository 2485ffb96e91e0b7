import { describe, expect, it } from '@jest/globals';
import { mergeTopologies } from '../../lib/core/node/manager-set.js';
import type { CommandTable } from '../../lib/core/command-spec.js';
import type { PeerInfo } from '../../lib/core/protocol.js';

const peer = (worker: string, variant: string, host = '198.18.0.1'): PeerInfo => ({
  worker,
  variant,
  host,
  port: 4000,
  commands: Object.create(null) as CommandTable,
});

describe('mergeTopologies (several managers)', () => {
  it('one manager: its topology as is', () => {
    const t = { peers: [peer('NodeB', 'b1')], denied: ['NodeC'] };
    expect(mergeTopologies([t])).toBe(t);
  });

  it('a peer listed by any manager is in; a variant listed twice appears once', () => {
    const merged = mergeTopologies([
      { peers: [peer('NodeB', 'b1'), peer('NodeB', 'b2')], denied: [] },
      { peers: [peer('NodeB', 'b2'), peer('NodeB', 'b3')], denied: [] },
    ]);
    expect(merged.peers.map((p) => p.variant).sort()).toEqual(['b1', 'b2', 'b3']);
  });

  it('a worker is denied only while no manager lists an instance of it', () => {
    expect(
      mergeTopologies([
        { peers: [], denied: ['NodeC'] },
        { peers: [], denied: [] },
      ]).denied,
    ).toEqual(['NodeC']);
    expect(
      mergeTopologies([
        { peers: [], denied: ['NodeC'] },
        { peers: [peer('NodeC', 'c1')], denied: [] },
      ]).denied,
    ).toEqual([]);
  });

  it('no manager has spoken yet: nothing', () => {
    expect(mergeTopologies([])).toEqual({ peers: [], denied: [] });
  });
});
