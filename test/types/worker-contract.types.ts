// Type tests, checked by `npm run build:all`: every `@ts-expect-error` line must be an error.
import { Injectable } from '@nestjs/common';
import { Balanced, Broadcast, command, defineWorker, type MeshClient, type MeshImplementation } from '../../lib/index.js';

export const NodeB = defineWorker('NodeB', {
  status: command.balanced<{ test: string }, { status: string }>(),
  collect: command.responds<{ test: string }, { command: string }>(),
  ingest: command.queued<{ id: number }>(),
  notify: command.broadcast<undefined>(),
});

@Injectable()
export class StatusService implements MeshImplementation<typeof NodeB> {
  @Balanced() status({ test }: { test: string }) {
    return { status: `ok ${test}` };
  }
  @Broadcast({ responds: true }) collect({ test }: { test: string }) {
    return { command: test };
  }
  @Broadcast({ queued: true }) async ingest(_item: { id: number }) {}
  @Broadcast() notify() {}
}

export class WrongService implements MeshImplementation<typeof NodeB> {
  // @ts-expect-error the answer must be { status: string }
  status() {
    return { status: 1 };
  }
  collect() {
    return { command: 'x' };
  }
  ingest() {}
  notify() {}
}

export async function caller(mesh: MeshClient): Promise<void> {
  const b = mesh.node(NodeB);
  const status: { status: string } = await b.status({ test: 'x' });
  const collected: { command: string }[] = await b.collect({ test: 'x' });
  const queued: { queued: number } = await b.ingest({ id: 1 });
  const delivered: { delivered: number } = await b.notify();
  void [status, collected, queued, delivered];
  // @ts-expect-error a responding broadcast answers with an array
  const notArray: { command: string } = await b.collect({ test: 'x' });
  // @ts-expect-error a queued broadcast answers { queued }
  const notAnswer: { status: string } = await b.ingest({ id: 1 });
  // @ts-expect-error the payload type is checked
  await b.status({ test: 1 });
  // @ts-expect-error the payload is required
  await b.status();
  // @ts-expect-error only declared commands exist
  await b.missing(); // eslint-disable-line @typescript-eslint/no-unsafe-call
  void [notArray, notAnswer];
}
