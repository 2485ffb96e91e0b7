// NodeA: waits for both NodeB instances, makes the README's calls, prints one NEST_RESULT line
// and closes. It must then exit by itself: a handle left open would keep it running.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MeshClient, MeshError, OnMeshEvent, SocketMeshModule, type MeshEventPayload } from 'socket-mesh';
import { managerPort, privateKey, publicKey } from './keys.js';

interface NodeBApi {
  status(payload: { test: string }): Promise<{ status: string; pid: number }>;
  collect(payload: { test: string }): Promise<{ command: string; pid: number }[]>;
}

@Injectable()
export class Caller {
  private readonly linked = new Set<string>();
  private onLinked: (() => void) | undefined;
  readonly bothLinked = new Promise<void>((resolve) => (this.onLinked = resolve));

  constructor(readonly mesh: MeshClient) {}

  @OnMeshEvent('peer.connected')
  peerConnected({ worker, variant }: MeshEventPayload): void {
    if (worker === 'NodeB') this.linked.add(variant);
    if (this.linked.size >= 2) this.onLinked?.();
  }
}

@Module({
  imports: [
    SocketMeshModule.forWorker('NodeA', {
      manager: { host: '127.0.0.1', port: managerPort },
      connect: ['NodeB'],
      publicKey,
      privateKey,
    }),
  ],
  providers: [Caller],
})
export class NodeAModule {}

const app = await NestFactory.createApplicationContext(NodeAModule, { logger: ['error', 'warn'] });
const caller = app.get(Caller);
const deadline = setTimeout(() => {
  console.error('NodeA: the two NodeB links did not come up in 20 s');
  process.exit(1);
}, 20_000);
await caller.bothLinked;
clearTimeout(deadline);

const mesh = caller.mesh;
const balanced: number[] = [];
for (let i = 0; i < 4; i++) balanced.push((await mesh.call<{ pid: number }>('NodeB', 'status', { test: 'data' })).pid);
const collect = await mesh.call<{ command: string; pid: number }[]>('NodeB', 'collect', { test: 'data' });
const proxy = await mesh.node<NodeBApi>('NodeB').status({ test: 'proxy' });
let unknown = 'no error';
try {
  await mesh.call('NodeB', 'nope', {});
} catch (err) {
  unknown = err instanceof MeshError ? err.code : String(err);
}
let bigint = 'no error';
try {
  await mesh.call('NodeB', 'status', { test: 1n });
} catch (err) {
  bigint = err instanceof MeshError ? err.code : String(err);
}

console.log(`NEST_RESULT ${JSON.stringify({ balanced, collect, proxy, unknown, bigint })}`);
await app.close();
