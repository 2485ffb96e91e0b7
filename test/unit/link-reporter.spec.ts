/**
 * The worker side of Msg.LINKS: changes close together leave as one report, no more than one
 * per interval; and the manager side's check of what arrives (a malformed report is ignored,
 * an unknown message type too: older and newer peers tolerate each other).
 */
import { describe, expect, it } from '@jest/globals';
import { MAX_REPORTED_LINKS, parseLinkReport, ReportedLinks } from '../../lib/core/manager/reported-links.js';
import { LinkReporter } from '../../lib/core/node/link-reporter.js';
import { encode, Msg, readManagerMessage, type LinkReport } from '../../lib/core/protocol.js';

describe('LinkReporter', () => {
  it('coalesces a burst into one report and spaces the next by the interval', async () => {
    const sent: { at: number; report: LinkReport }[] = [];
    let current: LinkReport = [];
    let onSent: (() => void) | undefined;
    const reporter = new LinkReporter(
      () => current,
      (report) => {
        sent.push({ at: performance.now(), report });
        onSent?.();
      },
      100,
    );
    const nextSend = () => new Promise<void>((resolve) => (onSent = resolve));
    try {
      let done = nextSend();
      for (let i = 0; i < 1000; i++) {
        current = [[`b${i}`, 'ready']];
        reporter.changed();
      }
      await done;
      expect(sent).toEqual([{ at: expect.any(Number), report: [['b999', 'ready']] }]);

      done = nextSend();
      current = [['b1', 'leaving']];
      reporter.changed();
      reporter.changed();
      await done;
      expect(sent).toHaveLength(2);
      expect(sent[1]!.report).toEqual([['b1', 'leaving']]);
      expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(95); // timer granularity
    } finally {
      reporter.close();
    }
  });

  it('sends nothing after close()', () => {
    const sent: LinkReport[] = [];
    const reporter = new LinkReporter(
      () => [],
      (r) => sent.push(r),
    );
    reporter.close();
    reporter.changed();
    expect(sent).toEqual([]);
  });
});

describe('link reports on the manager', () => {
  it('reads a LINKS message and checks its body', () => {
    const raw = JSON.parse(encode.links([['b1', 'ready']])) as unknown[];
    expect(readManagerMessage(raw)).toEqual([Msg.LINKS, [['b1', 'ready']]]);
    expect(
      parseLinkReport([
        ['b1', 'ready'],
        ['b2', 'leaving'],
      ]),
    ).toEqual([
      ['b1', 'ready'],
      ['b2', 'leaving'],
    ]);
    expect(parseLinkReport([])).toEqual([]);
    for (const bad of [
      undefined,
      {},
      [['b1']],
      [['b1', 'up']],
      [[1, 'ready']],
      [['', 'ready']],
      [['x'.repeat(257), 'ready']],
      Array.from({ length: MAX_REPORTED_LINKS + 1 }, (_, i) => [`b${i}`, 'ready']),
    ])
      expect(parseLinkReport(bad)).toBeUndefined();
  });

  it('ignores message types it does not know (a newer worker, an older manager)', () => {
    expect(readManagerMessage([99, { anything: true }])).toBeUndefined();
    expect(readManagerMessage(['links'])).toBeUndefined();
  });

  it('keeps the last report per instance and tells whether it changed', () => {
    const links = new ReportedLinks();
    expect(links.set('a1', [['b1', 'ready']])).toBe(true);
    expect(links.set('a1', [['b1', 'ready']])).toBe(false);
    expect(links.set('a1', [['b1', 'leaving']])).toBe(true);
    expect(links.set('a2', [])).toBe(false);
    expect(links.size).toBe(1);
    expect(links.set('a1', [])).toBe(true);
    expect(links.size).toBe(0);
    links.set('a1', [['b1', 'ready']]);
    expect(links.delete('a1')).toBe(true);
    expect(links.get('a1')).toBeUndefined();
  });
});
