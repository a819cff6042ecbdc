// Canonical JSON (appendices.md, "Canonical JSON"): the byte form that every
// signature and hash in Matrix is computed over. The shortest UTF-8 encoding,
// object keys sorted by Unicode code point, integers only.

import type { JsonValue } from './types.js';

/**
 * An object some of whose optional members may be `undefined` (as TypeScript
 * interfaces such as PDU allow). Such members are left out, exactly as they
 * would be left out of the JSON sent on the wire.
 */
export interface LooseJsonObject {
  readonly [key: string]: JsonValue | LooseJsonObject | undefined;
}

export interface CanonicalJsonOptions {
  /**
   * Enforce the spec's number rules: integers in ±(2^53−1) only. Defaults to
   * true; room versions 1–5 predate the rule (rooms/fragments/v1-canonical-json.md)
   * and pass false, which still refuses NaN and Infinity.
   */
  strict?: boolean;
}

export class CanonicalJsonError extends Error {
  /** Where the bad value sits, e.g. `content.info.size`, or `(root)`. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`cannot encode value at ${path} as canonical JSON: ${problem}`);
    this.name = 'CanonicalJsonError';
    this.path = path;
  }
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 − 1

// In a `u` regex a well-formed surrogate pair is one code point, so this matches
// only lone surrogates, which have no UTF-8 encoding.
const LONE_SURROGATE = /\p{Cs}/u;

export function canonicalJson(value: JsonValue | LooseJsonObject, opts: CanonicalJsonOptions = {}): string {
  return new Encoder(opts.strict ?? true).encode(value, []);
}

/** Canonical JSON as the UTF-8 bytes that are hashed and signed. */
export function canonicalJsonBytes(value: JsonValue | LooseJsonObject, opts: CanonicalJsonOptions = {}): Buffer {
  return Buffer.from(canonicalJson(value, opts), 'utf8');
}

/**
 * Orders strings by Unicode code point, as the spec requires. JavaScript's own
 * `<` compares UTF-16 code units, which disagrees only when a surrogate (a code
 * point above U+FFFF) meets a unit in U+E000–U+FFFF; remapping those two ranges
 * at the first difference restores code point order.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Where the encoder is, as a stack it pushes and pops (errors abandon it). */
type Path = (string | number)[];

class Encoder {
  private readonly open = new Set<object>();

  constructor(private readonly strict: boolean) {}

  encode(value: unknown, path: Path): string {
    switch (typeof value) {
      case 'string':
        return this.string(value, path);
      case 'number':
        return this.number(value, path);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'object':
        if (value === null) return 'null';
        return this.container(value, path);
      default:
        throw new CanonicalJsonError(formatPath(path), `${typeof value} is not a JSON value`);
    }
  }

  private container(value: object, path: Path): string {
    if (this.open.has(value)) throw new CanonicalJsonError(formatPath(path), 'the value contains itself (a cycle)');
    this.open.add(value);
    try {
      if (Array.isArray(value)) return this.array(value, path);
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
        throw new CanonicalJsonError(formatPath(path), `a ${name} object is not a plain JSON object`);
      }
      return this.object(value as Record<string, unknown>, path);
    } finally {
      this.open.delete(value);
    }
  }

  private array(items: unknown[], path: Path): string {
    const parts: string[] = [];
    for (let i = 0; i < items.length; i++) {
      path.push(i);
      if (items[i] === undefined) throw new CanonicalJsonError(formatPath(path), 'undefined is not a JSON value');
      parts.push(this.encode(items[i], path));
      path.pop();
    }
    return `[${parts.join(',')}]`;
  }

  private object(obj: Record<string, unknown>, path: Path): string {
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort(compareCodePoints);
    const parts: string[] = [];
    for (const key of keys) {
      const encodedKey = this.string(key, path);
      path.push(key);
      parts.push(`${encodedKey}:${this.encode(obj[key], path)}`);
      path.pop();
    }
    return `{${parts.join(',')}}`;
  }

  // JSON.stringify already writes exactly the spec's grammar for strings:
  // only `"`, `\` and U+0000–U+001F are escaped (as \b \t \n \f \r or \u00xx
  // in lower case); everything else, DEL and non-ASCII included, is literal.
  private string(s: string, path: Path): string {
    if (LONE_SURROGATE.test(s)) {
      throw new CanonicalJsonError(formatPath(path), 'the string contains a lone UTF-16 surrogate, which is not Unicode text');
    }
    return JSON.stringify(s);
  }

  private number(n: number, path: Path): string {
    if (!Number.isFinite(n)) throw new CanonicalJsonError(formatPath(path), `${n} is not a JSON number`);
    if (Number.isInteger(n)) {
      if (this.strict && Math.abs(n) > MAX_SAFE) {
        throw new CanonicalJsonError(formatPath(path), `integer ${n} is outside the range ±(2^53−1)`);
      }
      // BigInt prints every digit where String() would switch to exponent
      // form (from 1e21); it also turns -0 into 0, as the spec requires.
      return BigInt(n).toString();
    }
    if (this.strict) throw new CanonicalJsonError(formatPath(path), `${n} is not an integer; floats are not allowed`);
    return String(n);
  }
}

function formatPath(path: Path): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
