import type { MeshLogger } from '../logger.js';
import { errorMessage } from './deadline.js';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const CONNECTION_MESSAGES =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|Stream isn't writeable|MaxRetriesPerRequest|max retries per request|Command timed out|not usable|socket closed|connect ETIMEDOUT/i;

/** True when `err` says Redis could not be reached, as opposed to Redis refusing a command. */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(errorMessage(err));
}

/**
 * One backend's view of Redis being reachable. Every connection (producer, workers, BullMQ's
 * blocking duplicates) reports the same outage, each reconnect attempt again: logging them all
 * would bury the one line that matters, so an outage is logged when it starts and when it ends.
 */
export class RedisOutage {
  private down = false;

  constructor(
    private readonly logger: MeshLogger,
    private readonly label: string,
  ) {}

  /** A connection failure starts (or continues) an outage; any other error is logged as it comes. */
  report(err: unknown, context: string): void {
    if (!isConnectionError(err)) {
      this.logger.error(`${context}: ${errorMessage(err)}`);
      return;
    }
    if (this.down) return;
    this.down = true;
    this.logger.warn(
      `${this.label}: Redis unreachable (${errorMessage(err)}); queued requests are refused until it answers again`,
    );
  }

  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info(`${this.label}: Redis reachable again`);
  }
}
