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
}

interface ThumbnailRow {
  media_id: string;
  width: number;
  height: number;
  method: string;
  content_type: string;
  size: number | string;
}

const MEDIA_COLUMNS = 'media_id, user_id, content_type, upload_name, size, sha256, created_ts, uploaded_ts, unused_expires_ts, quarantined';

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
