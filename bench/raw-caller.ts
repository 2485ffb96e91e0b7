/**
 * The raw reference caller: plain socket.io and BullMQ driving the load of `caller.ts`.
 * - balanced: a socket.io client (websocket transport) to raw callee #1, `emitWithAck('status')`;
 * - broadcasts: this process runs a socket.io server the raw callees join as clients, and calls
 *   `io.timeout(ms).emitWithAck(event, payload)`, which resolves with every client's ack;
 * - queued-redis: `Queue.add` on each instance's BullMQ queue (3 queues), awaited together.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { serveCaller } from './caller.js';
import { CALL_TIMEOUT_MS, COMMAND, PAYLOADS, waitUntil } from './config.js';
import { startChild } from './ipc.js';

export interface RawCallerReady {
  broadcastPort: number;
}

/** Retention as socket-mesh's Redis queues keep it; no job id, attempts or backoff (raw BullMQ defaults). */
const JOB_OPTIONS = { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } };

const http = createServer((_req, res) => res.writeHead(404).end());
const server = new Server(http, { transports: ['websocket'], serveClient: false });
let client: ClientSocket | undefined;
let redis: Redis | undefined;
let queues: Queue[] = [];

startChild(async (): Promise<RawCallerReady> => {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { broadcastPort: (http.address() as AddressInfo).port };
});

serveCaller(
  (target, payload) => {
    const value = PAYLOADS[payload];
    switch (target) {
      case 'balanced': {
        const socket = client;
        if (!socket) throw new Error('raw caller: not connected to the balanced callee');
        return () => socket.emitWithAck(COMMAND.balanced, value);
      }
      case 'queued-redis': {
        const all = queues;
        return () => Promise.all(all.map((queue) => queue.add(COMMAND['queued-redis'], value, JOB_OPTIONS)));
      }
      default: {
        const event = COMMAND[target];
        return () => server.timeout(CALL_TIMEOUT_MS).emitWithAck(event, value);
      }
    }
  },
  {
    /** Connects the balanced client to raw callee #1's server. */
    connect: ({ port }: { port: number }) =>
      new Promise<void>((resolve, reject) => {
        client = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
        client.once('connect', () => resolve());
        client.once('connect_error', reject);
      }),
    waitClients: ({ n, timeoutMs }: { n: number; timeoutMs: number }) =>
      waitUntil(() => server.of('/').sockets.size === n, timeoutMs, `${n} raw callees joined`),
    bullmq: async ({ names, prefix, host, port }: { names: string[]; prefix: string; host: string; port: number }) => {
      redis = new Redis({ host, port });
      queues = names.map((name) => new Queue(name, { connection: redis!, prefix }));
      await Promise.all(queues.map((queue) => queue.waitUntilReady()));
    },
  },
  async () => {
    client?.disconnect();
    await Promise.all(queues.map((queue) => queue.close()));
    await redis?.quit();
    await new Promise<void>((resolve) => void server.close(() => resolve()));
  },
);
