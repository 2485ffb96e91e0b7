import type { CommandTable } from './command-spec.js';
import type { SerializedMeshError } from './errors.js';

/**
 * Messages inside sealed frames. Each is a JSON array whose first element is its type, so the
 * hot path (requests and responses) carries no field names. A frame holds a batch of messages:
 * `[msg, msg, ...]`, which lets a busy connection seal and send many messages at once.
 */
export const Msg = {
  /** [REQUEST, id, command | [command, metadata], payload?] caller -> callee; no metadata means {} */
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
} as const;

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

export type RequestMessage = [typeof Msg.REQUEST, number, string | [string, Record<string, string>], unknown?];
export type ResultMessage = [typeof Msg.RESULT, number, unknown?];
export type ErrorMessage = [typeof Msg.ERROR, number, SerializedMeshError];

/** Socket.io event names; short because they ride on every frame. */
export const Events = {
  HELLO: 'sm:hello',
  PROOF: 'sm:proof',
  DENY: 'sm:deny',
  FRAME: 'f',
} as const;
