import { randomBytes } from 'node:crypto';

/**
 * Names this process to the nodes it links with (in the handshake): links between the same
 * two processes live and die together, so they share one heartbeat (node/link-liveness.ts).
 * Random per process, not the pid: pids repeat across hosts and restarts.
 */
export const PROCESS_ID = randomBytes(8).toString('hex');

/** What a PROCESS_ID looks like on the wire. */
export const PROCESS_ID_PATTERN = /^[0-9a-f]{16}$/;
