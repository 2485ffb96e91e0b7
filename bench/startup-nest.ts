/** The two Nest start-ups of startup-child.ts: a bare application context, and one with a socket-mesh worker. */
import 'reflect-metadata';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

export async function startNest(
  withWorker: boolean,
  manager: { host: string; port: number },
  keys: { publicKey: string; privateKey: string },
  indexUrl: string,
): Promise<{ doneMs: number; close(): Promise<void> }> {
  let registeredAt = 0;
  let registered: () => void = () => undefined;
  const imports: DynamicModule[] = [];
  const providers: unknown[] = [];
  if (withWorker) {
    const { SocketMeshModule, Balanced, OnMeshEvent } = (await import(indexUrl)) as typeof import('../lib/index.js');
    @Injectable()
    class Starter {
      @Balanced()
      ping() {
        return 'pong';
      }

      @OnMeshEvent('connected')
      connected() {
        registeredAt ||= performance.now();
        registered();
      }
    }
    imports.push(SocketMeshModule.forWorker('Starter', { manager, allow: [], advertiseHost: '127.0.0.1', ...keys }));
    providers.push(Starter);
  }
  @Module({ imports, providers: providers as never[] })
  class AppModule {}
  const isRegistered = new Promise<void>((resolve) => (registered = resolve));
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
  const readyAt = performance.now();
  if (withWorker) await isRegistered;
  return { doneMs: withWorker ? registeredAt : readyAt, close: () => app.close() };
}
