import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as EngineIoClient from 'engine.io-client';
import { isSealedFrameMessage } from './frame-parser.js';

// The CommonJS copy, the one socket.io-client is loaded from (lazy-socket-io.ts says why).
const { NodeWebSocket } = createRequire(import.meta.url)('engine.io-client') as typeof EngineIoClient;
type NodeWebSocket = EngineIoClient.NodeWebSocket;
type RawData = Parameters<NodeWebSocket['doWrite']>[1];

/**
 * engine.io-client's WebSocket transport (Node, `ws`), except that a message holding one of our
 * sealed frames goes out with an all-zero masking key, which `ws` sends without masking it
 * (no copy of the frame, no XOR pass over it) and the receiving `ws` does not unmask.
 *
 * RFC 6455 masks client frames so that a script in a browser cannot put bytes of its choosing
 * on the wire, where a proxy that does not understand WebSocket could mistake them for HTTP
 * (§10.3). A sealed frame's bytes after its tag are ChaCha20-Poly1305 ciphertext: nobody can
 * choose them without the session key, so the mask adds nothing there. Everything else (the
 * handshake before the keys are proven, engine.io's pongs, the close) keeps a random key.
 */
export class SealedFrameWebSocket extends NodeWebSocket {
  /** True only while ws frames a sealed frame's message: `ws` asks for the key synchronously. */
  private zeroMask = false;

  override createSocket(uri: string, protocols: string | string[] | undefined, opts: Record<string, unknown>): unknown {
    return super.createSocket(uri, protocols, { ...opts, generateMask: this.generateMask });
  }

  override doWrite(packet: Parameters<NodeWebSocket['doWrite']>[0], data: RawData): void {
    this.zeroMask = isSealedFrameMessage(data);
    try {
      super.doWrite(packet, data);
    } finally {
      this.zeroMask = false;
    }
  }

  // A message `ws` queues (it never does without compression) is framed later, with a random key.
  private readonly generateMask = (mask: Buffer): void => {
    if (this.zeroMask) mask.fill(0);
    else randomMask(mask);
  };
}

/**
 * Random masking keys from a pool refilled 2,048 keys at a time, as `ws` does for its own: one
 * randomFillSync per key (a call into OpenSSL each) cost 5 % of a process holding 1,000 links,
 * in their heartbeats and handshakes alone.
 */
const maskPool = Buffer.alloc(8192);
let maskPoolAt = maskPool.length;

function randomMask(mask: Buffer): void {
  if (maskPoolAt === maskPool.length) {
    randomFillSync(maskPool);
    maskPoolAt = 0;
  }
  mask[0] = maskPool[maskPoolAt++]!;
  mask[1] = maskPool[maskPoolAt++]!;
  mask[2] = maskPool[maskPoolAt++]!;
  mask[3] = maskPool[maskPoolAt++]!;
}
