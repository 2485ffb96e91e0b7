import { describe, expect, it } from '@jest/globals';
import type { LocalCommand } from '../../lib/core/command-spec.js';
import { Dispatcher, type ReplySink } from '../../lib/core/dispatcher.js';
import { MeshErrorCode } from '../../lib/core/errors.js';
import { encode, Msg, readCalleeMessage } from '../../lib/core/protocol.js';
import { createMemoryQueueBackend } from '../../lib/core/queue/memory-queue.js';
import { readJobTrace, readTraceSlot } from '../../lib/core/telemetry/trace-slot.js';
import { recordingLogger } from '../support/recording-logger.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('trace slot on the wire', () => {
  it('is a third head slot only when there is trace context; without it the frame is unchanged', () => {
    expect(encode.request(1, 'status', '{}')).toBe('[0,1,"status",{}]'.replace('0', String(Msg.REQUEST)));
    const traced = JSON.parse(
      encode.request(2, 'status', '{}', undefined, JSON.stringify({ traceparent: TRACEPARENT })),
    ) as unknown[];
    expect(traced[2]).toEqual(['status', null, { traceparent: TRACEPARENT }]);
    const both = JSON.parse(encode.request(3, 'status', undefined, '{"t":"1"}', '{"traceparent":"x"}')) as unknown[];
    expect(both[2]).toEqual(['status', { t: '1' }, { traceparent: 'x' }]);
    expect(readCalleeMessage(traced)).toBeDefined();
    expect(readCalleeMessage([Msg.REQUEST, 4, ['status', null, {}, 'extra']])).toBeUndefined();
  });

  it('reads only small string maps; anything else is ignored, never trusted', () => {
    expect(readTraceSlot({ traceparent: TRACEPARENT, tracestate: 'a=b' })).toEqual({
      traceparent: TRACEPARENT,
      tracestate: 'a=b',
    });
    for (const bad of [
      null,
      'x',
      [TRACEPARENT],
      { traceparent: 7 },
      { traceparent: 'x'.repeat(513) },
      { a: '', b: '', c: '', d: '', e: '' },
    ]) {
      expect(readTraceSlot(bad)).toBeUndefined();
    }
    expect(readJobTrace({ at: 5, slot: { traceparent: TRACEPARENT } })).toEqual({ at: 5, slot: { traceparent: TRACEPARENT } });
    expect(readJobTrace({ at: 'soon' })).toBeUndefined();
    expect(readJobTrace(undefined)).toBeUndefined();
  });

  it('the dispatcher takes null metadata beside a trace slot, refuses it alone, and keeps the slot out of the metadata', () => {
    const seen: unknown[] = [];
    const handler = (_p: unknown, context?: unknown) => (seen.push(context), 'ok');
    const commands: LocalCommand[] = [{ name: 'ctx', kind: 'balanced', responds: false, queued: false, handler }];
    const queues = createMemoryQueueBackend();
    const dispatcher = new Dispatcher(commands, {
      logger: recordingLogger(),
      maxInFlight: 10,
      queueFor: (c) => queues.open({ worker: 'B', command: c.name, variant: 'b1' }, (p) => c.handler(p)),
    });
    const sent: unknown[][] = [];
    const sink: ReplySink = {
      label: 'A/a1',
      caller: { worker: 'A', variant: 'a1' },
      inFlight: 0,
      send: (json) => void sent.push(JSON.parse(json) as unknown[]),
    };
    dispatcher.handle(sink, [Msg.REQUEST, 1, ['ctx', null, { traceparent: TRACEPARENT }]]);
    dispatcher.handle(sink, [Msg.REQUEST, 2, ['ctx', { k: 'v' }, { traceparent: TRACEPARENT }]]);
    dispatcher.handle(sink, [Msg.REQUEST, 3, ['ctx', null]]);
    expect(seen).toEqual([
      { caller: { worker: 'A', variant: 'a1' }, metadata: {} },
      { caller: { worker: 'A', variant: 'a1' }, metadata: { k: 'v' } },
    ]);
    expect(sent[2]![0]).toBe(Msg.ERROR);
    expect((sent[2]![2] as { code: string }).code).toBe(MeshErrorCode.BAD_REQUEST);
  });
});
