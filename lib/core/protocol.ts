import type { CommandTable } from './command-spec.js';
import type { SerializedMeshError } from './errors.js';

/**
 * Messages inside sealed frames. Each is a JSON array whose first element is its type, so the
 * hot path (requests and responses) carries no field names. A frame holds a batch of messages:
 * `[msg, msg, ...]`, which lets a busy connection seal and send many messages at once.
 */
export const Msg = {
  /** [REQUEST, id, command, payload?] caller -> callee */
  REQUEST: 1,
  /** [RESULT, id, value?] callee -> caller; value omitted means `undefined` */
  RESULT: 2,
  /** [ERROR, id, SerializedMeshError] callee -> caller */
  ERROR: 3,
  /** [LEAVING] callee -> caller: draining, choose another instance from now on */
  LEAVING: 4,
  /** [WELCOME] callee -> caller: the link is admitted by the callee's `allow` */
  WELCOME: 5,
  /** [DENIED, SerializedMeshError] callee -> caller, then the socket closes */
  DENIED: 6,
  /** [PING] caller -> callee, worker <-> manager: the heartbeat of the links between two processes (node/link-liveness.ts) */
  PING: 7,
  /** [PONG] the answer to a PING */
  PONG: 8,
  /** [REGISTER, Registration] worker -> manager */
  REGISTER: 10,
  /** [REGISTERED, { variant, host }] manager -> worker */
  REGISTERED: 11,
  /** [TOPOLOGY, Topology] manager -> worker, a full snapshot after every change */
  TOPOLOGY: 12,
  /** [REFUSED, SerializedMeshError] manager -> worker, then the socket closes */
  REFUSED: 13,
  /** [UNREGISTER] worker -> manager: leaving on purpose, drop me from the registry now */
  UNREGISTER: 14,
  /**
   * [LINKS, LinkReport] worker -> manager: the peer instances it is linked to now, sent after a
   * change (coalesced) and after each registration. A manager that does not know it ignores it.
   */
  LINKS: 15,
} as const;

/** A link a worker holds to a peer: 'ready' (calls go through it) or 'leaving' (the peer drains). */
export type LinkState = 'ready' | 'leaving';

/** The peer instances a worker is linked to: `[variant, state]` each. */
export type LinkReport = Array<[variant: string, state: LinkState]>;

/** What a worker tells the manager about itself. */
export interface Registration {
  worker: string;
  variant: string;
  /** The address peers should dial; null lets the manager use the address it sees. */
  host: string | null;
  port: number;
  allow: string[] | 'anyNode';
  connect: string[];
  commands: CommandTable;
}

/** One reachable instance, as the manager describes it. */
export interface PeerInfo {
  worker: string;
  variant: string;
  host: string;
  port: number;
  commands: CommandTable;
}

export interface Topology {
  /** Every instance this worker may dial (its `connect` and their `allow` agree). */
  peers: PeerInfo[];
  /** Registered workers this one names in `connect` but whose `allow` refuses it. */
  denied: string[];
}

/**
 * Marks a sealed frame sealed with one free byte just before it, in the same buffer: the frame
 * parser writes its tag there and sends that view, instead of copying the frame.
 */
export const FRAME_HEADROOM: unique symbol = Symbol('socket-mesh.frame-headroom');
export type SealedFrame = Buffer & { [FRAME_HEADROOM]?: true };

/** Socket.io event names; short because they ride on every frame. */
export const Events = {
  HELLO: 'sm:hello',
  PROOF: 'sm:proof',
  DENY: 'sm:deny',
  /** manager -> worker, in clear before the HELLO: ms until its registration turn (admission queue) */
  WAIT: 'sm:wait',
  FRAME: 'f',
} as const;

// ---- Typed messages. Every sender encodes through `encode`, every receiver reads through the
// `read…` function of its role: the tuple layouts live here and nowhere else.

/** What the manager answers a registration with. */
export interface RegisteredInfo {
  variant: string;
  host: string;
}

/** The command slot is the name, or [name, metadata] when the caller sent metadata. */
/** The head: the command, or [command, metadata] , or [command, metadata | null, trace slot] (see telemetry/trace-slot.ts). */
export type RequestMessage = [typeof Msg.REQUEST, number, string | [string, unknown] | [string, unknown, unknown], unknown?];
export type ResultMessage = [typeof Msg.RESULT, number, unknown?];
/** The error comes from the peer: its fields are checked where it is turned into a MeshError. */
export type ErrorMessage = [typeof Msg.ERROR, number, unknown];
export type LeavingMessage = [typeof Msg.LEAVING];
export type WelcomeMessage = [typeof Msg.WELCOME];
export type PingMessage = [typeof Msg.PING];
export type PongMessage = [typeof Msg.PONG];
export type DeniedMessage = [typeof Msg.DENIED, Partial<SerializedMeshError> | undefined];
/** The registration comes from the network: `parseRegistration` checks it. */
export type RegisterMessage = [typeof Msg.REGISTER, unknown];
export type UnregisterMessage = [typeof Msg.UNREGISTER];
/** The report comes from the network: `parseLinkReport` checks it. */
export type LinksMessage = [typeof Msg.LINKS, unknown];
export type RegisteredMessage = [typeof Msg.REGISTERED, RegisteredInfo];
export type TopologyMessage = [typeof Msg.TOPOLOGY, Topology];
export type RefusedMessage = [typeof Msg.REFUSED, Partial<SerializedMeshError> | undefined];

/** What a callee (mesh server) receives from its callers. */
export type CalleeMessage = RequestMessage | PingMessage;
/** What a caller (peer link) receives from a callee. */
export type CallerMessage = ResultMessage | ErrorMessage | LeavingMessage | WelcomeMessage | DeniedMessage | PongMessage;
/** What the manager receives from a worker. */
export type ManagerMessage = RegisterMessage | UnregisterMessage | LinksMessage | PingMessage | PongMessage;
/** What a worker's manager link receives. */
export type WorkerMessage = RegisteredMessage | TopologyMessage | RefusedMessage | PingMessage | PongMessage;

/**
 * Encoders return the message as JSON text, ready for a frame. Payloads and values arrive
 * already encoded (`…Json`): a broadcast encodes its payload once for every instance.
 */
export const encode = {
  /** Without metadata the frame is exactly as before metadata existed (no metadata means {}). */
  request(id: number, command: string, payloadJson?: string, metadataJson?: string, traceJson?: string): string {
    const head =
      traceJson !== undefined
        ? `[${JSON.stringify(command)},${metadataJson ?? 'null'},${traceJson}]`
        : metadataJson === undefined
          ? JSON.stringify(command)
          : `[${JSON.stringify(command)},${metadataJson}]`;
    return payloadJson === undefined ? `[${Msg.REQUEST},${id},${head}]` : `[${Msg.REQUEST},${id},${head},${payloadJson}]`;
  },
  /** `valueJson` undefined means the value `undefined`. */
  result(id: number, valueJson?: string): string {
    return valueJson === undefined ? `[${Msg.RESULT},${id}]` : `[${Msg.RESULT},${id},${valueJson}]`;
  },
  error(id: number, error: SerializedMeshError): string {
    let json: string;
    try {
      json = JSON.stringify(error);
    } catch {
      // `details` the handler attached may not serialise; the code and message always do.
      json = JSON.stringify({ code: error.code, message: error.message, remoteName: error.remoteName });
    }
    return `[${Msg.ERROR},${id},${json}]`;
  },
  leaving(): string {
    return `[${Msg.LEAVING}]`;
  },
  welcome(): string {
    return `[${Msg.WELCOME}]`;
  },
  ping(): string {
    return `[${Msg.PING}]`;
  },
  pong(): string {
    return `[${Msg.PONG}]`;
  },
  denied(error: SerializedMeshError): string {
    return JSON.stringify([Msg.DENIED, error]);
  },
  register(registration: Registration): string {
    return JSON.stringify([Msg.REGISTER, registration]);
  },
  unregister(): string {
    return `[${Msg.UNREGISTER}]`;
  },
  links(report: LinkReport): string {
    return JSON.stringify([Msg.LINKS, report]);
  },
  registered(info: RegisteredInfo): string {
    return JSON.stringify([Msg.REGISTERED, info]);
  },
  topology(topology: Topology): string {
    return JSON.stringify([Msg.TOPOLOGY, topology]);
  },
  refused(error: SerializedMeshError): string {
    return JSON.stringify([Msg.REFUSED, error]);
  },
} as const;

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/** A request or a ping, or undefined for anything else (another kind, a malformed id or command name). */
export function readCalleeMessage(message: unknown[]): CalleeMessage | undefined {
  if (message[0] === Msg.PING) return [Msg.PING];
  if (message[0] !== Msg.REQUEST || !isId(message[1])) return undefined;
  const head = message[2];
  if (
    typeof head !== 'string' &&
    !(Array.isArray(head) && (head.length === 2 || head.length === 3) && typeof head[0] === 'string')
  )
    return undefined;
  return message as RequestMessage;
}

export function readCallerMessage(message: unknown[]): CallerMessage | undefined {
  switch (message[0]) {
    case Msg.RESULT:
    case Msg.ERROR:
      return isId(message[1]) ? (message as ResultMessage | ErrorMessage) : undefined;
    case Msg.LEAVING:
    case Msg.WELCOME:
    case Msg.PONG:
      return message as LeavingMessage | WelcomeMessage | PongMessage;
    case Msg.DENIED:
      return [Msg.DENIED, asErrorShape(message[1])];
    default:
      return undefined;
  }
}

export function readManagerMessage(message: unknown[]): ManagerMessage | undefined {
  if (message[0] === Msg.REGISTER) return message as RegisterMessage;
  if (message[0] === Msg.UNREGISTER) return [Msg.UNREGISTER];
  if (message[0] === Msg.LINKS) return [Msg.LINKS, message[1]];
  if (message[0] === Msg.PING || message[0] === Msg.PONG) return [message[0]];
  return undefined;
}

/** The manager is authenticated by the handshake: its registered/topology bodies are trusted. */
export function readWorkerMessage(message: unknown[]): WorkerMessage | undefined {
  switch (message[0]) {
    case Msg.REGISTERED:
      return message as RegisteredMessage;
    case Msg.TOPOLOGY:
      return message as TopologyMessage;
    case Msg.REFUSED:
      return [Msg.REFUSED, asErrorShape(message[1])];
    case Msg.PING:
    case Msg.PONG:
      return [message[0]];
    default:
      return undefined;
  }
}

function asErrorShape(value: unknown): Partial<SerializedMeshError> | undefined {
  return typeof value === 'object' && value !== null ? (value as Partial<SerializedMeshError>) : undefined;
}
