/**
 * Hosts for cross-host tests: Linux network namespaces that the test creates and removes
 * itself. One namespace plays the switch (a bridge), every host is a namespace joined to it by
 * a veth pair, with an address from 198.18.0.0/15 (RFC 2544 benchmarking range) only. Nothing
 * is routed out: the namespaces have no default route and the root namespace is not touched
 * beyond creating and deleting them.
 *
 * This kernel has no netem (delay and loss: test/fixtures/delay-proxy.ts); a partition is the host's port on the switch taken down (packets
 * vanish, no TCP reset: a silent partition), or a blackhole route to one peer.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface LabHost {
  /** The namespace name: pass it to the fixture starters as `netns`. */
  readonly ns: string;
  /** Its address on the lab network. */
  readonly ip: string;
  /** Its veth end on the switch (taken down for a partition). */
  readonly switchPort: string;
}

const IP = '/usr/sbin/ip';

function ip(args: string[]): void {
  execFileSync(IP, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why cross-host tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';
  const probe = `smprobe${randomBytes(3).toString('hex')}`;
  const add = spawnSync(IP, ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error || add.status !== 0) return `'ip netns add' failed: ${add.error?.message ?? add.stderr.trim()}`;
  spawnSync(IP, ['netns', 'del', probe]);
  return undefined;
}

/** A switch namespace and its hosts; `destroy()` removes every namespace it made. */
export class NetnsLab {
  readonly hosts: LabHost[] = [];
  private readonly id = randomBytes(2).toString('hex');
  private readonly switchNs = `sm${this.id}sw`;
  private readonly made: string[] = [];
  private subnet: number;

  /** `subnet` picks 198.18.<subnet>.0/24, so suites that run one after another never share addresses. */
  constructor(subnet = 0) {
    if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new Error(`NetnsLab: subnet must be 0-255, got ${subnet}`);
    this.subnet = subnet;
  }

  /** Creates the switch and `count` hosts named h1…hN, addressed 198.18.<subnet>.1…N. */
  create(count: number): LabHost[] {
    this.addNs(this.switchNs);
    ip(['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    for (let i = 1; i <= count; i++) this.addHost(i);
    return this.hosts;
  }

  /** Silent partition: the host's switch port goes down; its packets vanish without a reset. */
  partition(host: LabHost): void {
    ip(['-n', this.switchNs, 'link', 'set', host.switchPort, 'down']);
  }

  heal(host: LabHost): void {
    ip(['-n', this.switchNs, 'link', 'set', host.switchPort, 'up']);
  }

  /** Removes every namespace of the lab (their veths go with them). Safe to call twice. */
  destroy(): void {
    while (this.made.length > 0) spawnSync(IP, ['netns', 'del', this.made.pop()!]);
    this.hosts.length = 0;
  }

  private addNs(name: string): void {
    ip(['netns', 'add', name]);
    this.made.push(name);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
  }

  private addHost(index: number): void {
    const ns = `sm${this.id}h${index}`;
    const switchPort = `p${index}`;
    this.addNs(ns);
    // Created inside the switch namespace, then one end moved to the host: the root namespace never holds either end.
    ip(['-n', this.switchNs, 'link', 'add', switchPort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    ip(['-n', this.switchNs, 'link', 'set', switchPort, 'master', 'br0']);
    ip(['-n', this.switchNs, 'link', 'set', switchPort, 'up']);
    const address = `198.18.${this.subnet}.${index}`;
    ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    this.hosts.push({ ns, ip: address, switchPort });
  }
}
