import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64, encodeBase64 } from '../../src/core/base64.js';
import {
  formatSigningKeyFile,
  generateSigningKey,
  parseSigningKeyFile,
  signBytes,
  signingKeyFromSeed,
  signJson,
  verifyBytes,
  verifyJsonSignature,
} from '../../src/core/signing.js';
import type { JsonObject } from '../../src/core/types.js';

// appendices.md, "Cryptographic Test Vectors".
const SEED = decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');
const KEY = signingKeyFromSeed('1', SEED);

describe('signing keys', () => {
  test('derive from the published test seed', () => {
    assert.equal(KEY.keyId, 'ed25519:1');
    assert.equal(KEY.algorithm, 'ed25519');
    assert.equal(KEY.publicKey.length, 32);
    assert.deepEqual(KEY.seed, SEED);
  });

  test('refuse seeds of the wrong length and bad versions', () => {
    assert.throws(() => signingKeyFromSeed('1', Buffer.alloc(31)), /32 bytes; got 31/);
    assert.throws(() => signingKeyFromSeed('a:b', SEED), /version "a:b"/);
    assert.throws(() => signingKeyFromSeed('', SEED), /version ""/);
  });

  test('generate with a Synapse-style version and a fresh seed', () => {
    const a = generateSigningKey();
    const b = generateSigningKey();
    assert.match(a.version, /^a_[A-Za-z0-9]{4}$/);
    assert.equal(a.keyId, `ed25519:${a.version}`);
    assert.notDeepEqual(a.seed, b.seed);
    assert.equal(generateSigningKey('custom').version, 'custom');
  });

  test('derive the public key that verifies their signatures', () => {
    const key = generateSigningKey();
    const message = Buffer.from('hello');
    const signature = signBytes(key, message);
    assert.equal(signature.length, 64);
    assert.ok(verifyBytes(key.publicKey, message, signature));
    assert.ok(!verifyBytes(key.publicKey, Buffer.from('hellO'), signature));
    assert.ok(!verifyBytes(KEY.publicKey, message, signature));
  });

  test('verifyBytes says false for malformed keys and signatures', () => {
    const signature = signBytes(KEY, Buffer.from('x'));
    assert.ok(!verifyBytes(KEY.publicKey.subarray(1), Buffer.from('x'), signature));
    assert.ok(!verifyBytes(KEY.publicKey, Buffer.from('x'), signature.subarray(1)));
  });
});

describe('signing key files (Synapse format)', () => {
  test('round-trip', () => {
    const keys = [KEY, generateSigningKey()];
    const text = formatSigningKeyFile(keys);
    assert.equal(text.split('\n')[0], 'ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0');
    const parsed = parseSigningKeyFile(text);
    assert.deepEqual(
      parsed.map((k) => [k.keyId, encodeBase64(k.seed), encodeBase64(k.publicKey)]),
      keys.map((k) => [k.keyId, encodeBase64(k.seed), encodeBase64(k.publicKey)]),
    );
  });

  test('tolerate padding, CRLF and blank lines', () => {
    const padded = `${encodeBase64(SEED)}=`;
    const parsed = parseSigningKeyFile(`\r\n  ed25519 1 ${padded}\r\n\n`);
    assert.equal(parsed.length, 1);
    assert.deepEqual(parsed[0]!.publicKey, KEY.publicKey);
  });

  test('name the line and the problem otherwise', () => {
    assert.throws(() => parseSigningKeyFile('ed25519 1'), /line 1: expected "ed25519 <version> <base64 seed>"/);
    assert.throws(() => parseSigningKeyFile(`\nrsa 1 ${encodeBase64(SEED)}`), /line 2: unsupported algorithm "rsa"/);
    assert.throws(() => parseSigningKeyFile('ed25519 1 not*base64'), /line 1: the seed is not valid Base64/);
    assert.throws(() => parseSigningKeyFile('ed25519 1 AAAA'), /line 1: an ed25519 seed is 32 bytes; got 3/);
  });
});

describe('signing JSON: the test vectors of appendices.md', () => {
  test('an empty object', () => {
    assert.deepEqual(signJson({}, 'domain', KEY), {
      signatures: {
        domain: {
          'ed25519:1': 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
        },
      },
    });
  });

  test('an object with data values', () => {
    assert.deepEqual(signJson({ one: 1, two: 'Two' }, 'domain', KEY), {
      one: 1,
      signatures: {
        domain: {
          'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
        },
      },
      two: 'Two',
    });
  });
});

describe('signing JSON: behaviour', () => {
  test('neither signatures nor unsigned are covered, and unsigned is kept', () => {
    const signed = signJson({ one: 1, two: 'Two', unsigned: { age_ts: 5 } }, 'domain', KEY);
    assert.deepEqual(signed.unsigned, { age_ts: 5 });
    assert.deepEqual(signed['signatures'], {
      domain: { 'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw' },
    });
  });

  test('merges into existing signatures without touching the input', () => {
    const other = generateSigningKey('2');
    const input: JsonObject = { a: 1, signatures: { 'other.example': { 'ed25519:x': 'sig' }, domain: { 'ed25519:0': 'old' } } };
    const snapshot = structuredClone(input);
    const once = signJson(input, 'domain', KEY);
    const twice = signJson(once, 'domain', other);
    assert.deepEqual(input, snapshot);
    const signatures = twice['signatures'] as Record<string, Record<string, string>>;
    assert.deepEqual(Object.keys(signatures).sort(), ['domain', 'other.example']);
    assert.deepEqual(Object.keys(signatures['domain']!).sort(), ['ed25519:0', 'ed25519:1', 'ed25519:2']);
    assert.ok(verifyJsonSignature(twice, 'domain', 'ed25519:1', KEY.publicKey));
    assert.ok(verifyJsonSignature(twice, 'domain', 'ed25519:2', other.publicKey));
  });

  test('verification fails when a covered value changes, not when unsigned does', () => {
    const signed = signJson({ a: 1, unsigned: { x: 1 } }, 'domain', KEY);
    assert.ok(verifyJsonSignature({ ...signed, unsigned: { x: 2 } }, 'domain', 'ed25519:1', KEY.publicKey));
    assert.ok(!verifyJsonSignature({ ...signed, a: 2 }, 'domain', 'ed25519:1', KEY.publicKey));
    assert.ok(!verifyJsonSignature({ ...signed, b: 1 }, 'domain', 'ed25519:1', KEY.publicKey));
  });

  test('verification returns false, never throws, on malformed input', () => {
    const signed = signJson({ a: 1 }, 'domain', KEY);
    const good = ((signed['signatures'] as JsonObject)['domain'] as JsonObject)['ed25519:1'] as string;
    const withSig = (sig: JsonObject[string]): JsonObject => ({ a: 1, signatures: { domain: { 'ed25519:1': sig } } });
    const cases: [JsonObject, string, string, Uint8Array][] = [
      [{ a: 1 }, 'domain', 'ed25519:1', KEY.publicKey],
      [{ a: 1, signatures: 'nope' }, 'domain', 'ed25519:1', KEY.publicKey],
      [{ a: 1, signatures: { domain: [] } }, 'domain', 'ed25519:1', KEY.publicKey],
      [withSig(42), 'domain', 'ed25519:1', KEY.publicKey],
      [withSig('!!not base64!!'), 'domain', 'ed25519:1', KEY.publicKey],
      [withSig(good.slice(0, 20)), 'domain', 'ed25519:1', KEY.publicKey],
      [withSig(good), 'other', 'ed25519:1', KEY.publicKey],
      [withSig(good), 'domain', 'ed25519:2', KEY.publicKey],
      [withSig(good), 'domain', 'ed25519:1', new Uint8Array(5)],
      [{ ...withSig(good), a: 1.5 }, 'domain', 'ed25519:1', KEY.publicKey],
    ];
    for (const [obj, server, keyId, publicKey] of cases) {
      assert.equal(verifyJsonSignature(obj, server, keyId, publicKey), false, JSON.stringify(obj));
    }
    assert.ok(verifyJsonSignature(withSig(good), 'domain', 'ed25519:1', KEY.publicKey));
  });

  test('a key ID with another algorithm is not checked as ed25519', () => {
    const signed = signJson({ a: 1 }, 'domain', KEY);
    const sig = ((signed['signatures'] as JsonObject)['domain'] as JsonObject)['ed25519:1'] as string;
    const relabelled = { a: 1, signatures: { domain: { 'curve25519:1': sig } } };
    assert.equal(verifyJsonSignature(relabelled, 'domain', 'curve25519:1', KEY.publicKey), false);
  });

  test('signing refuses what canonical JSON refuses, unless told the room version is lax', () => {
    assert.throws(() => signJson({ a: 1.5 }, 'domain', KEY), /not an integer/);
    const lax = signJson({ a: 1.5 }, 'domain', KEY, { strict: false });
    assert.ok(verifyJsonSignature(lax, 'domain', 'ed25519:1', KEY.publicKey, { strict: false }));
  });
});
