import type { LogLevel, MeshLogger } from '../logger.js';
import type { OptionReader } from './option-reader.js';

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];
const LOGGER_METHODS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** The plain API's `logLevel` (default 'info') and `logger` options. */
export function readLogging(r: OptionReader): { logLevel: LogLevel; logger?: MeshLogger } {
  const logLevel = r.raw('logLevel') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) r.fail('logLevel', `one of ${LOG_LEVELS.join(', ')}`);
  const logger = r.raw('logger');
  if (logger === undefined) return { logLevel: logLevel as LogLevel };
  const methods = logger as Record<string, unknown> | null;
  if (typeof methods !== 'object' || methods === null || LOGGER_METHODS.some((m) => typeof methods[m] !== 'function')) {
    r.fail('logger', `an object with ${LOGGER_METHODS.join(', ')} methods`);
  }
  return { logLevel: logLevel as LogLevel, logger: logger as MeshLogger };
}
