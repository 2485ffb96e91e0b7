/** The small logger the core writes to; the Nest module adapts Nest's Logger onto it. */
export interface MeshLogger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

/** A console logger that drops messages below `level`; the plain API's default. */
export function createConsoleLogger(context: string, level: LogLevel = 'info'): MeshLogger {
  const min = LEVELS.indexOf(level);
  if (min < 0) throw new TypeError(`logLevel must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  const at = (lvl: LogLevel, sink: (line: string) => void) =>
    LEVELS.indexOf(lvl) >= min ? (m: string) => sink(`[socket-mesh] ${lvl.toUpperCase()} [${context}] ${m}`) : () => {};
  return {
    trace: at('trace', (l) => console.debug(l)),
    debug: at('debug', (l) => console.debug(l)),
    info: at('info', (l) => console.log(l)),
    warn: at('warn', (l) => console.warn(l)),
    error: at('error', (l) => console.error(l)),
  };
}

export const silentLogger: MeshLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};
