import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { MeshClient, MeshError, OnMeshEvent, type MeshEventPayload } from '../../lib/index.js';
import type { CollectAnswer, NodeBApi } from '../node-b/node-b.api.js';

@Injectable()
export class PollerService implements OnModuleDestroy {
  private readonly logger = new Logger('NodeA');
  private readonly stopped = new AbortController();
  private polling = false;
  private seq = 0;

  constructor(private readonly mesh: MeshClient) {}

  // Start on the first NodeB link instead of guessing how long start-up takes. Instances that
  // join later enter the rotation by themselves.
  @OnMeshEvent('peer.connected')
  onPeerConnected({ worker, variant }: MeshEventPayload): void {
    this.logger.log(`linked to ${worker} ${variant}`);
    if (worker === 'NodeB' && !this.polling) {
      this.polling = true;
      void this.poll();
    }
  }

  // Runs before the mesh module closes (Nest destroys the importing module first): stop calling
  // while the link is still up, so shutdown does not show up as failed calls.
  onModuleDestroy(): void {
    this.stopped.abort();
  }

  private async poll(): Promise<void> {
    const nodeB = this.mesh.node<NodeBApi>('NodeB');
    while (!this.stopped.signal.aborted) {
      await this.attempt('balanced status', async () => {
        // The typed proxy: same as mesh.call('NodeB', 'status', ...), checked by the compiler.
        const { status, variant } = await nodeB.status({ test: 'data' });
        return `${status} (answered by ${variant})`;
      });
      await this.attempt('broadcast collect', async () => {
        const answers = await this.mesh.call<CollectAnswer[]>('NodeB', 'collect', { test: 'data' });
        return answers.map((a) => `${a.variant}: ${a.command}`).join(', ');
      });
      const seq = ++this.seq;
      await this.attempt('queued ingest', async () => {
        const { queued } = await this.mesh.call<{ queued: number }>('NodeB', 'ingest', { seq });
        return `#${seq} stored by ${queued} instance(s)`;
      });
      // Pace, not synchronisation: one round a second keeps the output readable.
      await delay(1000, undefined, { signal: this.stopped.signal }).catch(() => undefined);
    }
  }

  // A failed call is reported by its stable code (MESH_NO_PEER, MESH_TIMEOUT, ...); the loop goes on.
  private async attempt(label: string, call: () => Promise<string>): Promise<void> {
    try {
      this.logger.log(`${label} → ${await call()}`);
    } catch (err) {
      if (this.stopped.signal.aborted) return;
      if (err instanceof MeshError) this.logger.warn(`${label} failed: ${err.code} ${err.message}`);
      else this.logger.error(`${label} failed: ${String(err)}`);
    }
  }
}
