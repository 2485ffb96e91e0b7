import type { MeshLogger } from '../../lib/core/logger.js';

export interface RecordingLogger extends MeshLogger {
  lines: { level: string; message: string }[];
  at(level: string): string[];
}

/** Keeps what the code under test logs, for assertions; QUEUE_DEBUG=1 also prints it. */
export function recordingLogger(): RecordingLogger {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
    if (process.env.QUEUE_DEBUG === '1') console.log(`[${level}] ${message}`);
  };
  return {
    lines,
    at: (level) => lines.filter((l) => l.level === level).map((l) => l.message),
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

/** A promise the test settles by hand: holds a handler mid-job for as long as the test needs. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
