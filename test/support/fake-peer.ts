/**
 * A fake mesh peer (or manager) for the dialer tests: a raw `ws` server speaking just enough
 * engine.io / socket.io to accept a dialer's CONNECT, then doing whatever the test scripts
 * (stall, send a huge message, send a forged plaintext refusal). It holds no keys.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export interface FakeConnection {
  ws: WebSocket;
  /** The dialer's offered WebSocket extensions (permessage-deflate, ...), or undefined. */
  extensions: string | undefined;
  /** ms since the fake started listening. */
  at: number;
  closed: Promise<{ code: number }>;
}

export type FakeScript = (connection: FakeConnection, index: number) => void;

export class FakePeer {
  readonly connections: FakeConnection[] = [];
  private readonly wss: WebSocketServer;
  private readonly started = Date.now();
  readonly listening: Promise<void>;

  constructor(script: FakeScript) {
    // Compression offered by the server side: a dialer must not accept it.
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
    this.listening = new Promise((resolve) => this.wss.once('listening', () => resolve()));
    this.wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      ws.on('error', () => undefined);
      const connection: FakeConnection = {
        ws,
        extensions: req.headers['sec-websocket-extensions'],
        at: Date.now() - this.started,
        closed: new Promise((resolve) => ws.once('close', (code: number) => resolve({ code }))),
      };
      const index = this.connections.push(connection) - 1;
      // engine.io open packet; socket.io CONNECT answered as a server would.
      ws.send(
        JSON.stringify({ sid: `fake${index}`, upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6 }).replace(
          /^/,
          '0',
        ),
      );
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const text = isBinary ? '' : data.toString('utf8');
        if (text === '2') ws.send('3');
        if (text.startsWith('40')) {
          ws.send(`40${JSON.stringify({ sid: `s${index}` })}`);
          script(connection, index);
        }
      });
    });
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
