// ed25519 keys and signed JSON (appendices.md, "Signing JSON", "Signing
// Details", "Checking for a Signature"), on node:crypto's native ed25519.

import { createPrivateKey, createPublicKey, randomBytes, randomInt, sign, verify, type KeyObject } from 'node:crypto';
import { decodeBase64, encodeBase64, tryDecodeBase64 } from './base64.js';
import { canonicalJsonBytes, type CanonicalJsonOptions, type LooseJsonObject } from './canonical-json.js';
import type { JsonObject, JsonValue, Signatures } from './types.js';

export interface SigningKey {
  algorithm: 'ed25519';
  version: string;
  /** "ed25519:<version>", the signing key identifier used in `signatures`. */
  keyId: string;
  /** The 32-byte ed25519 seed: the secret. */
  seed: Buffer;
  /** The 32-byte raw ed25519 public key. */
  publicKey: Buffer;
}

const SEED_LENGTH = 32;
const SIGNATURE_LENGTH = 64;
// DER headers for a bare ed25519 key (RFC 8410): node:crypto takes keys only
// as PKCS#8 (private) or SPKI (public) structures, and for ed25519 both are a
// fixed prefix followed by the 32 raw bytes.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Key versions are `[a-zA-Z0-9_]` (server-server-api.md, "Retrieving server keys"). */
const KEY_VERSION = /^[A-Za-z0-9_]+$/;

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

export function signingKeyFromSeed(version: string, seed: Uint8Array): SigningKey {
  if (!KEY_VERSION.test(version)) {
    throw new SigningKeyError(`signing key version ${JSON.stringify(version)} must be non-empty and use only a-z, A-Z, 0-9 and _`);
  }
  if (seed.length !== SEED_LENGTH) {
    throw new SigningKeyError(`an ed25519 seed is ${SEED_LENGTH} bytes; got ${seed.length}`);
  }
  const seedCopy = Buffer.from(seed);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seedCopy]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const key: SigningKey = {
    algorithm: 'ed25519',
    version,
    keyId: `ed25519:${version}`,
    seed: seedCopy,
    publicKey: Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length)),
  };
  privateKeys.set(key, privateKey);
  return key;
}

const VERSION_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh key with a version like Synapse's: `a_` and 4 random alphanumerics. */
export function generateSigningKey(version?: string): SigningKey {
  const chosen = version ?? `a_${Array.from({ length: 4 }, () => VERSION_ALPHABET[randomInt(VERSION_ALPHABET.length)]).join('')}`;
  return signingKeyFromSeed(chosen, randomBytes(SEED_LENGTH));
}

/** Synapse's signing key file: one `ed25519 <version> <unpadded base64 seed>` per line. */
export function formatSigningKeyFile(keys: SigningKey[]): string {
  return keys.map((k) => `${k.algorithm} ${k.version} ${encodeBase64(k.seed)}\n`).join('');
}

export function parseSigningKeyFile(text: string): SigningKey[] {
  const keys: SigningKey[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `signing key file line ${index + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 3) {
      throw new SigningKeyError(`${where}: expected "ed25519 <version> <base64 seed>", got ${fields.length} field(s)`);
    }
    const [algorithm, version, seedText] = fields as [string, string, string];
    if (algorithm !== 'ed25519') {
      throw new SigningKeyError(`${where}: unsupported algorithm ${JSON.stringify(algorithm)}; only ed25519 keys are supported`);
    }
    let seed: Buffer;
    try {
      seed = decodeBase64(seedText);
    } catch (err) {
      throw new SigningKeyError(`${where}: the seed is not valid Base64 (${(err as Error).message})`);
    }
    try {
      keys.push(signingKeyFromSeed(version, seed));
    } catch (err) {
      throw new SigningKeyError(`${where}: ${(err as Error).message}`);
    }
  });
  return keys;
}

// Building a KeyObject costs far more than an ed25519 signature, so each key
// keeps its own. Memoisation only: results never depend on the caches.
const privateKeys = new WeakMap<SigningKey, KeyObject>();
// Public keys by their bytes, not by array identity: callers decode a stored
// key afresh for each event (a join checks thousands with a few keys).
const publicKeys = new Map<string, KeyObject>();
/** Plenty for the servers one process talks to; past it the cache starts over. */
const MAX_PUBLIC_KEYS = 10_000;

function privateKeyOf(key: SigningKey): KeyObject {
  let keyObject = privateKeys.get(key);
  if (keyObject === undefined) {
    keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, key.seed]), format: 'der', type: 'pkcs8' });
    privateKeys.set(key, keyObject);
  }
  return keyObject;
}

function publicKeyOf(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  let keyObject = publicKeys.get(id);
  if (keyObject === undefined) {
    keyObject = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
    if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.clear();
    publicKeys.set(id, keyObject);
  }
  return keyObject;
}

export function signBytes(key: SigningKey, bytes: Uint8Array): Buffer {
  return sign(null, bytes, privateKeyOf(key));
}

/** False for a wrong signature and for anything malformed (key or signature length). */
export function verifyBytes(publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== SEED_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return verify(null, bytes, publicKeyOf(publicKey), signature);
  } catch {
    return false;
  }
}

/** The bytes a JSON signature covers: the object without `signatures` and `unsigned`. */
export function signedBytesOf(obj: LooseJsonObject, opts: CanonicalJsonOptions = {}): Buffer {
  const { signatures: _signatures, unsigned: _unsigned, ...rest } = obj;
  return canonicalJsonBytes(rest, opts);
}

/**
 * Signs `obj` as `serverName` and returns a copy carrying the new signature
 * beside any existing ones; `unsigned` is kept but not covered.
 */
export function signJson<T extends JsonObject | LooseJsonObject>(
  obj: T,
  serverName: string,
  key: SigningKey,
  opts: CanonicalJsonOptions = {},
): T & { signatures: Signatures } {
  const signature = encodeBase64(signBytes(key, signedBytesOf(obj, opts)));
  const existing = isObject(obj['signatures']) ? obj['signatures'] : {};
  const forServer = isObject(existing[serverName]) ? existing[serverName] : {};
  const signatures = { ...existing, [serverName]: { ...forServer, [key.keyId]: signature } } as Signatures;
  return { ...obj, signatures };
}

/**
 * Checks one signature of `serverName` with key `keyId`. Never throws: a
 * missing or malformed signature, an unknown algorithm, a bad key or a body
 * that cannot be encoded all mean "not signed".
 */
export function verifyJsonSignature(
  obj: JsonObject | LooseJsonObject,
  serverName: string,
  keyId: string,
  publicKey: Uint8Array,
  opts: CanonicalJsonOptions = {},
): boolean {
  if (!keyId.startsWith('ed25519:')) return false;
  const signatures = obj['signatures'];
  if (!isObject(signatures)) return false;
  const forServer = signatures[serverName];
  if (!isObject(forServer)) return false;
  const encoded = forServer[keyId];
  if (typeof encoded !== 'string') return false;
  const signature = tryDecodeBase64(encoded);
  if (signature === null) return false;
  let bytes: Buffer;
  try {
    bytes = signedBytesOf(obj, opts);
  } catch {
    return false;
  }
  return verifyBytes(publicKey, bytes, signature);
}

function isObject(value: JsonValue | LooseJsonObject | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
