import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { ManagerModule } from './manager.module.js';

const app = await NestFactory.create(ManagerModule);
// SIGTERM/SIGINT close the mesh cleanly (sockets, timers) before the process exits.
app.enableShutdownHooks();
// Loopback only: everything in this demo runs on one machine.
await app.listen(Number(process.env.MANAGER_HTTP_PORT) || 0, '127.0.0.1');

const httpPort = (app.getHttpServer() as { address(): AddressInfo }).address().port;
// Ask the manager for its socket port the same way a worker given `manager: { url }` would.
const response = await fetch(`http://127.0.0.1:${httpPort}/socket-mesh/port`);
const { port } = (await response.json()) as { port: number };

// One machine-readable line, so whoever started this process can hand the port to workers.
console.log(`SAMPLE_READY ${JSON.stringify({ role: 'manager', port, httpPort })}`);
