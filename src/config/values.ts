// Readers for single homeserver.yaml values. Each either returns the typed
// value or throws a one-line ConfigError naming the file, the key path and
// what is wrong with the value found there.
import { isIP, isIPv4 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { parseServerName } from '../core/identifiers.js';
import { ConfigError, describeValue } from './errors.js';

export type Warn = (message: string) => void;
export type Mapping = Record<string, unknown>;

/** Where values come from: the file (for messages) and its directory (for relative paths). */
export class ConfigSource {
  constructor(
    readonly file: string,
    readonly baseDir: string,
    readonly warn: Warn,
  ) {}

  fail(keyPath: string, problem: string): never {
    throw new ConfigError(`${this.file}: ${keyPath}: ${problem}`);
  }

  /** Warnings name the file so an operator with several configs knows which one. */
  warnAbout(message: string): void {
    this.warn(`${this.file}: ${message}`);
  }
}

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** YAML's `key:` with nothing after it is null; like Synapse we treat it as "not set". */
export function isUnset(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

export function readMapping(src: ConfigSource, keyPath: string, value: unknown): Mapping {
  if (!isMapping(value)) src.fail(keyPath, `must be a mapping of keys to values, got ${describeValue(value)}`);
  return value;
}

export function readList(src: ConfigSource, keyPath: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) src.fail(keyPath, `must be a list, got ${describeValue(value)}`);
  return value;
}

export function readBoolean(src: ConfigSource, keyPath: string, value: unknown, fallback: boolean): boolean {
  if (isUnset(value)) return fallback;
  if (typeof value === 'boolean') return value;
  // The seed's write-up annotated values with `// ...`, which YAML reads as
  // part of the value; say so, since the fix is not obvious from the value.
  const hint = typeof value === 'string' && value.includes('//') ? " (comments in YAML start with '#', not '//')" : '';
  src.fail(keyPath, `must be true or false, got ${describeValue(value)}${hint}`);
}

export function readString(src: ConfigSource, keyPath: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    src.fail(keyPath, `must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

export function readOptionalString(src: ConfigSource, keyPath: string, value: unknown): string | undefined {
  return isUnset(value) ? undefined : readString(src, keyPath, value);
}

export function readInteger(src: ConfigSource, keyPath: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    src.fail(keyPath, `must be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

export function readNonNegativeNumber(src: ConfigSource, keyPath: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    src.fail(keyPath, `must be a number of at least 0, got ${describeValue(value)}`);
  }
  return value;
}

/** A filesystem path; relative paths are taken relative to the config file's directory. */
export function readPath(src: ConfigSource, keyPath: string, value: unknown): string {
  const text = readString(src, keyPath, value);
  return isAbsolute(text) ? text : resolve(src.baseDir, text);
}

export function readOptionalPath(src: ConfigSource, keyPath: string, value: unknown): string | undefined {
  return isUnset(value) ? undefined : readPath(src, keyPath, value);
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE = /^(\d+)\s*([KMGT]?)$/i;

/** Synapse's byte sizes: a plain integer, or a string with an optional K, M, G or T (powers of 1024). */
export function readSize(src: ConfigSource, keyPath: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const match = typeof value === 'string' ? SIZE.exec(value.trim()) : null;
  const bytes = match === null ? NaN : Number(match[1]) * SIZE_UNITS[match[2]!.toUpperCase()]!;
  if (!Number.isSafeInteger(bytes)) {
    src.fail(keyPath, `must be a size in bytes like 1048576, "10K", "50M" or "1G", got ${describeValue(value)}`);
  }
  return bytes;
}

/** An IP range in CIDR notation; a bare address means just that address (/32 or /128). */
export function readCidr(src: ConfigSource, keyPath: string, value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : '';
  const [address = '', prefix, ...rest] = text.split('/');
  const family = isIP(address);
  const maxPrefix = family === 4 ? 32 : 128;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
  if (family === 0 || !prefixOk || rest.length > 0) {
    src.fail(keyPath, `must be an IP address or CIDR range like "10.0.0.0/8" or "fd00::/8", got ${describeValue(value)}`);
  }
  return prefix === undefined ? `${address}/${isIPv4(address) ? 32 : 128}` : `${address}/${Number(prefix)}`;
}

/** A server name as the spec's grammar has it (appendices.md, "Server Name"). */
export function readServerName(src: ConfigSource, keyPath: string, value: unknown): string {
  const text = readString(src, keyPath, value);
  if (parseServerName(text) === null) {
    src.fail(
      keyPath,
      `must be a server name: a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional :port, got ${describeValue(value)}`,
    );
  }
  return text;
}
