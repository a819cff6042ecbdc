// Device identity keys, one-time keys, fallback keys, cross-signing keys and
// the signatures uploaded for them. Key objects are stored as JSON text.
// Every /sync reports the device's one-time key counts and unused fallback
// key types, so those are cached per device; uploads, claims and device
// deletion invalidate them.
import type { JsonObject } from '../../core/types.js';
import { CommitConsistentCache } from '../commit-consistent-cache.js';
import type { Database, Queryable } from '../database.js';
import { placeholders } from '../rooms/sql.js';

export type CrossSigningKeyType = 'master' | 'self_signing' | 'user_signing';

export interface OneTimeKeyUpload {
  /** `algorithm:keyId` */
  algorithm: string;
  keyId: string;
  key: JsonObject | string;
}

export interface ClaimedKey {
  keyId: string;
  key: JsonObject | string;
}

export interface StoredSignature {
  signerUserId: string;
  signerKeyId: string;
  targetUserId: string;
  targetKeyId: string;
  signature: string;
}

const parse = (json: string): JsonObject | string => JSON.parse(json) as JsonObject | string;

/** What /sync reports about a device's keys. */
interface KeySupply {
  oneTimeKeyCounts: Record<string, number>;
  unusedFallbackKeyTypes: string[];
}

/** Devices whose key supply stays cached (the syncing ones; past it the cache starts over). */
const CACHED_DEVICES = 20_000;

function deviceKey(userId: string, deviceId: string): string {
  return `${userId}\u0000${deviceId}`;
}

export class KeyStore {
  private readonly supply: CommitConsistentCache<KeySupply>;

  constructor(private readonly db: Database) {
    this.supply = new CommitConsistentCache(db, CACHED_DEVICES);
  }

  async getDeviceKeys(userId: string, deviceId: string): Promise<JsonObject | undefined> {
    const row = await this.db.queryOne<{ key_json: string }>('SELECT key_json FROM e2e_device_keys WHERE user_id = ? AND device_id = ?', [
      userId,
      deviceId,
    ]);
    return row && (JSON.parse(row.key_json) as JsonObject);
  }

  /** Device keys of the user's devices that exist and uploaded keys, with the devices' display names. */
  async deviceKeysOf(userId: string, deviceIds?: readonly string[]): Promise<Array<{ deviceId: string; keys: JsonObject; displayName: string | null }>> {
    if (deviceIds?.length === 0) return [];
    const filter = deviceIds ? ` AND k.device_id IN (${placeholders(deviceIds.length)})` : '';
    const rows = await this.db.query<{ device_id: string; key_json: string; display_name: string | null }>(
      `SELECT k.device_id, k.key_json, d.display_name FROM e2e_device_keys k
       JOIN devices d ON d.user_id = k.user_id AND d.device_id = k.device_id
       WHERE k.user_id = ?${filter} ORDER BY k.device_id`,
      [userId, ...(deviceIds ?? [])],
    );
    return rows.map((r) => ({ deviceId: r.device_id, keys: JSON.parse(r.key_json) as JsonObject, displayName: r.display_name }));
  }

  async setDeviceKeys(q: Queryable, userId: string, deviceId: string, keys: JsonObject): Promise<void> {
    await q.execute(
      `INSERT INTO e2e_device_keys (user_id, device_id, key_json) VALUES (?, ?, ?)
       ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json`,
      [userId, deviceId, JSON.stringify(keys)],
    );
  }

  /** The stored JSON of the given one-time key IDs (`algorithm:keyId` → JSON text). */
  async existingOneTimeKeys(q: Queryable, userId: string, deviceId: string, keys: readonly OneTimeKeyUpload[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const k of keys) {
      const row = await q.queryOne<{ key_json: string }>(
        'SELECT key_json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?',
        [userId, deviceId, k.algorithm, k.keyId],
      );
      if (row) found.set(`${k.algorithm}:${k.keyId}`, row.key_json);
    }
    return found;
  }

  async addOneTimeKeys(q: Queryable, userId: string, deviceId: string, keys: readonly OneTimeKeyUpload[]): Promise<void> {
    for (const k of keys) {
      await q.execute(
        `INSERT INTO e2e_one_time_keys (user_id, device_id, algorithm, key_id, key_json) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, device_id, algorithm, key_id) DO NOTHING`,
        [userId, deviceId, k.algorithm, k.keyId, JSON.stringify(k.key)],
      );
    }
    if (keys.length > 0) this.supplyChanged(userId, [deviceId]);
  }

  async oneTimeKeyCounts(userId: string, deviceId: string): Promise<Record<string, number>> {
    return { ...(await this.keySupply(userId, deviceId)).oneTimeKeyCounts };
  }

  async unusedFallbackKeyTypes(userId: string, deviceId: string): Promise<string[]> {
    return [...(await this.keySupply(userId, deviceId)).unusedFallbackKeyTypes];
  }

  private async keySupply(userId: string, deviceId: string): Promise<KeySupply> {
    const supply = await this.supply.get(deviceKey(userId, deviceId), async () => {
      const [counts, fallback] = await Promise.all([
        this.db.query<{ algorithm: string; n: number }>(
          'SELECT algorithm, COUNT(*) AS n FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? GROUP BY algorithm',
          [userId, deviceId],
        ),
        this.db.query<{ algorithm: string }>(
          'SELECT algorithm FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0 ORDER BY algorithm',
          [userId, deviceId],
        ),
      ]);
      return {
        oneTimeKeyCounts: Object.fromEntries(counts.map((r) => [r.algorithm, Number(r.n)])),
        unusedFallbackKeyTypes: fallback.map((r) => r.algorithm),
      };
    });
    return supply!;
  }

  /** The device's key supply changed (after the write, in its transaction if any). */
  private supplyChanged(userId: string, deviceIds: readonly string[]): void {
    const keys = new Set(deviceIds.map((deviceId) => deviceKey(userId, deviceId)));
    this.supply.invalidate((key) => keys.has(key));
  }

  /**
   * Removes and returns one one-time key, so each key is handed out exactly
   * once. On PostgreSQL, SKIP LOCKED lets concurrent claimers take different
   * keys instead of all aiming at the same row; SQLite runs the statement
   * atomically under its single writer.
   */
  async claimOneTimeKey(userId: string, deviceId: string, algorithm: string): Promise<ClaimedKey | undefined> {
    const lock = this.db.engine === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const row = await this.db.queryOne<{ key_id: string; key_json: string }>(
      `DELETE FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = (
         SELECT key_id FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? ORDER BY key_id LIMIT 1${lock}
       ) RETURNING key_id, key_json`,
      [userId, deviceId, algorithm, userId, deviceId, algorithm],
    );
    if (row) this.supplyChanged(userId, [deviceId]);
    return row && { keyId: row.key_id, key: parse(row.key_json) };
  }

  async getFallbackKey(q: Queryable, userId: string, deviceId: string, algorithm: string): Promise<{ keyId: string; json: string; used: boolean } | undefined> {
    const row = await q.queryOne<{ key_id: string; key_json: string; used: number }>(
      'SELECT key_id, key_json, used FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?',
      [userId, deviceId, algorithm],
    );
    return row && { keyId: row.key_id, json: row.key_json, used: Number(row.used) === 1 };
  }

  /** Replaces the device's fallback key for the algorithm; a new key starts unused. */
  async setFallbackKey(q: Queryable, userId: string, deviceId: string, key: OneTimeKeyUpload): Promise<void> {
    await q.execute(
      `INSERT INTO e2e_fallback_keys (user_id, device_id, algorithm, key_id, key_json, used) VALUES (?, ?, ?, ?, ?, 0)
       ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET key_id = excluded.key_id, key_json = excluded.key_json, used = 0`,
      [userId, deviceId, key.algorithm, key.keyId, JSON.stringify(key.key)],
    );
    this.supplyChanged(userId, [deviceId]);
  }

  /** The fallback key for the algorithm, marked used (it is not removed). */
  async claimFallbackKey(userId: string, deviceId: string, algorithm: string): Promise<ClaimedKey | undefined> {
    const row = await this.db.queryOne<{ key_id: string; key_json: string }>(
      'UPDATE e2e_fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ? AND algorithm = ? RETURNING key_id, key_json',
      [userId, deviceId, algorithm],
    );
    if (row) this.supplyChanged(userId, [deviceId]);
    return row && { keyId: row.key_id, key: parse(row.key_json) };
  }

  async getCrossSigningKeys(userId: string): Promise<Map<CrossSigningKeyType, { publicKey: string; key: JsonObject }>> {
    const rows = await this.db.query<{ key_type: CrossSigningKeyType; public_key: string; key_json: string }>(
      'SELECT key_type, public_key, key_json FROM e2e_cross_signing_keys WHERE user_id = ?',
      [userId],
    );
    return new Map(rows.map((r) => [r.key_type, { publicKey: r.public_key, key: JSON.parse(r.key_json) as JsonObject }]));
  }

  async setCrossSigningKey(q: Queryable, userId: string, type: CrossSigningKeyType, publicKey: string, key: JsonObject): Promise<void> {
    await q.execute(
      `INSERT INTO e2e_cross_signing_keys (user_id, key_type, public_key, key_json) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, key_type) DO UPDATE SET public_key = excluded.public_key, key_json = excluded.key_json`,
      [userId, type, publicKey, JSON.stringify(key)],
    );
  }

  async addSignatures(q: Queryable, signatures: readonly StoredSignature[]): Promise<void> {
    for (const s of signatures) {
      await q.execute(
        `INSERT INTO e2e_signatures (signer_user_id, signer_key_id, target_user_id, target_key_id, signature) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (target_user_id, target_key_id, signer_user_id, signer_key_id) DO UPDATE SET signature = excluded.signature`,
        [s.signerUserId, s.signerKeyId, s.targetUserId, s.targetKeyId, s.signature],
      );
    }
  }

  /** Uploaded signatures on the user's keys (devices and cross-signing keys). */
  async signaturesOn(targetUserId: string): Promise<StoredSignature[]> {
    const rows = await this.db.query<{ signer_user_id: string; signer_key_id: string; target_key_id: string; signature: string }>(
      'SELECT signer_user_id, signer_key_id, target_key_id, signature FROM e2e_signatures WHERE target_user_id = ?',
      [targetUserId],
    );
    return rows.map((r) => ({
      signerUserId: r.signer_user_id,
      signerKeyId: r.signer_key_id,
      targetUserId,
      targetKeyId: r.target_key_id,
      signature: r.signature,
    }));
  }

  /** Signatures others uploaded on the device's keys (through /keys/signatures/upload). */
  async deleteSignaturesOnDevice(q: Queryable, userId: string, deviceId: string): Promise<void> {
    await q.execute('DELETE FROM e2e_signatures WHERE target_user_id = ? AND target_key_id = ?', [userId, deviceId]);
  }

  /** Everything keyed to a device: its identity, one-time and fallback keys and signatures on it. */
  async deleteDevices(q: Queryable, userId: string, deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const ids = placeholders(deviceIds.length);
    for (const table of ['e2e_device_keys', 'e2e_one_time_keys', 'e2e_fallback_keys']) {
      await q.execute(`DELETE FROM ${table} WHERE user_id = ? AND device_id IN (${ids})`, [userId, ...deviceIds]);
    }
    await q.execute(`DELETE FROM e2e_signatures WHERE target_user_id = ? AND target_key_id IN (${ids})`, [userId, ...deviceIds]);
    this.supplyChanged(userId, deviceIds);
  }
}
