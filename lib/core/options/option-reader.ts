import { checkPrivateKeyOption, type PrivateKeyOption } from '../crypto/mesh-keys.js';
import { MeshError, MeshErrorCode } from '../errors.js';
import { isMeshName, MESH_NAME_RULE } from '../mesh-name.js';
import { describeValue, didYouMean } from '../names.js';

/*
 * The one option-validation engine of both fronts. Every refusal is a MeshError
 * MESH_SCHEMA_INVALID whose message says where the options were given (`where`, e.g.
 * "SocketMeshModule.forWorker('NodeA')" or "new SocketNode('NodeA')") and names the field.
 */

export function invalidOptionMessage(where: string, field: string, expected: string, got: string): string {
  return `socket-mesh: ${where}: option '${field}' must be ${expected}, got ${got}`;
}

export function missingOptionMessage(where: string, field: string, expected: string): string {
  return `socket-mesh: ${where}: option '${field}' is required (${expected})`;
}

/** `prefix`: where the object sits (`queue.`); the hint compares the bare key with its siblings. */
export function unknownOptionMessage(where: string, prefix: string, key: string, allowed: readonly string[]): string {
  return `socket-mesh: ${where}: unknown option '${prefix}${key}'${didYouMean(key, allowed)}`;
}

export function invalidOptions(message: string): MeshError {
  return new MeshError(MeshErrorCode.SCHEMA_INVALID, message);
}

export interface NumberKind {
  /** Whole numbers only. */
  integer?: boolean;
  /** The smallest value accepted (excluded with `exclusiveMin`). */
  min: number;
  max?: number;
  exclusiveMin?: boolean;
}

/** Reads and checks one options object (own properties only). */
export class OptionReader {
  private constructor(
    readonly where: string,
    private readonly obj: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  /** `field`: the key this object was found under, for nested options (`manager`, `queue`). */
  static of(where: string, value: unknown, field?: string): OptionReader {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const message = field
        ? invalidOptionMessage(where, field, 'an object', describeValue(value))
        : `socket-mesh: ${where}: options must be an object, got ${describeValue(value)}`;
      throw invalidOptions(message);
    }
    return new OptionReader(where, value as Record<string, unknown>, field ? `${field}.` : '');
  }

  /** Refuses any key not in `allowed`, naming it with the near-miss hint. */
  checkKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) throw invalidOptions(unknownOptionMessage(this.where, this.prefix, key, allowed));
    }
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  raw(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.obj, key) ? this.obj[key] : undefined;
  }

  /** A nested options object under `key`, read with the same `where`. */
  nested(key: string): OptionReader | undefined {
    const value = this.raw(key);
    return value === undefined ? undefined : OptionReader.of(this.where, value, this.prefix + key);
  }

  fail(key: string, expected: string): never {
    throw invalidOptions(invalidOptionMessage(this.where, this.prefix + key, expected, describeValue(this.raw(key))));
  }

  missing(key: string, expected: string): never {
    throw invalidOptions(missingOptionMessage(this.where, this.prefix + key, expected));
  }

  /** The mesh secret: one key or a rotation list; its value never appears in an error. */
  privateKey(): PrivateKeyOption {
    return checkPrivateKeyOption(this.raw('privateKey'), `socket-mesh: ${this.where}`);
  }

  requiredString(key: string): string {
    if (this.raw(key) === undefined) this.missing(key, 'a non-empty string');
    return this.optionalString(key)!;
  }

  optionalString(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0) this.fail(key, 'a non-empty string');
    return value;
  }

  /** A worker name or variant: letters, digits and '._-:', 1 to 128 characters. */
  optionalMeshName(key: string): string | undefined {
    const value = this.optionalString(key);
    if (value !== undefined && !isMeshName(value)) this.fail(key, `a name (${MESH_NAME_RULE})`);
    return value;
  }

  optionalFunction<F extends (...args: never[]) => unknown>(key: string): F | undefined {
    const value = this.raw(key);
    if (value !== undefined && typeof value !== 'function') this.fail(key, 'a function');
    return value as F | undefined;
  }

  number(key: string, kind: NumberKind): number | undefined {
    return this.checkNumber(key, this.raw(key), kind);
  }

  /**
   * A TCP port. Numeric strings are accepted (ports often come straight from the environment);
   * anything else, NaN from `Number(undefined)` included, is refused here rather than dialed.
   */
  port(key: string, min = 0): number | undefined {
    const value = this.raw(key);
    const port = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    return this.checkNumber(key, port, { integer: true, min, max: 65535 });
  }

  positive(key: string, integer = false): number | undefined {
    return this.number(key, { integer, min: 0, exclusiveMin: true });
  }

  private checkNumber(key: string, value: unknown, kind: NumberKind): number | undefined {
    if (value === undefined) return undefined;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!kind.integer || Number.isInteger(value)) &&
      (kind.exclusiveMin ? value > kind.min : value >= kind.min) &&
      (kind.max === undefined || value <= kind.max);
    if (!ok) {
      const what = kind.integer ? 'an integer' : 'a finite number';
      const range =
        kind.max !== undefined
          ? ` from ${kind.min} to ${kind.max}`
          : kind.exclusiveMin
            ? ` greater than ${kind.min}`
            : ` of at least ${kind.min}`;
      this.fail(key, what + range);
    }
    return value as number;
  }
}
