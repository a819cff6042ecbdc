// Glob-style matching (appendices "Glob-style matching": `*` is zero or more
// characters, `?` exactly one) compiled to regular expressions, case
// insensitively. Push rules are evaluated for every recipient of every event,
// so compiled expressions are cached.

/**
 * Characters with a meaning in a `u`-flag regular expression outside a class.
 * Only these may be escaped in `u` mode; escaping others (e.g. `-`) is a syntax error.
 */
const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

/** The spec's word characters; everything else (and either end of the value) is a boundary. */
const WORD_BOUNDARY_BEFORE = '(?<=^|[^A-Za-z0-9_])';
const WORD_BOUNDARY_AFTER = '(?=[^A-Za-z0-9_]|$)';

const CACHE_LIMIT = 2048;
const cache = new Map<string, RegExp>();

function cached(key: string, build: () => RegExp): RegExp {
  let regex = cache.get(key);
  if (regex === undefined) {
    // Patterns come from users' rules and display names; bound the memory they can hold.
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    regex = build();
    cache.set(key, regex);
  }
  return regex;
}

function escapeLiteral(text: string): string {
  return text.replace(REGEX_SYNTAX, '\\$&');
}

function globToRegexSource(glob: string): string {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += escapeLiteral(char);
  }
  return source;
}

// `i` + `u` fold case beyond ASCII, `u` makes `?` one code point (not one
// UTF-16 unit), `s` lets wildcards cross line breaks in multi-line bodies.
const FLAGS = 'ius';

/** Whether `glob` matches the whole of `value`, ignoring case. */
export function globMatchesWhole(glob: string, value: string): boolean {
  return cached(`whole\u0000${glob}`, () => new RegExp(`^(?:${globToRegexSource(glob)})$`, FLAGS)).test(value);
}

/**
 * Whether `glob` matches some substring of `value` that starts and ends at a
 * word boundary: the rule for `content.body` (push.md, `event_match` and
 * content rules).
 */
export function globMatchesWords(glob: string, value: string): boolean {
  return cached(
    `words\u0000${glob}`,
    () => new RegExp(`${WORD_BOUNDARY_BEFORE}(?:${globToRegexSource(glob)})${WORD_BOUNDARY_AFTER}`, FLAGS),
  ).test(value);
}

/** Whether `phrase` appears literally in `value` between word boundaries, ignoring case. */
export function containsPhrase(phrase: string, value: string): boolean {
  if (phrase === '') return false;
  return cached(
    `phrase\u0000${phrase}`,
    () => new RegExp(`${WORD_BOUNDARY_BEFORE}${escapeLiteral(phrase)}${WORD_BOUNDARY_AFTER}`, FLAGS),
  ).test(value);
}
