import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, canonicalJsonBytes, CanonicalJsonError, compareCodePoints } from '../../src/core/canonical-json.js';
import { decodeBase64, encodeBase64, encodeBase64Url, tryDecodeBase64 } from '../../src/core/base64.js';
import type { JsonValue } from '../../src/core/types.js';

describe('canonical JSON: the examples of appendices.md', () => {
  // Inputs are the spec's JSON texts, parsed as a server would parse them.
  const examples: [string, string][] = [
    ['{}', '{}'],
    ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
    ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
    ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}`,
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
    ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
    ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
    ['{\n    "a": null\n}', '{"a":null}'],
    ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
  ];
  for (const [input, expected] of examples) {
    test(`${input.replace(/\s+/g, ' ').slice(0, 50)} → ${expected.slice(0, 40)}`, () => {
      assert.equal(canonicalJson(JSON.parse(input) as JsonValue), expected);
    });
  }
});

describe('canonical JSON: encoding details', () => {
  test('sorts keys by code point, not by UTF-16 code unit', () => {
    // U+1F600 is the surrogate pair D83D DE00; UTF-16 order would put it before U+FFFD.
    assert.equal(canonicalJson({ '\u{1F600}': 1, '\uFFFD': 2, a: 3 }), '{"a":3,"\uFFFD":2,"\u{1F600}":1}');
    assert.ok(compareCodePoints('\uFFFD', '\u{1F600}') < 0);
    assert.ok(compareCodePoints('ab', 'a') > 0);
    assert.equal(compareCodePoints('x', 'x'), 0);
  });

  test('escapes only what the grammar requires, control characters in lower-case hex', () => {
    const s = '"\\\b\t\n\f\r\u0000\u0001\u001f\u007f\u2028é😀/';
    assert.equal(canonicalJson(s), '"\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u0001\\u001f\u007f\u2028é😀/"');
  });

  test('encodes arrays in order, nested values, booleans and the integer bounds', () => {
    const max = Number.MAX_SAFE_INTEGER;
    assert.equal(canonicalJson([3, [true, false], { z: [] }, -max, max]), `[3,[true,false],{"z":[]},-${max},${max}]`);
  });

  test('leaves out object members whose value is undefined', () => {
    assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
  });

  test('gives the UTF-8 bytes', () => {
    assert.deepEqual([...canonicalJsonBytes({ a: 'é' })], [...Buffer.from('{"a":"é"}', 'utf8')]);
  });
});

describe('canonical JSON: rejections', () => {
  const rejects = (value: unknown, path: string, problem: RegExp, strict = true) => {
    assert.throws(
      () => canonicalJson(value as JsonValue, { strict }),
      (err: unknown) => err instanceof CanonicalJsonError && err.path === path && problem.test(err.message),
    );
  };

  test('floats, naming the path of the bad value', () => {
    rejects({ content: { info: { size: 1.5 } } }, 'content.info.size', /1\.5 is not an integer/);
    rejects({ list: [0, 0.1] }, 'list[1]', /not an integer/);
    rejects({ 'odd key': 2.5 }, '["odd key"]', /not an integer/);
  });

  test('integers outside ±(2^53−1)', () => {
    rejects({ n: 2 ** 53 }, 'n', /outside the range/);
    rejects({ n: -(2 ** 53) }, 'n', /outside the range/);
  });

  test('NaN and Infinity, even when not strict', () => {
    rejects({ n: NaN }, 'n', /NaN is not a JSON number/, false);
    rejects({ n: Infinity }, 'n', /Infinity is not a JSON number/, false);
    rejects(-Infinity, '(root)', /not a JSON number/);
  });

  test('values that are not JSON', () => {
    rejects([undefined], '[0]', /undefined/);
    rejects({ f: () => 1 }, 'f', /function is not a JSON value/);
    rejects({ b: 10n }, 'b', /bigint is not a JSON value/);
    rejects({ d: new Date(0) }, 'd', /Date object is not a plain JSON object/);
    rejects({ m: new Map() }, 'm', /Map object/);
    rejects({ u: new Uint8Array(1) }, 'u', /Uint8Array object/);
    rejects(undefined, '(root)', /undefined/);
  });

  test('lone surrogates, in values and in keys', () => {
    rejects({ s: 'a\uD800b' }, 's', /lone UTF-16 surrogate/);
    rejects({ '\uDC00': 1 }, '(root)', /lone UTF-16 surrogate/);
  });

  test('cycles, with a message instead of a stack overflow', () => {
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    rejects(loop, 'self', /cycle/);
  });

  test('a repeated (non-cyclic) reference is fine', () => {
    const shared = { x: 1 };
    assert.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('canonical JSON: non-strict mode for room versions 1–5', () => {
  test('accepts large integers, written out in full', () => {
    assert.equal(canonicalJson({ n: 2 ** 53 }, { strict: false }), '{"n":9007199254740992}');
    assert.equal(canonicalJson({ n: 1e21 }, { strict: false }), '{"n":1000000000000000000000}');
  });

  test('accepts floats', () => {
    assert.equal(canonicalJson({ n: 1.5 }, { strict: false }), '{"n":1.5}');
  });
});

describe('unpadded base64', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ];

  test('encodes the examples of appendices.md', () => {
    for (const [plain, encoded] of vectors) assert.equal(encodeBase64(Buffer.from(plain)), encoded);
  });

  test('decodes unpadded and padded input', () => {
    for (const [plain, encoded] of vectors) {
      assert.equal(decodeBase64(encoded).toString(), plain);
      const padded = encoded + '='.repeat((4 - (encoded.length % 4)) % 4);
      assert.equal(decodeBase64(padded).toString(), plain);
    }
  });

  test('URL-safe uses - and _ and never pads; the decoder takes either alphabet', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf]);
    assert.equal(encodeBase64(bytes), '+/+/');
    assert.equal(encodeBase64Url(bytes), '-_-_');
    assert.equal(encodeBase64Url(Buffer.from('f')), 'Zg');
    assert.deepEqual(decodeBase64('-_-_'), bytes);
    assert.deepEqual(decodeBase64('+/+/'), bytes);
  });

  test('encodes a Uint8Array view without reading outside it', () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5]);
    assert.equal(encodeBase64(backing.subarray(1, 3)), encodeBase64(Buffer.from([2, 3])));
  });

  test('accepts non-zero trailing bits, as in the spec test seed', () => {
    assert.equal(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1').length, 32);
  });

  test('throws on input that is not base64', () => {
    for (const bad of ['Zm9v!', 'Zm 9v', 'Z', 'Zm9vY', 'Zg=', 'Zm8==', 'Zm9v=', '==', 'ab+-', 'Zg=a']) {
      assert.throws(() => decodeBase64(bad), /not Base64/, bad);
      assert.equal(tryDecodeBase64(bad), null);
    }
  });
});
