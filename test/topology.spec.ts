import { describe, expect, it } from '@jest/globals';
import { canConnect, connectionDenial, type RightsHolder } from '../lib/core/topology.js';

const node = (name: string, allow: RightsHolder['allow'], connect: readonly string[]): RightsHolder => ({ name, allow, connect });

describe('topology', () => {
  it('needs the caller to list the target in connect and the target to allow the caller', () => {
    const a = node('NodeA', [], ['NodeB']);
    const b = node('NodeB', ['NodeA'], []);
    expect(canConnect(a, b)).toBe(true);
    expect(connectionDenial(a, b)).toBeUndefined();
  });

  it('is directional: A→B does not give B→A', () => {
    const a = node('NodeA', [], ['NodeB']);
    const b = node('NodeB', ['NodeA'], []);
    expect(canConnect(b, a)).toBe(false);
    expect(connectionDenial(b, a)).toBe('not-in-connect');
  });

  it('allows both directions when both sides say so', () => {
    const a = node('NodeA', ['NodeB'], ['NodeB']);
    const b = node('NodeB', ['NodeA'], ['NodeA']);
    expect(canConnect(a, b)).toBe(true);
    expect(canConnect(b, a)).toBe(true);
  });

  it('refuses when the target does not allow the caller', () => {
    const a = node('NodeA', [], ['NodeB']);
    const b = node('NodeB', ['NodeC'], []);
    expect(canConnect(a, b)).toBe(false);
    expect(connectionDenial(a, b)).toBe('refused-by-allow');
  });

  it('reports not-in-connect before looking at allow', () => {
    expect(connectionDenial(node('NodeA', [], []), node('NodeB', [], []))).toBe('not-in-connect');
  });

  it("admits anyone with allow 'anyNode', but still only in the caller's connect direction", () => {
    const a = node('NodeA', [], ['NodeB']);
    const b = node('NodeB', 'anyNode', []);
    expect(canConnect(a, b)).toBe(true);
    expect(connectionDenial(b, a)).toBe('not-in-connect');
    expect(canConnect(node('NodeA', [], ['NodeB']), node('NodeB', ['anyNode'], []))).toBe(true);
  });

  it("'anyNode' in the caller's own allow gives it no outgoing rights", () => {
    const a = node('NodeA', 'anyNode', []);
    const b = node('NodeB', 'anyNode', []);
    expect(connectionDenial(a, b)).toBe('not-in-connect');
  });

  it('is case-sensitive', () => {
    expect(connectionDenial(node('NodeA', [], ['nodeB']), node('NodeB', 'anyNode', []))).toBe('not-in-connect');
    expect(connectionDenial(node('NodeA', [], ['NodeB']), node('NodeB', ['nodea'], []))).toBe('refused-by-allow');
  });

  it('applies the same rule between instances of one name', () => {
    expect(canConnect(node('NodeA', [], []), node('NodeA', [], []))).toBe(false);
    expect(connectionDenial(node('NodeA', ['NodeA'], []), node('NodeA', ['NodeA'], []))).toBe('not-in-connect');
    expect(connectionDenial(node('NodeA', [], ['NodeA']), node('NodeA', [], ['NodeA']))).toBe('refused-by-allow');
    expect(canConnect(node('NodeA', ['NodeA'], ['NodeA']), node('NodeA', ['NodeA'], ['NodeA']))).toBe(true);
  });
});
