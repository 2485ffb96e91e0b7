import { describe, expect, it } from '@jest/globals';
import { forLog, isMeshName, textForLog } from '../lib/core/mesh-name.js';

describe('mesh names', () => {
  it.each(['NodeA', 'node-b_2.prod', 'pod:2001:db8::1', 'x'.repeat(128), '550e8400-e29b-41d4-a716-446655440000'])(
    'accepts %s',
    (name) => {
      expect(isMeshName(name)).toBe(true);
    },
  );

  it.each([
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
    ['a newline', 'a\nb'],
    ['a space', 'a b'],
    ['a slash', 'a/b'],
    ['non-ASCII', 'Nøde'],
    ['a number', 7],
    ['null', null],
  ])('refuses %s', (_label, name) => {
    expect(isMeshName(name)).toBe(false);
  });
});

describe('forLog', () => {
  it('keeps a forged log line on one line, quoted, escaped, and cut', () => {
    const out = forLog('NodeA\n[socket-mesh] INFO forged\r\u001b[31m\u2028');
    // eslint-disable-next-line no-control-regex -- the escape character is what must not get through
    expect(out).not.toMatch(/[\n\r\u001b\u2028]/);
    expect(out).toBe('"NodeA\\n[socket-mesh] INFO forged\\r\\u001b[31m\\u2028"');
    expect(forLog('y'.repeat(1000), 10)).toBe('"yyyyyyyyyy...(1000 chars)"');
  });
});

describe('textForLog', () => {
  it('keeps quotes as sent, escapes what could start a forged line, and cuts long text', () => {
    expect(textForLog('worker "NodeB" is not the name (\'NodeA\')')).toBe('worker "NodeB" is not the name (\'NodeA\')');
    const out = textForLog('refused\n[socket-mesh] INFO forged\r\u001b[31m\u2028');
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\n\r\u001b\u2028]/);
    expect(out).toBe('refused\\u000a[socket-mesh] INFO forged\\u000d\\u001b[31m\\u2028');
    expect(textForLog('y'.repeat(1000), 10)).toBe('yyyyyyyyyy...(1000 chars)');
  });
});
