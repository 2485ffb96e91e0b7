import type { LinkReport, LinkState } from '../protocol.js';

/** The most links one report may list; a worker linked to more sends the first this many. */
export const MAX_REPORTED_LINKS = 4096;
const MAX_VARIANT_LENGTH = 256;

/**
 * The live links each registered instance last reported (Msg.LINKS), by its variant. Soft
 * state: kept only while the instance is registered, never persisted, rebuilt by the workers'
 * next reports after a manager restart.
 */
export class ReportedLinks {
  private readonly byVariant = new Map<string, LinkReport>();

  /** Returns whether it differs from what the instance reported before. */
  set(variant: string, report: LinkReport): boolean {
    const previous = this.byVariant.get(variant);
    if (previous && sameReport(previous, report)) return false;
    if (report.length === 0) return this.byVariant.delete(variant);
    this.byVariant.set(variant, report);
    return true;
  }

  /** The instance left or was replaced: returns whether it had reported links. */
  delete(variant: string): boolean {
    return this.byVariant.delete(variant);
  }

  get(variant: string): LinkReport | undefined {
    return this.byVariant.get(variant);
  }

  entries(): IterableIterator<[string, LinkReport]> {
    return this.byVariant.entries();
  }

  get size(): number {
    return this.byVariant.size;
  }
}

/** A report as a worker sent it, or undefined when it is not one (then it is ignored, not fatal). */
export function parseLinkReport(value: unknown): LinkReport | undefined {
  if (!Array.isArray(value) || value.length > MAX_REPORTED_LINKS) return undefined;
  const report: LinkReport = [];
  for (const item of value as unknown[]) {
    if (!Array.isArray(item) || item.length < 2) return undefined;
    const [variant, state] = item as unknown[];
    if (typeof variant !== 'string' || variant.length === 0 || variant.length > MAX_VARIANT_LENGTH) return undefined;
    if (!isLinkState(state)) return undefined;
    report.push([variant, state]);
  }
  return report;
}

const isLinkState = (value: unknown): value is LinkState => value === 'ready' || value === 'leaving';

function sameReport(a: LinkReport, b: LinkReport): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}
