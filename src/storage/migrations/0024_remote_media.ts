import type { Migration } from './index.js';

// Other servers' media, fetched over federation and kept so the next
// download does not go over the network (client-server-api "Content
// repository"; server-server-api "Content Repository"). The bytes live
// under media_store_path/remote_content by filesystem_id, a name of our
// own making, as Synapse keeps them; thumbnails are made here from the
// cached original and recorded beside it.
export const remoteMediaMigration: Migration = {
  id: 24,
  name: 'remote_media',
  statements: [
    `CREATE TABLE remote_media_cache (
      media_origin TEXT NOT NULL,
      media_id TEXT NOT NULL,
      content_type TEXT NOT NULL,
      upload_name TEXT,
      size BIGINT NOT NULL,
      sha256 TEXT NOT NULL,
      filesystem_id TEXT NOT NULL,
      fetched_ts BIGINT NOT NULL,
      quarantined INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (media_origin, media_id)
    )`,
    `CREATE TABLE remote_media_cache_thumbnails (
      media_origin TEXT NOT NULL,
      media_id TEXT NOT NULL,
      width INTEGER NOT NULL,
      height INTEGER NOT NULL,
      method TEXT NOT NULL,
      content_type TEXT NOT NULL,
      size BIGINT NOT NULL,
      PRIMARY KEY (media_origin, media_id, width, height, method, content_type)
    )`,
  ],
};
