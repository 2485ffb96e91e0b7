import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { CommandTable } from '../../lib/core/command-spec.js';
import type { PeerLinkState } from '../../lib/core/peer-link.js';
import { PeerGroup, type GroupMember } from '../../lib/core/node/peer-group.js';

/** An in-process stand-in for a PeerLink: the state changes and events a group follows. */
class Member extends EventEmitter implements GroupMember {
  state: PeerLinkState = 'connecting';
  hasRoom = true;
  constructor(
    readonly variant: string,
    public commands: CommandTable = Object.create(null) as CommandTable,
  ) {
    super();
  }
  up(): this {
    this.state = 'ready';
    this.emit('ready');
    return this;
  }
  down(): this {
    this.state = 'leaving';
    this.emit('down');
    return this;
  }
}

function groupOf(...variants: string[]): { group: PeerGroup<Member>; members: Member[] } {
  const group = new PeerGroup<Member>('NodeB');
  const members = variants.map((v) => new Member(v));
  for (const m of members) group.add(m);
  for (const m of members) m.up();
  return { group, members };
}

const picks = (group: PeerGroup<Member>, n: number, filter?: (v: string) => boolean, usable?: (m: Member) => boolean) =>
  Array.from({ length: n }, () => group.next(filter, usable)?.variant);

describe('PeerGroup rotation', () => {
  it('rotates round robin over the ready links', () => {
    const { group } = groupOf('a', 'b', 'c');
    expect(picks(group, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('only offers links that are ready: a link that comes up joins, one that drops leaves at once', () => {
    const group = new PeerGroup<Member>('NodeB');
    const a = new Member('a');
    const b = new Member('b');
    group.add(a);
    group.add(b);
    expect(group.next()).toBeUndefined();
    a.up();
    expect(picks(group, 2)).toEqual(['a', 'a']);
    b.up();
    expect(new Set(picks(group, 4))).toEqual(new Set(['a', 'b']));
    a.down();
    expect(picks(group, 3)).toEqual(['b', 'b', 'b']);
    expect(group.ready().map((m) => m.variant)).toEqual(['b']);
  });

  it('skips the variants a filter refuses', () => {
    const { group } = groupOf('a', 'b', 'c');
    expect(picks(group, 4, (v) => v !== 'b')).toEqual(['a', 'c', 'a', 'c']);
    expect(group.next((v) => v === 'zzz')).toBeUndefined();
  });

  it('passes over a full link for the next one with room, and returns the rotation pick when none has room', () => {
    const { group, members } = groupOf('a', 'b', 'c');
    members[1]!.hasRoom = false;
    const hasRoom = (m: Member) => m.hasRoom;
    expect(picks(group, 6, undefined, hasRoom)).toEqual(['a', 'c', 'c', 'a', 'c', 'c']);
    for (const m of members) m.hasRoom = false;
    const all = picks(group, 3, undefined, hasRoom);
    expect(new Set(all)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('stops following a removed link and forgets it', () => {
    const { group, members } = groupOf('a', 'b');
    expect(group.remove(members[0]!)).toBe(true);
    expect(group.remove(members[0]!)).toBe(false);
    expect(group.size).toBe(1);
    expect(members[0]!.listenerCount('ready')).toBe(0);
    members[0]!.up();
    expect(picks(group, 2)).toEqual(['b', 'b']);
  });

  it('a link replacing its variant takes its place; the old one is no longer followed', () => {
    const { group, members } = groupOf('a');
    const again = new Member('a');
    group.add(again);
    expect(group.size).toBe(1);
    expect(members[0]!.listenerCount('down')).toBe(0);
    expect(group.next()).toBeUndefined();
    again.up();
    expect(group.next()).toBe(again);
  });

  it('reports links still being dialed, within the filter', () => {
    const group = new PeerGroup<Member>('NodeB');
    group.add(new Member('a'));
    expect(group.hasConnecting()).toBe(true);
    expect(group.hasConnecting((v) => v !== 'a')).toBe(false);
  });

  it('finds a command spec on any instance and sees commands that change through update()', () => {
    const { group, members } = groupOf('a', 'b');
    expect(group.spec('ping')).toBeUndefined();
    group.update(
      members[1]!,
      (m) =>
        (m.commands = Object.assign(Object.create(null) as CommandTable, {
          ping: { kind: 'balanced', responds: false, queued: false },
        })),
    );
    expect(group.spec('ping')).toEqual({ kind: 'balanced', responds: false, queued: false });
    expect(group.spec('constructor')).toBeUndefined();
  });
});
