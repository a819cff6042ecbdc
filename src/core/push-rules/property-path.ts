// Dot-separated property paths (appendices "Dot-separated property paths"):
// `content.m\.relates_to.rel_type` names content → "m.relates_to" → rel_type.
// `\.` is a literal dot and `\\` a literal backslash; any other backslash is
// kept as it is.

import type { JsonValue } from '../types.js';

const parsed = new Map<string, string[]>();
const CACHE_LIMIT = 1024;

/** The property names a dotted path addresses, outermost first. */
export function parsePropertyPath(path: string): string[] {
  const known = parsed.get(path);
  if (known !== undefined) return known;
  const names: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i];
    const next = path[i + 1];
    if (char === '\\' && (next === '.' || next === '\\')) {
      current += next;
      i++;
    } else if (char === '.') {
      names.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  names.push(current);
  if (parsed.size >= CACHE_LIMIT) parsed.clear();
  parsed.set(path, names);
  return names;
}

function isObject(value: JsonValue | undefined): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value at `path` inside `root`, or undefined when any step is missing
 * or is not an object. Own properties only: "constructor" or "__proto__" in a
 * path must not reach into JavaScript's prototypes.
 */
export function lookupProperty(root: Readonly<Record<string, JsonValue | undefined>>, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = root as Record<string, JsonValue>;
  for (const name of parsePropertyPath(path)) {
    if (!isObject(current) || !Object.hasOwn(current, name)) return undefined;
    current = current[name];
  }
  return current;
}
