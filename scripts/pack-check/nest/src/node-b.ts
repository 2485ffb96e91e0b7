// The README's NodeB worker, run as its own process (start it twice).
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Balanced, Broadcast, SocketMeshModule } from 'socket-mesh';
import { managerPort, privateKey, publicKey } from './keys.js';

@Injectable()
export class StatusService {
  @Balanced() status({ test }: { test: string }) {
    return { status: `ok ${test}`, pid: process.pid };
  }
  @Broadcast({ responds: true }) collect({ test }: { test: string }) {
    return { command: test, pid: process.pid };
  }
}

@Module({
  imports: [
    SocketMeshModule.forWorker('NodeB', {
      manager: { host: '127.0.0.1', port: managerPort },
      allow: ['NodeA'],
      publicKey,
      privateKey,
    }),
  ],
  providers: [StatusService],
})
export class NodeBModule {}

const app = await NestFactory.createApplicationContext(NodeBModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
console.log('NODE_B_READY');
