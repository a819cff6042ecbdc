import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64 } from '../../src/core/base64.js';
import { signingKeyFromSeed, verifyJsonSignature } from '../../src/core/signing.js';
import { formatXMatrix, parseXMatrix, requestJson, signRequest, XMatrixParseError } from '../../src/core/x-matrix.js';

// appendices.md, "Cryptographic Test Vectors".
const KEY = signingKeyFromSeed('1', decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'));

describe('the request JSON', () => {
  test('has the fields of step 1, content only when there is a body', () => {
    const base = { method: 'GET', uri: '/_matrix/federation/v1/version?a=b', origin: 'origin.hs.example.com', destination: 'destination.hs.example.com' };
    assert.deepEqual(requestJson(base), base);
    assert.deepEqual(requestJson({ ...base, method: 'POST', content: { x: 1 } }), { ...base, method: 'POST', content: { x: 1 } });
  });

  test('signRequest gives the spec example header shape, and the signature verifies over the JSON', () => {
    const request = { method: 'POST', uri: '/target', origin: 'origin.hs.example.com', destination: 'destination.hs.example.com', content: { hello: 'world' } };
    const header = signRequest(request, KEY);
    const match = /^X-Matrix origin="origin\.hs\.example\.com",destination="destination\.hs\.example\.com",key="ed25519:1",sig="([A-Za-z0-9+/]+)"$/.exec(header);
    assert.ok(match, header);
    const signed = { ...requestJson(request), signatures: { 'origin.hs.example.com': { 'ed25519:1': match[1]! } } };
    assert.equal(verifyJsonSignature(signed, 'origin.hs.example.com', 'ed25519:1', KEY.publicKey), true);
    const tampered = { ...signed, uri: '/other' };
    assert.equal(verifyJsonSignature(tampered, 'origin.hs.example.com', 'ed25519:1', KEY.publicKey), false);
  });
});

describe('parsing the X-Matrix header (RFC 9110 section 11.4)', () => {
  const expected = { origin: 'origin.hs.example.com', destination: 'destination.hs.example.com', key: 'ed25519:key1', sig: 'ABCDEF' };

  test("the spec's example", () => {
    assert.deepEqual(
      parseXMatrix('X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",key="ed25519:key1",sig="ABCDEF"'),
      expected,
    );
  });

  test('round-trips what formatXMatrix writes, escaping quotes and backslashes', () => {
    const odd = { origin: 'example.org', destination: 'd"e\\st', key: 'ed25519:k', sig: 's' };
    assert.match(formatXMatrix(odd), /destination="d\\"e\\\\st"/);
    assert.deepEqual(parseXMatrix(formatXMatrix(odd)), odd);
  });

  test('scheme and names are case-insensitive, order does not matter, spaces and tabs around commas are allowed', () => {
    assert.deepEqual(
      parseXMatrix('x-matrix   SIG="ABCDEF" ,\tKey="ed25519:key1" , Destination="destination.hs.example.com",ORIGIN="origin.hs.example.com"'),
      expected,
    );
  });

  test('unquoted values may be tokens or contain colons; quoted values unescape', () => {
    assert.deepEqual(parseXMatrix('X-Matrix origin=origin.example.org:8448,key=ed25519:key1,sig=ABC-DEF'), {
      origin: 'origin.example.org:8448',
      key: 'ed25519:key1',
      sig: 'ABC-DEF',
    });
    assert.equal(parseXMatrix('X-Matrix origin="example.org",key="ed25519:k\\1",sig="a\\"b"').sig, 'a"b');
    assert.equal(parseXMatrix('X-Matrix origin="example.org",key="ed25519:k\\1",sig="x"').key, 'ed25519:k1');
  });

  test('destination is optional; unknown parameters and empty list elements are ignored', () => {
    assert.deepEqual(parseXMatrix('X-Matrix origin=example.org,,key="ed25519:k", sig="s",future="1"'), { origin: 'example.org', key: 'ed25519:k', sig: 's' });
  });

  test('malformed headers are refused with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['Bearer abc', /does not use the X-Matrix scheme/],
      ['X-Matrixorigin=a', /does not use the X-Matrix scheme/],
      ['X-Matrix key="ed25519:k",sig="s"', /no origin parameter/],
      ['X-Matrix origin=example.org,sig="s"', /no key parameter/],
      ['X-Matrix origin=example.org,key=k', /no sig parameter/],
      ['X-Matrix origin="exa mple.org",key=k,sig=s', /is not a server name/],
      ['X-Matrix origin="example.org,key=k,sig=s', /not closed/],
      ['X-Matrix origin=example.org key=k', /expected ','/],
      ['X-Matrix origin', /has no value/],
      ['X-Matrix origin=,key=k,sig=s', /empty/],
      ['X-Matrix origin=a.org,origin=b.org,key=k,sig=s', /given twice/],
      ['X-Matrix origin=a.org,key=k,sig=a/b', /expected ','/],
    ];
    for (const [header, reason] of cases) {
      assert.throws(() => parseXMatrix(header), (err: unknown) => err instanceof XMatrixParseError && reason.test(err.message), header);
    }
  });
});
