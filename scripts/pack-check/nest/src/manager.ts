// The README's manager module, run as its own process.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SocketMeshModule } from 'socket-mesh';
import { managerPort, privateKey, publicKey } from './keys.js';

@Module({ imports: [SocketMeshModule.forManager({ port: managerPort, publicKey, privateKey })] })
export class ManagerModule {}

const app = await NestFactory.create(ManagerModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
console.log('MANAGER_READY');
