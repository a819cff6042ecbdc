// Helpers for route handlers to turn an untyped JSON body or query string into
// typed values, failing with the Matrix error a client can act on.
//
// Error codes (client-server-api/_index.md, "Common error codes"):
//   M_NOT_JSON      the body is not JSON at all (raised by the edge, src/http/request.ts)
//   M_BAD_JSON      valid JSON of the wrong shape: not an object, a field of the wrong type
//   M_MISSING_PARAM a required field or query parameter is absent
//   M_INVALID_PARAM a field has the right type but an unacceptable value
// Every message names the field, so a client developer sees what to fix.
import type { JsonObject, JsonValue } from '../core/types.js';
import { badJson, invalidParam, missingParam } from '../core/errors.js';

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The body as an object. A request without a body counts as `{}`: the edge
 * passes `undefined` for an empty body, and many endpoints (POST /logout,
 * POST /join with no reason) are legitimately sent with none.
 */
export function requireObject(body: JsonValue | undefined, what = 'request body'): JsonObject {
  if (body === undefined) return {};
  if (!isJsonObject(body)) throw badJson(`The ${what} must be a JSON object`);
  return body;
}

function typeName(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function wrongType(field: string, expected: string, value: JsonValue): never {
  throw badJson(`'${field}' must be ${expected}, not ${typeName(value)}`);
}

function present(obj: JsonObject, field: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(obj, field) ? obj[field] : undefined;
}

function missing(field: string): never {
  throw missingParam(`Missing required field '${field}'`);
}

/** A string field; undefined when absent. `null` counts as absent, as Synapse treats it. */
export function optionalString(obj: JsonObject, field: string): string | undefined {
  const value = present(obj, field);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') wrongType(field, 'a string', value);
  return value;
}

export function requireString(obj: JsonObject, field: string): string {
  return optionalString(obj, field) ?? missing(field);
}

export function optionalBoolean(obj: JsonObject, field: string): boolean | undefined {
  const value = present(obj, field);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') wrongType(field, 'a boolean', value);
  return value;
}

export function requireBoolean(obj: JsonObject, field: string): boolean {
  return optionalBoolean(obj, field) ?? missing(field);
}

/** An integer field (JSON numbers with a fraction are rejected). */
export function optionalInteger(obj: JsonObject, field: string, range: { min?: number; max?: number } = {}): number | undefined {
  const value = present(obj, field);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) wrongType(field, 'an integer', value);
  checkRange(field, value, range);
  return value;
}

export function requireInteger(obj: JsonObject, field: string, range: { min?: number; max?: number } = {}): number {
  return optionalInteger(obj, field, range) ?? missing(field);
}

function checkRange(field: string, value: number, { min, max }: { min?: number; max?: number }): void {
  if (min !== undefined && value < min) throw invalidParam(`'${field}' must be at least ${min}`);
  if (max !== undefined && value > max) throw invalidParam(`'${field}' must be at most ${max}`);
}

export function optionalObject(obj: JsonObject, field: string): JsonObject | undefined {
  const value = present(obj, field);
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) wrongType(field, 'an object', value);
  return value;
}

export function requireObjectField(obj: JsonObject, field: string): JsonObject {
  return optionalObject(obj, field) ?? missing(field);
}

export function optionalArray(obj: JsonObject, field: string): JsonValue[] | undefined {
  const value = present(obj, field);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) wrongType(field, 'an array', value);
  return value;
}

export function requireArray(obj: JsonObject, field: string): JsonValue[] {
  return optionalArray(obj, field) ?? missing(field);
}

/** An array whose every element is a string. */
export function optionalStringArray(obj: JsonObject, field: string): string[] | undefined {
  const values = optionalArray(obj, field);
  if (values === undefined) return undefined;
  values.forEach((v, i) => {
    if (typeof v !== 'string') wrongType(`${field}[${i}]`, 'a string', v);
  });
  return values as string[];
}

/** A string field restricted to a fixed set of values. */
export function optionalEnum<T extends string>(obj: JsonObject, field: string, allowed: readonly T[]): T | undefined {
  const value = optionalString(obj, field);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidParam(`'${field}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, not '${value}'`);
  }
  return value as T;
}

export function requireEnum<T extends string>(obj: JsonObject, field: string, allowed: readonly T[]): T {
  return optionalEnum(obj, field, allowed) ?? missing(field);
}

// Query-string parameters are always strings; these parse them the way the
// spec's OpenAPI types describe (integers, booleans as "true"/"false").

export function queryString(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

export function requireQueryString(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (value === null) throw missingParam(`Missing required query parameter '${name}'`);
  return value;
}

export function queryInteger(query: URLSearchParams, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw invalidParam(`Query parameter '${name}' must be an integer, not '${raw}'`);
  }
  const value = Number(raw);
  checkRange(name, value, range);
  return value;
}

export function queryBoolean(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw invalidParam(`Query parameter '${name}' must be 'true' or 'false', not '${raw}'`);
}
