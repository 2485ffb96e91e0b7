/**
 * The raw reference callee: plain socket.io (websocket transport) and BullMQ, doing what the
 * socket-mesh callee does without the mesh.
 * - balanced: a socket.io server here, `socket.on('status', (p, ack) => ack(...))`;
 * - broadcasts: a socket.io client joining the raw caller's server (`join`), answering
 *   `collect`, acknowledging `notify` on receipt, and queueing `ingest` in an in-process
 *   one-at-a-time queue;
 * - Redis: a BullMQ Worker (concurrency 1) on this instance's queue (`bullmq`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { CalleeMeter } from './callee-meter.js';
import { COMMAND } from './config.js';
import { serve, startChild } from './ipc.js';

export interface RawCalleeReady {
  port: number;
}

type Ack = (value?: unknown) => void;

const meter = new CalleeMeter();
const http = createServer((_req, res) => res.writeHead(404).end());
const server = new Server(http, { transports: ['websocket'], serveClient: false });
let client: ClientSocket | undefined;
let worker: Worker | undefined;
let redis: Redis | undefined;

server.on('connection', (socket) => {
  meter.connected();
  socket.on('disconnect', () => meter.disconnected());
  socket.on(COMMAND.balanced, (p: { test: string }, ack: Ack) => {
    meter.handled();
    ack({ status: `ok ${p.test}` });
  });
});

/** The in-process queue of the raw `ingest`: stored, acknowledged, run one at a time on a later tick. */
const waiting: unknown[] = [];
let running = false;
function enqueue(payload: unknown): void {
  waiting.push(payload);
  if (!running) runNext();
}
function runNext(): void {
  if (waiting.length === 0) {
    running = false;
    return;
  }
  running = true;
  waiting.shift();
  void Promise.resolve()
    .then(() => meter.handled())
    .finally(runNext);
}

startChild(async (): Promise<RawCalleeReady> => {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { port: (http.address() as AddressInfo).port };
});

serve(
  {
    ...meter.handlers(),
    /** Connects to the raw caller's broadcast server. */
    join: ({ port }: { port: number }) =>
      new Promise<void>((resolve, reject) => {
        const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
        client = socket;
        socket.on(COMMAND.responding, (p: { test: string }, ack: Ack) => {
          meter.handled();
          ack({ command: p.test });
        });
        socket.on(COMMAND.plain, (_p: unknown, ack: Ack) => {
          ack();
          meter.handled();
        });
        socket.on(COMMAND['queued-memory'], (p: unknown, ack: Ack) => {
          enqueue(p);
          ack();
        });
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      }),
    /** Runs this instance's BullMQ worker. */
    bullmq: async ({ queue, prefix, host, port }: { queue: string; prefix: string; host: string; port: number }) => {
      redis = new Redis({ host, port, maxRetriesPerRequest: null });
      worker = new Worker(
        queue,
        async () => {
          meter.handled();
        },
        { connection: redis, concurrency: 1, prefix },
      );
      worker.on('error', (err) => console.error(`[bench] raw BullMQ worker: ${err.message}`));
      await worker.waitUntilReady();
    },
  },
  async () => {
    client?.disconnect();
    await worker?.close();
    await redis?.quit();
    await new Promise<void>((resolve) => void server.close(() => resolve()));
    if (http.listening) await new Promise<void>((resolve) => http.close(() => resolve()));
  },
);
