import { describe, expect, it } from '@jest/globals';
import { AdmissionQueue } from '../../lib/core/manager/admission-queue.js';

describe('AdmissionQueue (manager registrations per address)', () => {
  it('lets a burst of perSecond through at once, then paces the rest instead of refusing them', () => {
    const q = new AdmissionQueue(10, 5000);
    const waits = Array.from({ length: 30 }, () => q.reserve('10.0.0.1')!);
    expect(waits.slice(0, 10).every((w) => w === 0)).toBe(true);
    expect(waits[10]).toBeGreaterThan(0);
    expect(waits[29]).toBeGreaterThan(waits[10]!);
    expect(waits[29]).toBeLessThanOrEqual(2100); // 20 more at 10/s
    expect(q.reserve('10.0.0.2')).toBe(0); // per address
  });

  it('refuses clearly only beyond the bounded wait', () => {
    const q = new AdmissionQueue(10, 1000);
    let refused = 0;
    for (let i = 0; i < 40; i++) if (q.reserve('a') === undefined) refused++;
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(40 - 10);
  });

  it('admit() waits its turn', async () => {
    const q = new AdmissionQueue(20, 5000);
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 25 }, () => q.admit('a')));
    expect(results.every(Boolean)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200); // 5 beyond the burst at 20/s
    expect(q.queued).toBe(0);
  });
});
