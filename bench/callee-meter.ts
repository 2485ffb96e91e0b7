/**
 * What a callee process counts for the runner: handler runs and its own CPU time between two
 * marks, the time of its last handler run (queued rows: end-to-end), its connections and RSS.
 * Both callee kinds (socket-mesh and raw) use it the same way, so their numbers compare.
 */
import { type Memory, monotonicUs, nowEpochMs, settledMemory, sleep, waitUntil } from './config.js';
import type { Handlers } from './ipc.js';

export interface CalleeReport {
  /** Handler runs since the last mark. */
  handled: number;
  /** user + system CPU since the last mark, µs. */
  cpuUs: number;
  /** Epoch ms of the last handler run since the mark (0: none). */
  lastHandledAt: number;
  /** From the mark to this report on the monotonic clock, µs (profiles). */
  window: { fromUs: number; toUs: number };
}

export class CalleeMeter {
  private handledCount = 0;
  private lastAt = 0;
  private cpuMark = process.cpuUsage();
  private markUs = monotonicUs();
  private connectionCount = 0;

  /** Call from every handler. */
  handled(): void {
    this.handledCount++;
    this.lastAt = nowEpochMs();
  }

  connected(): void {
    this.connectionCount++;
  }

  disconnected(): void {
    this.connectionCount--;
  }

  get connections(): number {
    return this.connectionCount;
  }

  /** mark, report, waitHandled, waitConnections, memory. */
  handlers(): Handlers {
    return {
      mark: () => {
        this.handledCount = 0;
        this.lastAt = 0;
        this.cpuMark = process.cpuUsage();
        this.markUs = monotonicUs();
      },
      report: (): CalleeReport => {
        const cpu = process.cpuUsage(this.cpuMark);
        const window = { fromUs: this.markUs, toUs: monotonicUs() };
        return { handled: this.handledCount, cpuUs: cpu.user + cpu.system, lastHandledAt: this.lastAt, window };
      },
      waitHandled: ({ n, timeoutMs }: { n: number; timeoutMs: number }) =>
        waitUntil(() => this.handledCount >= n, timeoutMs, `${n} handler runs (have ${this.handledCount})`),
      waitConnections: ({ n, timeoutMs }: { n: number; timeoutMs: number }) =>
        waitUntil(() => this.connectionCount >= n, timeoutMs, `${n} connections (have ${this.connectionCount})`),
      /** Memory after the connections settled and a full GC. */
      memory: async ({ settleMs }: { settleMs: number }): Promise<Memory> => {
        await sleep(settleMs);
        return settledMemory();
      },
    };
  }
}
