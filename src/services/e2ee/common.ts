// What the e2ee services share: shape checks for the key objects clients
// upload, ed25519 self-signature checks, and the Matrix errors they raise.
import { tryDecodeBase64 } from '../../core/base64.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { serverNameOfUserId } from '../../core/identifiers.js';
import { verifyJsonSignature } from '../../core/signing.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import { badJson, invalidParam, MatrixError } from '../../core/errors.js';

export const invalidSignature = (message: string): MatrixError => new MatrixError(400, 'M_INVALID_SIGNATURE', message);

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `field` of `obj` as an object, or M_BAD_JSON naming `where`. */
export function objectField(obj: JsonObject, field: string, where: string): JsonObject {
  const value = obj[field];
  if (!isObject(value)) throw badJson(`'${where}.${field}' must be an object`);
  return value;
}

export function stringField(obj: JsonObject, field: string, where: string): string {
  const value = obj[field];
  if (typeof value !== 'string') throw badJson(`'${where}.${field}' must be a string`);
  return value;
}

/** A copy without `unsigned`, which the server controls (it adds device_display_name on query). */
export function withoutUnsigned(obj: JsonObject): JsonObject {
  const { unsigned: _unsigned, ...rest } = obj;
  return rest;
}

/** Whether two key objects are the same upload, ignoring `unsigned`. */
export function sameKey(a: JsonValue, b: JsonValue): boolean {
  const strip = (v: JsonValue): JsonValue => (isObject(v) ? withoutUnsigned(v) : v);
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

/**
 * Whether two device key objects name the same identity: the same user,
 * device, algorithms and `keys` map. Signatures may differ: clients re-upload
 * their keys with more of them (matrix-js-sdk adds the self-signing key's
 * during cross-signing bootstrap).
 */
export function sameDeviceIdentity(a: JsonObject, b: JsonObject): boolean {
  const identity = (k: JsonObject): JsonValue => ({
    user_id: k.user_id ?? null,
    device_id: k.device_id ?? null,
    algorithms: k.algorithms ?? null,
    keys: k.keys ?? null,
  });
  return canonicalJson(identity(a)) === canonicalJson(identity(b));
}

/** What a device keys upload changes; undefined when the stored keys stay as they are. */
export interface DeviceKeysUpdate {
  keys: JsonObject;
  /** The identity keys are new: signatures made over the old ones no longer hold. */
  newIdentity: boolean;
}

/**
 * The device keys to store after an upload. The same signed content keeps
 * every signature either copy carries, so a re-upload cannot drop one made
 * earlier; new identity keys replace the old object whole, as Synapse does.
 */
export function updateDeviceKeys(stored: JsonObject | undefined, uploaded: JsonObject): DeviceKeysUpdate | undefined {
  if (stored === undefined) return { keys: uploaded, newIdentity: false };
  if (!sameDeviceIdentity(stored, uploaded)) return { keys: uploaded, newIdentity: true };
  const keys = sameKey(withoutSignatures(stored), withoutSignatures(uploaded))
    ? { ...uploaded, signatures: unionOfSignatures(stored.signatures, uploaded.signatures) }
    : uploaded;
  return sameKey(stored, keys) ? undefined : { keys, newIdentity: false };
}

function withoutSignatures(obj: JsonObject): JsonObject {
  const { signatures: _signatures, ...rest } = obj;
  return rest;
}

/** Both `signatures` maps in one (user → key ID → signature); `b` wins where both sign with one key. */
function unionOfSignatures(a: JsonValue | undefined, b: JsonValue | undefined): JsonObject {
  const union: Record<string, JsonObject> = {};
  for (const map of [a, b]) {
    if (!isObject(map)) continue;
    for (const [userId, sigs] of Object.entries(map)) if (isObject(sigs)) union[userId] = { ...union[userId], ...sigs };
  }
  return union;
}

/** The raw bytes of an unpadded-base64 ed25519 public key, or undefined when it is not one. */
export function ed25519PublicKey(encoded: string): Buffer | undefined {
  const bytes = tryDecodeBase64(encoded);
  return bytes !== null && bytes.length === 32 ? bytes : undefined;
}

/** Whether `obj` carries a valid signature of `userId` with the ed25519 key `keyId` = `publicKey`. */
export function signedBy(obj: JsonObject, userId: string, keyId: string, publicKey: string): boolean {
  const raw = ed25519PublicKey(publicKey);
  return raw !== undefined && verifyJsonSignature(obj, userId, keyId, raw);
}

/**
 * A device's identity keys as uploaded (end_to_end_encryption.md, "Device
 * keys"): user_id and device_id must be the uploader's, with algorithms and
 * a map of keys.
 */
export function validateDeviceKeys(value: JsonValue | undefined, userId: string, deviceId: string): JsonObject {
  if (!isObject(value)) throw badJson("'device_keys' must be an object");
  const where = 'device_keys';
  if (stringField(value, 'user_id', where) !== userId) throw invalidParam(`'device_keys.user_id' must be your user ID ${userId}`);
  if (stringField(value, 'device_id', where) !== deviceId) {
    throw invalidParam(`'device_keys.device_id' must be the device ${deviceId} the keys are uploaded for`);
  }
  const algorithms = value.algorithms;
  if (!Array.isArray(algorithms) || algorithms.some((a) => typeof a !== 'string')) {
    throw badJson("'device_keys.algorithms' must be an array of strings");
  }
  const keys = objectField(value, 'keys', where);
  for (const [keyId, key] of Object.entries(keys)) {
    if (typeof key !== 'string') throw badJson(`'device_keys.keys.${keyId}' must be a string`);
  }
  if (value.signatures !== undefined) objectField(value, 'signatures', where);
  // The signatures are not checked here, as Synapse does not: every client
  // verifies a device's self-signature before trusting its keys, and
  // refusing what a server cannot use anyway only breaks clients and test
  // suites that upload placeholder keys.
  return withoutUnsigned(value);
}

export interface ParsedKey {
  algorithm: string;
  keyId: string;
  key: JsonObject | string;
}

/**
 * `one_time_keys` / `fallback_keys`: `algorithm:key_id` → a key (a string for
 * unsigned algorithms, a signed object otherwise).
 */
export function parseKeyMap(value: JsonValue | undefined, field: string): ParsedKey[] {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) throw badJson(`'${field}' must be an object`);
  return Object.entries(value).map(([id, key]) => {
    const colon = id.indexOf(':');
    if (colon <= 0 || colon === id.length - 1) throw invalidParam(`'${field}' key '${id}' must be '<algorithm>:<key_id>'`);
    const algorithm = id.slice(0, colon);
    const keyId = id.slice(colon + 1);
    if (typeof key === 'string') return { algorithm, keyId, key };
    if (!isObject(key)) throw badJson(`'${field}.${id}' must be a string or an object`);
    if (typeof key.key !== 'string') throw badJson(`'${field}.${id}.key' must be a string`);
    if (!isObject(key.signatures)) throw badJson(`'${field}.${id}.signatures' must be an object`);
    // As for device keys, the claiming client verifies the signature, not the server (as Synapse).
    return { algorithm, keyId, key: withoutUnsigned(key) };
  });
}

/** The device's ed25519 key from its stored or uploaded identity keys. */
export function deviceSigningKeyOf(deviceKeys: JsonObject | undefined, deviceId: string): string | undefined {
  const keys = deviceKeys?.keys;
  const key = isObject(keys) ? keys[`ed25519:${deviceId}`] : undefined;
  return typeof key === 'string' ? key : undefined;
}

/** The server part of a user ID ('' for a malformed one). */
export function serverOf(userId: string): string {
  return serverNameOfUserId(userId) ?? '';
}

/** The public key of a cross-signing key object (its one `keys` entry), if it has one. */
export function crossSigningPublicKey(key: JsonObject): string | undefined {
  const keys = key.keys;
  const values = isObject(keys) ? Object.values(keys) : [];
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
}

/** A per-key failure in a multi-key response (`failures`). */
export interface KeyFailure {
  errcode: string;
  error: string;
}
