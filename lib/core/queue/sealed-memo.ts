import type { SealContext } from './sealed-payload.js';

/** Entries remembered at most, and their total characters (sealed and plain text). */
const MAX_ENTRIES = 256;
const MAX_CHARS = 4 * 1024 * 1024;
/** A larger entry is not remembered: opening it again costs little next to its size. */
const MAX_ENTRY_CHARS = 256 * 1024;

interface Remembered {
  text: string;
  format: string;
  queue: string;
  jobId: string;
}

/**
 * What this process sealed lately, by the exact sealed string: its own worker reads the job back
 * within milliseconds, and a string equal to one it sealed itself, for the same queue, job id
 * and format, can only hold the text it sealed, so opening it again (AES-GCM, then checking the
 * tag) would prove nothing more. Anything else — changed, moved to another job, sealed by an
 * earlier run — is not found here and is opened and authenticated as before. An entry is
 * forgotten once read, and the oldest ones when the bounds are reached.
 */
export class SealedMemo {
  private readonly entries = new Map<string, Remembered>();
  private chars = 0;

  remember(sealed: string, text: string, format: string, { queue, jobId }: SealContext): void {
    const size = sealed.length + text.length;
    if (size > MAX_ENTRY_CHARS) return;
    this.entries.set(sealed, { text, format, queue, jobId });
    this.chars += size;
    while (this.entries.size > MAX_ENTRIES || this.chars > MAX_CHARS) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Remembered];
      this.entries.delete(oldest);
      this.chars -= oldest.length + entry.text.length;
    }
  }

  /** The text sealed as `sealed` for exactly this format, queue and job id, if remembered (and forgets it). */
  take(sealed: string, format: string, { queue, jobId }: SealContext): string | undefined {
    const entry = this.entries.get(sealed);
    if (!entry) return undefined;
    this.entries.delete(sealed);
    this.chars -= sealed.length + entry.text.length;
    return entry.format === format && entry.queue === queue && entry.jobId === jobId ? entry.text : undefined;
  }
}
