// The media repository's tables: local_media (one row per mxc:// URI this
// server minted) and local_media_thumbnails (thumbnails cached on disk);
// remote_media_cache and remote_media_cache_thumbnails for other servers'
// media fetched over federation.
// The bytes live in files under media_store_path; see services/media/files.ts.
import type { Database } from './database.js';

export interface LocalMedia {
  mediaId: string;
  /** Who uploaded it, or who called POST /media/v1/create. */
  userId: string;
  contentType: string | null;
  uploadName: string | null;
  /** Bytes; null until the content is uploaded. */
  size: number | null;
  /** Hex SHA-256 of the content; null until uploaded. */
  sha256: string | null;
  createdTs: number;
  /** Null while an async upload (POST /create) is still pending. */
  uploadedTs: number | null;
  /** When a pending async upload lapses; null for direct uploads. */
  unusedExpiresTs: number | null;
  quarantined: boolean;
  /** The admin who quarantined it (null when not quarantined, or by no one known). */
  quarantinedBy: string | null;
}

export interface UploadedContent {
  contentType: string;
  uploadName: string | null;
  size: number;
  sha256: string;
  uploadedTs: number;
}

export interface MediaThumbnail {
  mediaId: string;
  width: number;
  height: number;
  method: 'crop' | 'scale';
  contentType: string;
  size: number;
}

/** Another server's media, fetched once and kept. */
export interface RemoteMedia {
  origin: string;
  mediaId: string;
  contentType: string;
  uploadName: string | null;
  size: number;
  sha256: string;
  /** The name of the file under remote_content: ours, never the remote's media ID. */
  filesystemId: string;
  fetchedTs: number;
  quarantined: boolean;
}

interface RemoteMediaRow {
  media_origin: string;
  media_id: string;
  content_type: string;
  upload_name: string | null;
  size: number | string;
  sha256: string;
  filesystem_id: string;
  fetched_ts: number | string;
  quarantined: number;
}

interface MediaRow {
  media_id: string;
  user_id: string;
  content_type: string | null;
  upload_name: string | null;
  size: number | string | null;
  sha256: string | null;
  created_ts: number | string;
  uploaded_ts: number | string | null;
  unused_expires_ts: number | string | null;
  quarantined: number;
  quarantined_by: string | null;
}

interface ThumbnailRow {
  media_id: string;
  width: number;
  height: number;
  method: string;
  content_type: string;
  size: number | string;
}

const MEDIA_COLUMNS = 'media_id, user_id, content_type, upload_name, size, sha256, created_ts, uploaded_ts, unused_expires_ts, quarantined, quarantined_by';

// BIGINT arrives as a string from PostgreSQL.
const numberOrNull = (value: number | string | null): number | null => (value === null ? null : Number(value));

function toMedia(row: MediaRow): LocalMedia {
  return {
    mediaId: row.media_id,
    userId: row.user_id,
    contentType: row.content_type,
    uploadName: row.upload_name,
    size: numberOrNull(row.size),
    sha256: row.sha256,
    createdTs: Number(row.created_ts),
    uploadedTs: numberOrNull(row.uploaded_ts),
    unusedExpiresTs: numberOrNull(row.unused_expires_ts),
    quarantined: Number(row.quarantined) !== 0,
    quarantinedBy: row.quarantined_by,
  };
}

function toRemoteMedia(row: RemoteMediaRow): RemoteMedia {
  return {
    origin: row.media_origin,
    mediaId: row.media_id,
    contentType: row.content_type,
    uploadName: row.upload_name,
    size: Number(row.size),
    sha256: row.sha256,
    filesystemId: row.filesystem_id,
    fetchedTs: Number(row.fetched_ts),
    quarantined: Number(row.quarantined) !== 0,
  };
}

function toThumbnail(row: ThumbnailRow): MediaThumbnail {
  return {
    mediaId: row.media_id,
    width: Number(row.width),
    height: Number(row.height),
    method: row.method === 'crop' ? 'crop' : 'scale',
    contentType: row.content_type,
    size: Number(row.size),
  };
}

/** Synapse's order_by values for a user's media that Axon has columns for. */
export const MEDIA_ORDER_COLUMNS = {
  media_id: 'media_id',
  upload_name: 'upload_name',
  created_ts: 'created_ts',
  media_length: 'size',
  media_type: 'content_type',
  quarantined_by: 'quarantined_by',
} as const;

export type MediaOrder = keyof typeof MEDIA_ORDER_COLUMNS;

export interface MediaListPage {
  from: number;
  limit: number;
  orderBy: MediaOrder;
  direction: 'f' | 'b';
}

export class MediaStore {
  constructor(private readonly db: Database) {}

  /** Records content whose file is already in place (POST /upload). */
  async insertUploaded(mediaId: string, userId: string, content: UploadedContent): Promise<void> {
    await this.db.execute(
      `INSERT INTO local_media (media_id, user_id, content_type, upload_name, size, sha256, created_ts, uploaded_ts, unused_expires_ts, quarantined)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)`,
      [mediaId, userId, content.contentType, content.uploadName, content.size, content.sha256, content.uploadedTs, content.uploadedTs],
    );
  }

  /** Reserves an mxc:// URI for a later PUT (POST /media/v1/create). */
  async insertPending(mediaId: string, userId: string, createdTs: number, unusedExpiresTs: number): Promise<void> {
    await this.db.execute(
      `INSERT INTO local_media (media_id, user_id, created_ts, unused_expires_ts, quarantined) VALUES (?, ?, ?, ?, 0)`,
      [mediaId, userId, createdTs, unusedExpiresTs],
    );
  }

  /**
   * Fills in a pending row once its file is in place. False when the row was
   * no longer pending: someone else's PUT won the race.
   */
  async completePending(mediaId: string, content: UploadedContent): Promise<boolean> {
    const { changes } = await this.db.execute(
      `UPDATE local_media SET content_type = ?, upload_name = ?, size = ?, sha256 = ?, uploaded_ts = ?
       WHERE media_id = ? AND uploaded_ts IS NULL`,
      [content.contentType, content.uploadName, content.size, content.sha256, content.uploadedTs, mediaId],
    );
    return changes > 0;
  }

  async get(mediaId: string): Promise<LocalMedia | undefined> {
    const row = await this.db.queryOne<MediaRow>(`SELECT ${MEDIA_COLUMNS} FROM local_media WHERE media_id = ?`, [mediaId]);
    return row && toMedia(row);
  }

  /** One page of the user's media (uploaded or pending) for the admin API, and how many there are. */
  async listByUser(userId: string, page: MediaListPage): Promise<{ media: LocalMedia[]; total: number }> {
    const total = await this.db.queryOne<{ n: number | string }>('SELECT COUNT(*) AS n FROM local_media WHERE user_id = ?', [userId]);
    const column = MEDIA_ORDER_COLUMNS[page.orderBy];
    const dir = page.direction === 'b' ? 'DESC' : 'ASC';
    const rows = await this.db.query<MediaRow>(
      `SELECT ${MEDIA_COLUMNS} FROM local_media WHERE user_id = ?
       ORDER BY CASE WHEN ${column} IS NULL THEN 0 ELSE 1 END ${dir}, ${column} ${dir}, media_id ${dir} LIMIT ? OFFSET ?`,
      [userId, page.limit, page.from],
    );
    return { media: rows.map(toMedia), total: Number(total?.n ?? 0) };
  }

  /** Quarantines (with the admin's ID) or releases local media; false when there is no such media. */
  async setQuarantined(mediaId: string, quarantinedBy: string | null): Promise<boolean> {
    const { changes } = await this.db.execute('UPDATE local_media SET quarantined = ?, quarantined_by = ? WHERE media_id = ?', [
      quarantinedBy === null ? 0 : 1,
      quarantinedBy,
      mediaId,
    ]);
    return changes > 0;
  }

  /** Quarantines every piece of the user's media not quarantined yet; returns how many. */
  async quarantineAllOf(userId: string, quarantinedBy: string): Promise<number> {
    const { changes } = await this.db.execute('UPDATE local_media SET quarantined = 1, quarantined_by = ? WHERE user_id = ? AND quarantined = 0', [
      quarantinedBy,
      userId,
    ]);
    return changes;
  }

  /** The IDs of all of the user's media. */
  async mediaIdsOf(userId: string): Promise<string[]> {
    const rows = await this.db.query<{ media_id: string }>('SELECT media_id FROM local_media WHERE user_id = ? ORDER BY created_ts, media_id', [userId]);
    return rows.map((r) => r.media_id);
  }

  /** As `setQuarantined`, for another server's media in the cache. */
  async setRemoteQuarantined(origin: string, mediaId: string, quarantinedBy: string | null): Promise<boolean> {
    const { changes } = await this.db.execute(
      'UPDATE remote_media_cache SET quarantined = ?, quarantined_by = ? WHERE media_origin = ? AND media_id = ?',
      [quarantinedBy === null ? 0 : 1, quarantinedBy, origin, mediaId],
    );
    return changes > 0;
  }

  /** Forgets local media and its thumbnails; the caller removes the files. */
  async deleteLocal(mediaId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute('DELETE FROM local_media_thumbnails WHERE media_id = ?', [mediaId]);
      await tx.execute('DELETE FROM local_media WHERE media_id = ?', [mediaId]);
    });
  }

  /** How many of the user's async uploads are still waiting for content and not yet expired. */
  async countPending(userId: string, now: number): Promise<number> {
    const row = await this.db.queryOne<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM local_media WHERE user_id = ? AND uploaded_ts IS NULL AND unused_expires_ts > ?',
      [userId, now],
    );
    return Number(row?.n ?? 0);
  }

  async thumbnails(mediaId: string): Promise<MediaThumbnail[]> {
    const rows = await this.db.query<ThumbnailRow>(
      'SELECT media_id, width, height, method, content_type, size FROM local_media_thumbnails WHERE media_id = ?',
      [mediaId],
    );
    return rows.map(toThumbnail);
  }

  /** Records a thumbnail whose file is in place; a concurrent identical insert is harmless. */
  async insertThumbnail(thumbnail: MediaThumbnail): Promise<void> {
    await this.db.execute(
      `INSERT INTO local_media_thumbnails (media_id, width, height, method, content_type, size) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (media_id, width, height, method, content_type) DO NOTHING`,
      [thumbnail.mediaId, thumbnail.width, thumbnail.height, thumbnail.method, thumbnail.contentType, thumbnail.size],
    );
  }

  async getRemote(origin: string, mediaId: string): Promise<RemoteMedia | undefined> {
    const row = await this.db.queryOne<RemoteMediaRow>(
      `SELECT media_origin, media_id, content_type, upload_name, size, sha256, filesystem_id, fetched_ts, quarantined
       FROM remote_media_cache WHERE media_origin = ? AND media_id = ?`,
      [origin, mediaId],
    );
    return row && toRemoteMedia(row);
  }

  /**
   * Records fetched media whose file is in place. False when a row was
   * there already (another fetch won): the caller's file is then unused.
   */
  async insertRemote(media: RemoteMedia): Promise<boolean> {
    const { changes } = await this.db.execute(
      `INSERT INTO remote_media_cache (media_origin, media_id, content_type, upload_name, size, sha256, filesystem_id, fetched_ts, quarantined)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (media_origin, media_id) DO NOTHING`,
      [media.origin, media.mediaId, media.contentType, media.uploadName, media.size, media.sha256, media.filesystemId, media.fetchedTs, media.quarantined ? 1 : 0],
    );
    return changes > 0;
  }

  /** Forgets fetched media whose file has gone, so the next download fetches it again. */
  async deleteRemote(origin: string, mediaId: string): Promise<void> {
    await this.db.execute('DELETE FROM remote_media_cache_thumbnails WHERE media_origin = ? AND media_id = ?', [origin, mediaId]);
    await this.db.execute('DELETE FROM remote_media_cache WHERE media_origin = ? AND media_id = ?', [origin, mediaId]);
  }

  async remoteThumbnails(origin: string, mediaId: string): Promise<MediaThumbnail[]> {
    const rows = await this.db.query<ThumbnailRow>(
      'SELECT media_id, width, height, method, content_type, size FROM remote_media_cache_thumbnails WHERE media_origin = ? AND media_id = ?',
      [origin, mediaId],
    );
    return rows.map(toThumbnail);
  }

  async insertRemoteThumbnail(origin: string, thumbnail: MediaThumbnail): Promise<void> {
    await this.db.execute(
      `INSERT INTO remote_media_cache_thumbnails (media_origin, media_id, width, height, method, content_type, size) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (media_origin, media_id, width, height, method, content_type) DO NOTHING`,
      [origin, thumbnail.mediaId, thumbnail.width, thumbnail.height, thumbnail.method, thumbnail.contentType, thumbnail.size],
    );
  }
}
