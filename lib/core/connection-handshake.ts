import type { Socket as ServerSocket } from 'socket.io';
import { markAuthenticated } from './admission/connection-gate.js';
import { HandshakeInitiator, HandshakeResponder, type HandshakeIdentity, type SessionKeys } from './crypto/handshake.js';
import type { MeshKeys } from './crypto/mesh-keys.js';
import { MeshError, MeshErrorCode, type SerializedMeshError } from './errors.js';
import { Events } from './protocol.js';

export interface AcceptedHandshake {
  /** Who proved the keys, and its process (PROCESS_ID; '' when it named none). */
  peer: HandshakeIdentity & { proc: string };
  session: SessionKeys;
  /**
   * Frames that arrived between the proof and the caller's `await` resuming: the dialing side
   * writes right after its proof, often in the same TCP read. Hand them to the channel.
   */
  takeEarlyFrames(): unknown[];
}

/** Tells the other side why, then drops the whole connection, not just the namespace. */
export function refuseSocket(socket: ServerSocket, error: SerializedMeshError): void {
  // engine.io flushes its write buffer before closing, so the refusal arrives first.
  socket.emit(Events.DENY, error);
  socket.disconnect(true);
}

/**
 * Runs the responder side on a freshly connected server socket. The client's hello arrived
 * in socket.io's `auth`; we answer with our proof and wait for theirs. Rejects with
 * MESH_AUTH_FAILED (and drops the socket) on anything but a valid proof within `timeoutMs`.
 */
export function acceptHandshake(
  socket: ServerSocket,
  keys: MeshKeys,
  identity: HandshakeIdentity,
  timeoutMs: number,
): Promise<AcceptedHandshake> {
  return new Promise((resolve, reject) => {
    // One namespace per connection: when this socket goes (refused, a bad frame, or the client
    // leaving '/' with a DISCONNECT packet) the connection goes too. Otherwise it would stay open
    // without a namespace, where no handshake timer or frame check watches it any more.
    socket.once('disconnect', () => socket.conn.close());
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    let responder: HandshakeResponder;
    try {
      responder = new HandshakeResponder(keys, identity, auth?.hello);
    } catch (err) {
      const error = err instanceof MeshError ? err : new MeshError(MeshErrorCode.AUTH_FAILED, 'handshake: bad hello');
      refuseSocket(socket, error.toJSON());
      return reject(error);
    }
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(Events.PROOF, onProof);
      socket.off('disconnect', onDisconnect);
    };
    const fail = (error: MeshError) => {
      cleanup();
      refuseSocket(socket, error.toJSON());
      reject(error);
    };
    const onProof = (proof: unknown) => {
      try {
        const session = responder.onProof(proof);
        cleanup();
        markAuthenticated(socket.conn);
        const early: unknown[] = [];
        const hold = (frame: unknown) => early.push(frame);
        socket.on(Events.FRAME, hold);
        resolve({
          peer: responder.client,
          session,
          takeEarlyFrames: () => {
            socket.off(Events.FRAME, hold);
            return early;
          },
        });
      } catch (err) {
        fail(err as MeshError);
      }
    };
    const onDisconnect = () => {
      cleanup();
      // The dialer hangs up after our proof when it failed its check: almost always other keys.
      reject(
        new MeshError(
          MeshErrorCode.AUTH_FAILED,
          `handshake: '${responder.client.worker}' (unverified) hung up before proving the keys (usually: it holds another publicKey/privateKey)`,
        ),
      );
    };
    const timer = setTimeout(
      () => fail(new MeshError(MeshErrorCode.AUTH_FAILED, `handshake: not completed within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once(Events.PROOF, onProof);
    socket.once('disconnect', onDisconnect);
    socket.emit(Events.HELLO, responder.hello);
  });
}

/**
 * The dialing side, across reconnects: socket.io-client calls `auth` before every connection
 * attempt, so each attempt gets fresh nonces and a fresh ephemeral key.
 */
export class ClientHandshake {
  private initiator: HandshakeInitiator | undefined;

  constructor(
    private readonly keys: MeshKeys,
    private readonly identity: HandshakeIdentity,
  ) {}

  readonly auth = (cb: (data: object) => void): void => {
    this.initiator = new HandshakeInitiator(this.keys, this.identity);
    cb({ hello: this.initiator.hello });
  };

  /**
   * Verifies the hello of the callee `expected` names (a peer link's attempt): its result, or
   * the variant found at that address instead (another process holds the port now). Throws
   * MESH_AUTH_FAILED when it is not that worker's callee or does not prove the keys.
   */
  completeWithCallee(
    serverHello: unknown,
    expected: { worker: string; variant: string; host: string; port: number },
  ): ReturnType<HandshakeInitiator['onServerHello']> | { otherVariant: string } {
    const result = this.complete(serverHello);
    if (result.peer.role !== 'callee' || result.peer.worker !== expected.worker) {
      throw new MeshError(
        MeshErrorCode.AUTH_FAILED,
        `expected ${expected.worker} at ${expected.host}:${expected.port}, found ${result.peer.role} ${result.peer.worker}`,
      );
    }
    return result.peer.variant === expected.variant ? result : { otherVariant: result.peer.variant };
  }

  /** Verifies the server hello of the current attempt. Throws MESH_AUTH_FAILED. */
  complete(serverHello: unknown): ReturnType<HandshakeInitiator['onServerHello']> {
    if (!this.initiator) throw new MeshError(MeshErrorCode.AUTH_FAILED, 'handshake: server hello before our hello');
    const result = this.initiator.onServerHello(serverHello);
    this.initiator = undefined;
    return result;
  }
}
