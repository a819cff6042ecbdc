// Server-side key backups (end_to_end_encryption.md, "Server-side key
// backups"; key_backup.yaml). The server stores encrypted session keys and
// keeps the best copy of each session.
import type { JsonObject } from '../../core/types.js';
import { invalidParam, MatrixError, notFound } from '../../core/errors.js';
import type { BackupVersion, KeyBackupStore, RoomKey, StoredRoomKey } from '../../storage/e2ee/index.js';

export interface BackupInfo {
  algorithm: string;
  auth_data: JsonObject;
  version: string;
  count: number;
  etag: string;
}

export interface BackupCounts {
  etag: string;
  count: number;
}

/** room ID → session ID → key */
export type RoomKeyUpload = Map<string, Map<string, RoomKey>>;

export class KeyBackupService {
  constructor(private readonly store: KeyBackupStore) {}

  /** # POST /room_keys/version */
  async createVersion(userId: string, algorithm: string, authData: JsonObject): Promise<string> {
    return String(await this.store.createVersion(userId, algorithm, authData));
  }

  /** # GET /room_keys/version and /room_keys/version/{version} */
  async getVersion(userId: string, version?: string): Promise<BackupInfo> {
    const found = await this.store.getVersion(this.store.db, userId, version === undefined ? undefined : parseVersion(version));
    if (!found) throw notFound(version === undefined ? 'No current backup version' : `Unknown backup version ${version}`);
    return {
      algorithm: found.algorithm,
      auth_data: found.authData,
      version: String(found.version),
      count: await this.store.count(this.store.db, userId, found.version),
      etag: String(found.etag),
    };
  }

  /** # PUT /room_keys/version/{version}: only auth_data may change. */
  async updateVersion(userId: string, version: string, algorithm: string, authData: JsonObject, bodyVersion: string | undefined): Promise<void> {
    if (bodyVersion !== undefined && bodyVersion !== version) {
      throw invalidParam(`The body's version '${bodyVersion}' does not match the version '${version}' in the path`);
    }
    const current = await this.existingVersion(userId, version);
    if (current.algorithm !== algorithm) {
      throw invalidParam(`A backup version's algorithm cannot change (it is ${current.algorithm}); create a new version instead`);
    }
    await this.store.updateAuthData(userId, current.version, authData);
  }

  /** # DELETE /room_keys/version/{version} */
  async deleteVersion(userId: string, version: string): Promise<void> {
    if (!(await this.store.deleteVersion(userId, parseVersion(version)))) throw notFound(`Unknown backup version ${version}`);
  }

  /**
   * # PUT /room_keys/keys[/{roomId}[/{sessionId}]]
   * Only into the current version. An existing key is replaced only by a
   * better one: verified beats unverified, then the lower first_message_index,
   * then the lower forwarded_count.
   */
  async putKeys(userId: string, version: string, upload: RoomKeyUpload): Promise<BackupCounts> {
    const wanted = parseVersion(version);
    return this.store.db.transaction(async (tx) => {
      const current = await this.store.getVersion(tx, userId);
      if (!current) throw notFound('No backup version exists; create one with POST /room_keys/version');
      if (current.version !== wanted) {
        throw new MatrixError(403, 'M_WRONG_ROOM_KEYS_VERSION', `Wrong backup version ${version}: the current one is ${current.version}`, {
          current_version: String(current.version),
        });
      }
      let changed = false;
      for (const [roomId, sessions] of upload) {
        for (const [sessionId, key] of sessions) {
          const existing = await this.store.getKey(tx, userId, wanted, roomId, sessionId);
          if (existing && !isBetter(key, existing)) continue;
          await this.store.putKey(tx, userId, wanted, roomId, sessionId, key);
          changed = true;
        }
      }
      if (changed) await this.store.bumpEtag(tx, userId, wanted);
      return this.counts(userId, current, changed);
    });
  }

  /** # GET /room_keys/keys[/{roomId}[/{sessionId}]] */
  async getKeys(userId: string, version: string, roomId?: string, sessionId?: string): Promise<StoredRoomKey[]> {
    const found = await this.existingVersion(userId, version);
    return this.store.listKeys(userId, found.version, roomId, sessionId);
  }

  /** # DELETE /room_keys/keys[/{roomId}[/{sessionId}]] */
  async deleteKeys(userId: string, version: string, roomId?: string, sessionId?: string): Promise<BackupCounts> {
    const found = await this.existingVersion(userId, version);
    return this.store.db.transaction(async (tx) => {
      const deleted = await this.store.deleteKeys(tx, userId, found.version, roomId, sessionId);
      if (deleted > 0) await this.store.bumpEtag(tx, userId, found.version);
      return this.counts(userId, found, deleted > 0);
    });
  }

  private async counts(userId: string, version: BackupVersion, bumped: boolean): Promise<BackupCounts> {
    return { etag: String(version.etag + (bumped ? 1 : 0)), count: await this.store.count(this.store.db, userId, version.version) };
  }

  private async existingVersion(userId: string, version: string): Promise<BackupVersion> {
    const found = await this.store.getVersion(this.store.db, userId, parseVersion(version));
    if (!found) throw notFound(`Unknown backup version ${version}`);
    return found;
  }
}

/** Whether `candidate` should replace `existing` (key_backup.yaml, PUT /room_keys/keys). */
export function isBetter(candidate: RoomKey, existing: RoomKey): boolean {
  if (candidate.isVerified !== existing.isVerified) return candidate.isVerified;
  if (candidate.firstMessageIndex !== existing.firstMessageIndex) return candidate.firstMessageIndex < existing.firstMessageIndex;
  return candidate.forwardedCount < existing.forwardedCount;
}

/** Our versions are decimal integers; anything else cannot name one (404, as for an unknown number). */
function parseVersion(version: string): number {
  if (!/^[1-9]\d{0,15}$/.test(version)) throw notFound(`Unknown backup version ${version}`);
  return Number(version);
}
