import type { Migration } from './index.js';

// Uploaded media and thumbnails (client-server-api, "Content repository").
// A row with uploaded_ts NULL is an mxc:// URI made by POST /media/v1/create
// whose bytes have not arrived yet; unused_expires_ts is when it lapses.
// Booleans are INTEGER 0/1 so both engines read them the same way.
export const mediaMigration: Migration = {
  id: 3,
  name: 'media',
  statements: [
    `CREATE TABLE local_media (
      media_id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      content_type TEXT,
      upload_name TEXT,
      size BIGINT,
      sha256 TEXT,
      created_ts BIGINT NOT NULL,
      uploaded_ts BIGINT,
      unused_expires_ts BIGINT,
      quarantined INTEGER NOT NULL DEFAULT 0
    )`,
    // Counting a user's pending uploads for the create rate limit.
    'CREATE INDEX local_media_pending_by_user ON local_media (user_id, uploaded_ts)',
    `CREATE TABLE local_media_thumbnails (
      media_id TEXT NOT NULL,
      width INTEGER NOT NULL,
      height INTEGER NOT NULL,
      method TEXT NOT NULL,
      content_type TEXT NOT NULL,
      size BIGINT NOT NULL,
      PRIMARY KEY (media_id, width, height, method, content_type)
    )`,
  ],
};
