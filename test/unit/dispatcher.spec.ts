import { describe, expect, it } from '@jest/globals';
import type { LocalCommand } from '../../lib/core/command-spec.js';
import { Dispatcher, type ReplySink } from '../../lib/core/dispatcher.js';
import { MeshErrorCode } from '../../lib/core/errors.js';
import { encode, Msg, readCallerMessage } from '../../lib/core/protocol.js';
import { createMemoryQueueBackend } from '../../lib/core/queue/memory-queue.js';
import { gate, recordingLogger } from '../support/recording-logger.js';
import { waitFor } from '../support/wait-for.js';

class Sink implements ReplySink {
  readonly label = 'NodeA/a1';
  readonly caller = { worker: 'NodeA', variant: 'a1' };
  inFlight = 0;
  readonly sent: unknown[][] = [];
  send(json: string): void {
    this.sent.push(JSON.parse(json) as unknown[]);
  }
  /** The answers, as a caller reads them. */
  answers() {
    return this.sent.map((m) => readCallerMessage(m));
  }
}

const command = (
  name: string,
  handler: (p: unknown, context?: unknown) => unknown,
  spec: Partial<LocalCommand> = {},
): LocalCommand => ({
  name,
  kind: 'balanced',
  responds: false,
  queued: false,
  handler,
  ...spec,
});

function setup(commands: LocalCommand[], maxInFlight = 4096) {
  const logger = recordingLogger();
  const queues = createMemoryQueueBackend({ logger });
  const dispatcher = new Dispatcher(commands, {
    logger,
    maxInFlight,
    queueFor: (c) => queues.open({ worker: 'NodeB', command: c.name, variant: 'b1' }, (p) => c.handler(p)),
  });
  return { dispatcher, sink: new Sink(), logger, queues };
}

const request = (id: number, name: string, payload?: unknown): unknown[] =>
  JSON.parse(encode.request(id, name, payload === undefined ? undefined : JSON.stringify(payload))) as unknown[];

describe('Dispatcher', () => {
  it('answers a synchronous handler at once, with the payload it was given', () => {
    const { dispatcher, sink } = setup([command('double', (p) => (p as number) * 2)]);
    dispatcher.handle(sink, request(1, 'double', 21));
    expect(sink.answers()).toEqual([[Msg.RESULT, 1, 42]]);
    expect(dispatcher.inFlight).toBe(0);
  });

  it('hands the handler the proven caller and the request metadata; refuses malformed metadata', () => {
    const seen: unknown[] = [];
    const { dispatcher, sink } = setup([command('ctx', (_p, context) => (seen.push(context), 'ok'))]);
    dispatcher.handle(sink, JSON.parse(encode.request(1, 'ctx', '{}', JSON.stringify({ tenant: 't1' }))) as unknown[]);
    dispatcher.handle(sink, request(2, 'ctx', {}));
    dispatcher.handle(sink, JSON.parse(encode.request(3, 'ctx', '{}', JSON.stringify({ tenant: 7 }))) as unknown[]);
    expect(seen).toEqual([
      { caller: { worker: 'NodeA', variant: 'a1' }, metadata: { tenant: 't1' } },
      { caller: { worker: 'NodeA', variant: 'a1' }, metadata: {} },
    ]);
    const third = sink.answers()[2] as unknown[];
    expect(third[0]).toBe(Msg.ERROR);
    expect((third[2] as { code: string }).code).toBe(MeshErrorCode.BAD_REQUEST);
  });

  it('counts an async handler in flight until it settles, then resolves idle()', async () => {
    const held = gate();
    const { dispatcher, sink } = setup([command('slow', () => held.promise.then(() => 'done'))]);
    dispatcher.handle(sink, request(7, 'slow'));
    expect(dispatcher.inFlight).toBe(1);
    expect(sink.inFlight).toBe(1);
    const idle = dispatcher.idle();
    held.open();
    await idle;
    expect(sink.answers()).toEqual([[Msg.RESULT, 7, 'done']]);
    expect(sink.inFlight).toBe(0);
  });

  it('refuses unknown commands, prototype names included', () => {
    const { dispatcher, sink } = setup([command('ping', () => 'pong')]);
    dispatcher.handle(sink, request(1, 'nope'));
    dispatcher.handle(sink, request(2, 'constructor'));
    dispatcher.handle(sink, request(3, '__proto__'));
    const codes = sink.answers().map((m) => (m?.[0] === Msg.ERROR ? (m[2] as { code: string }).code : undefined));
    expect(codes).toEqual([MeshErrorCode.UNKNOWN_COMMAND, MeshErrorCode.UNKNOWN_COMMAND, MeshErrorCode.UNKNOWN_COMMAND]);
  });

  it('ignores messages that are not well-formed requests', () => {
    const { dispatcher, sink } = setup([command('ping', () => 'pong')]);
    dispatcher.handle(sink, [Msg.RESULT, 1]);
    dispatcher.handle(sink, [Msg.REQUEST, 'x', 'ping']);
    dispatcher.handle(sink, [Msg.REQUEST, 1.5, 'ping']);
    dispatcher.handle(sink, [Msg.REQUEST, 1, 42]);
    expect(sink.sent).toEqual([]);
  });

  it('turns a throw or a rejection into an error answer carrying the error name', async () => {
    const { dispatcher, sink } = setup([
      command('boom', () => {
        throw new RangeError('bad');
      }),
      command('later', () => Promise.reject(new TypeError('worse'))),
    ]);
    dispatcher.handle(sink, request(1, 'boom'));
    dispatcher.handle(sink, request(2, 'later'));
    await dispatcher.idle();
    const errors = sink.answers().map((m) => (m?.[0] === Msg.ERROR ? m[2] : undefined)) as {
      message: string;
      remoteName?: string;
    }[];
    expect(errors.map((e) => [e.message, e.remoteName])).toEqual([
      ['bad', 'RangeError'],
      ['worse', 'TypeError'],
    ]);
  });

  it('answers REMOTE_ERROR when the value cannot be serialised', () => {
    const { dispatcher, sink } = setup([command('big', () => 10n)]);
    dispatcher.handle(sink, request(1, 'big'));
    const [answer] = sink.answers();
    expect(answer?.[0]).toBe(Msg.ERROR);
    expect((answer![2] as { code: string }).code).toBe(MeshErrorCode.REMOTE_ERROR);
  });

  it('refuses new requests with MESH_OVERLOADED past maxInFlight for one caller', () => {
    const held = gate();
    const { dispatcher, sink } = setup([command('slow', () => held.promise)], 2);
    for (let id = 1; id <= 3; id++) dispatcher.handle(sink, request(id, 'slow'));
    expect(sink.answers()).toEqual([[Msg.ERROR, 3, expect.objectContaining({ code: MeshErrorCode.OVERLOADED })]]);
    held.open();
    return dispatcher.idle();
  });

  it('while draining, refuses new requests with MESH_PEER_DISCONNECTED so callers retry elsewhere', () => {
    const { dispatcher, sink } = setup([command('ping', () => 'pong')]);
    dispatcher.startDraining();
    dispatcher.handle(sink, request(1, 'ping'));
    expect(sink.answers()).toEqual([[Msg.ERROR, 1, expect.objectContaining({ code: MeshErrorCode.PEER_DISCONNECTED })]]);
  });

  it('acknowledges a plain broadcast before running it, and logs its failure', async () => {
    const held = gate();
    const { dispatcher, sink, logger } = setup([
      command('notify', () => held.promise.then(() => Promise.reject(new Error('nope'))), { kind: 'broadcast' }),
    ]);
    dispatcher.handle(sink, request(1, 'notify', { x: 1 }));
    expect(sink.answers()).toEqual([[Msg.RESULT, 1]]);
    held.open();
    await dispatcher.idle();
    expect(logger.at('error').some((l) => l.includes("broadcast 'notify'") && l.includes('nope'))).toBe(true);
  });

  it('stores a queued broadcast in its queue and acknowledges it; the queue runs the handler', async () => {
    const seen: unknown[] = [];
    const { dispatcher, sink, queues } = setup([command('job', (p) => void seen.push(p), { kind: 'broadcast', queued: true })]);
    dispatcher.handle(sink, request(1, 'job', { n: 1 }));
    await dispatcher.idle();
    expect(sink.answers()).toEqual([[Msg.RESULT, 1]]);
    await waitFor(() => seen.length === 1, 5000, 'the queued job to run');
    expect(seen).toEqual([{ n: 1 }]);
    await queues.close();
  });
});
