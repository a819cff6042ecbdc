// Device keys, one-time keys and fallback keys (end_to_end_encryption.md,
// "Uploading keys", "Querying keys", "Claiming one-time keys").
import type { JsonObject, JsonValue } from '../../core/types.js';
import { invalidParam } from '../../core/errors.js';
import type { Database } from '../../storage/database.js';
import type { ClaimedKey, KeyStore, StoredSignature } from '../../storage/e2ee/index.js';
import type { DeviceListService } from './device-lists.js';
import { serverNameOfUserId } from '../../core/identifiers.js';
import { crossSigningPublicKey, isObject, parseKeyMap, sameKey, serverOf, updateDeviceKeys, validateDeviceKeys, type ParsedKey } from './common.js';

export interface KeyUpload {
  deviceKeys?: JsonValue;
  oneTimeKeys?: JsonValue;
  fallbackKeys?: JsonValue;
}

export interface QueryResult {
  device_keys: Record<string, Record<string, JsonObject>>;
  master_keys: Record<string, JsonObject>;
  self_signing_keys: Record<string, JsonObject>;
  user_signing_keys: Record<string, JsonObject>;
  failures: Record<string, JsonObject>;
}

export interface ClaimResult {
  one_time_keys: Record<string, Record<string, Record<string, JsonObject | string>>>;
  failures: Record<string, JsonObject>;
}

/**
 * Keys of other servers' users (server-server-api "End-to-End Encryption"):
 * the same shapes as the local answers, with `failures` naming each server
 * that could not be asked.
 */
export interface RemoteKeySource {
  query(request: Record<string, readonly string[]>, timeoutMs: number): Promise<Omit<QueryResult, 'user_signing_keys'>>;
  claim(request: Record<string, Record<string, string>>, timeoutMs: number): Promise<ClaimResult>;
}

export class KeyService {
  constructor(
    private readonly db: Database,
    private readonly store: KeyStore,
    private readonly deviceLists: DeviceListService,
    private readonly serverName: string,
    private readonly remote: RemoteKeySource,
  ) {}

  /**
   * # POST /keys/upload
   * Device keys with the identity keys already stored add the signatures
   * they carry; new identity keys replace the old ones (as Synapse does);
   * either change is announced on the device list. One-time keys are added
   * once each; a fallback key replaces the previous one of its algorithm.
   */
  async upload(userId: string, deviceId: string, upload: KeyUpload): Promise<Record<string, number>> {
    const newDeviceKeys = upload.deviceKeys === undefined || upload.deviceKeys === null ? undefined : validateDeviceKeys(upload.deviceKeys, userId, deviceId);
    const position = await this.db.transaction(async (tx) => {
      const stored = await this.store.getDeviceKeys(userId, deviceId);
      const update = newDeviceKeys && updateDeviceKeys(stored, newDeviceKeys);
      const oneTimeKeys = parseKeyMap(upload.oneTimeKeys, 'one_time_keys');
      const fallbackKeys = parseKeyMap(upload.fallbackKeys, 'fallback_keys');
      await this.addOneTimeKeys(userId, deviceId, oneTimeKeys);
      await this.replaceFallbackKeys(userId, deviceId, fallbackKeys);
      if (!update) return undefined;
      await this.store.setDeviceKeys(tx, userId, deviceId, update.keys);
      // Cross-signing signatures were made over the old identity keys and cannot verify against the new ones.
      if (update.newIdentity) await this.store.deleteSignaturesOnDevice(tx, userId, deviceId);
      return this.deviceLists.recordLocalChange({ userId, devices: [deviceId] });
    });
    if (position !== undefined) await this.deviceLists.announce(position, [userId]);
    return this.oneTimeKeyCounts(userId, deviceId);
  }

  /**
   * Unused one-time keys per algorithm. signed_curve25519 is always present
   * (0 when none), as Synapse reports it: clients read a missing count as
   * "the server does not count" rather than "upload more".
   */
  async oneTimeKeyCounts(userId: string, deviceId: string): Promise<Record<string, number>> {
    return { signed_curve25519: 0, ...(await this.store.oneTimeKeyCounts(userId, deviceId)) };
  }

  /** Algorithms whose fallback key has not been claimed yet (/sync's device_unused_fallback_key_types). */
  unusedFallbackKeyTypes(userId: string, deviceId: string): Promise<string[]> {
    return this.store.unusedFallbackKeyTypes(userId, deviceId);
  }

  /**
   * # POST /keys/query
   * `requester` sees signatures others made on their keys, plus those they
   * made themselves; their own user-signing key only. Other servers' users
   * are asked of their servers (or their tracked device lists), each server
   * within `timeoutMs`; a server that does not answer is named in `failures`.
   */
  async query(requester: string, request: Record<string, readonly string[]>, timeoutMs: number): Promise<QueryResult> {
    const { local, remote } = this.splitByServer(request);
    const result = await this.queryLocal(local, { requester, displayNames: true });
    if (Object.keys(remote).length === 0) return result;
    const answer = await this.remote.query(remote, timeoutMs);
    Object.assign(result.device_keys, answer.device_keys);
    Object.assign(result.failures, answer.failures);
    // The requester's own user-signing signatures on others' master keys are kept here, not on their servers.
    for (const [userId, key] of Object.entries(answer.master_keys)) {
      const mine = (await this.store.signaturesOn(userId)).filter((s) => s.signerUserId === requester);
      result.master_keys[userId] = mergeSignatures(key, mine, crossSigningPublicKey(key) ?? '');
    }
    Object.assign(result.self_signing_keys, answer.self_signing_keys);
    return result;
  }

  /**
   * The keys of local users in `request` (others are left out), as POST
   * /keys/query shows them to `requester` and POST
   * /_matrix/federation/v1/user/keys/query to other servers (no requester:
   * only the owners' own signatures, and no user-signing keys).
   */
  async queryLocal(request: Record<string, readonly string[]>, opts: { requester?: string; displayNames: boolean }): Promise<QueryResult> {
    const result: QueryResult = { device_keys: {}, master_keys: {}, self_signing_keys: {}, user_signing_keys: {}, failures: {} };
    for (const [userId, deviceIds] of Object.entries(request)) {
      if (serverNameOfUserId(userId) !== this.serverName) continue;
      const signatures = (await this.store.signaturesOn(userId)).filter((s) => s.signerUserId === userId || s.signerUserId === opts.requester);
      const devices: Record<string, JsonObject> = {};
      for (const device of await this.store.deviceKeysOf(userId, deviceIds.length > 0 ? deviceIds : undefined)) {
        const keys = mergeSignatures(device.keys, signatures, device.deviceId);
        // DeviceInformation's `unsigned` is the server's to fill (uploads are
        // stripped of theirs); as Synapse, it is always there, empty without a name to show.
        keys.unsigned = device.displayName !== null && opts.displayNames ? { device_display_name: device.displayName } : {};
        devices[device.deviceId] = keys;
      }
      result.device_keys[userId] = devices;
      const crossSigning = await this.store.getCrossSigningKeys(userId);
      const master = crossSigning.get('master');
      if (master) result.master_keys[userId] = mergeSignatures(master.key, signatures, master.publicKey);
      const selfSigning = crossSigning.get('self_signing');
      if (selfSigning) result.self_signing_keys[userId] = mergeSignatures(selfSigning.key, signatures, selfSigning.publicKey);
      const userSigning = crossSigning.get('user_signing');
      if (userSigning && userId === opts.requester) result.user_signing_keys[userId] = userSigning.key;
    }
    return result;
  }

  /**
   * # POST /keys/claim
   * Each one-time key goes to exactly one claimer; once none is left, the
   * fallback key is handed out (and marked used) instead. Keys of other
   * servers' users are claimed from their servers, each within `timeoutMs`.
   */
  async claim(request: Record<string, Record<string, string>>, timeoutMs: number): Promise<ClaimResult> {
    const { local, remote } = this.splitByServer(request);
    const result = await this.claimLocal(local);
    if (Object.keys(remote).length === 0) return result;
    const answer = await this.remote.claim(remote, timeoutMs);
    Object.assign(result.one_time_keys, answer.one_time_keys);
    Object.assign(result.failures, answer.failures);
    return result;
  }

  /** One-time (or fallback) keys of local users in `request`; others are left out. */
  async claimLocal(request: Record<string, Record<string, string>>): Promise<ClaimResult> {
    const result: ClaimResult = { one_time_keys: {}, failures: {} };
    for (const [userId, devices] of Object.entries(request)) {
      if (serverNameOfUserId(userId) !== this.serverName) continue;
      for (const [deviceId, algorithm] of Object.entries(devices)) {
        const claimed: ClaimedKey | undefined =
          (await this.store.claimOneTimeKey(userId, deviceId, algorithm)) ?? (await this.store.claimFallbackKey(userId, deviceId, algorithm));
        if (!claimed) continue;
        const forUser = (result.one_time_keys[userId] ??= {});
        forUser[deviceId] = { [`${algorithm}:${claimed.keyId}`]: claimed.key };
      }
    }
    return result;
  }

  /** The request's local and remote users; an invalid user ID is left out, as if it had no keys (Synapse's behaviour). */
  private splitByServer<T>(request: Record<string, T>): { local: Record<string, T>; remote: Record<string, T> } {
    const local: Record<string, T> = {};
    const remote: Record<string, T> = {};
    for (const [userId, value] of Object.entries(request)) {
      const server = serverNameOfUserId(userId);
      if (server === this.serverName) local[userId] = value;
      else if (server !== null) remote[userId] = value;
    }
    return { local, remote };
  }

  /** A deleted device's keys go with it (inside the caller's transaction). */
  deleteDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    return this.store.deleteDevices(this.db, userId, deviceIds);
  }

  private async addOneTimeKeys(userId: string, deviceId: string, keys: readonly ParsedKey[]): Promise<void> {
    const existing = await this.store.existingOneTimeKeys(this.db, userId, deviceId, keys);
    for (const k of keys) {
      const before = existing.get(`${k.algorithm}:${k.keyId}`);
      if (before !== undefined && !sameKey(JSON.parse(before) as JsonValue, k.key)) {
        throw invalidParam(`One-time key ${k.algorithm}:${k.keyId} already exists with different content; key IDs must not be reused`);
      }
    }
    await this.store.addOneTimeKeys(this.db, userId, deviceId, keys);
  }

  private async replaceFallbackKeys(userId: string, deviceId: string, keys: readonly ParsedKey[]): Promise<void> {
    const seen = new Set<string>();
    for (const k of keys) {
      if (seen.has(k.algorithm)) throw invalidParam(`'fallback_keys' holds more than one ${k.algorithm} key; a device has one fallback key per algorithm`);
      seen.add(k.algorithm);
      const current = await this.store.getFallbackKey(this.db, userId, deviceId, k.algorithm);
      // Re-uploading the current key (a retried request) must not make a used key look fresh.
      if (current && current.keyId === k.keyId && sameKey(JSON.parse(current.json) as JsonValue, k.key)) continue;
      await this.store.setFallbackKey(this.db, userId, deviceId, k);
    }
  }
}

/** A copy of `key` with the uploaded signatures on `targetKeyId` merged into its own. */
export function mergeSignatures(key: JsonObject, signatures: readonly StoredSignature[], targetKeyId: string): JsonObject {
  const merged: Record<string, Record<string, JsonValue>> = {};
  const own = key.signatures;
  if (isObject(own)) {
    for (const [user, sigs] of Object.entries(own)) if (isObject(sigs)) merged[user] = { ...sigs };
  }
  for (const s of signatures) {
    if (s.targetKeyId !== targetKeyId) continue;
    (merged[s.signerUserId] ??= {})[s.signerKeyId] = s.signature;
  }
  // A key uploaded without signatures (a master key may be) is served as uploaded, as Synapse does.
  if (own === undefined && Object.keys(merged).length === 0) return { ...key };
  return { ...key, signatures: merged };
}
