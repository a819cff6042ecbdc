import type { Migration } from './index.js';

// End-to-end encryption (client-server-api/modules/end_to_end_encryption.md,
// send_to_device.md): device keys, one-time and fallback keys, cross-signing
// keys and their signatures, the to-device and device-list streams, server-side
// key backups, dehydrated devices. Key objects are kept as the client's JSON so
// they are served back byte-for-byte equivalent (signatures cover them).
export const e2eeMigration: Migration = {
  id: 8,
  name: 'e2ee',
  statements: [
    // Identity keys of a device, as uploaded (without `unsigned`).
    `CREATE TABLE e2e_device_keys (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      key_json TEXT NOT NULL,
      PRIMARY KEY (user_id, device_id)
    )`,
    `CREATE TABLE e2e_one_time_keys (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      algorithm TEXT NOT NULL,
      key_id TEXT NOT NULL,
      key_json TEXT NOT NULL,
      PRIMARY KEY (user_id, device_id, algorithm, key_id)
    )`,
    // One fallback key per algorithm; `used` once claimed (it stays claimable).
    `CREATE TABLE e2e_fallback_keys (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      algorithm TEXT NOT NULL,
      key_id TEXT NOT NULL,
      key_json TEXT NOT NULL,
      used INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (user_id, device_id, algorithm)
    )`,
    // key_type: master | self_signing | user_signing.
    `CREATE TABLE e2e_cross_signing_keys (
      user_id TEXT NOT NULL,
      key_type TEXT NOT NULL,
      public_key TEXT NOT NULL,
      key_json TEXT NOT NULL,
      PRIMARY KEY (user_id, key_type)
    )`,
    // Signatures added later by POST /keys/signatures/upload. target_key_id is
    // a device ID or a cross-signing public key of target_user_id.
    `CREATE TABLE e2e_signatures (
      signer_user_id TEXT NOT NULL,
      signer_key_id TEXT NOT NULL,
      target_user_id TEXT NOT NULL,
      target_key_id TEXT NOT NULL,
      signature TEXT NOT NULL,
      PRIMARY KEY (target_user_id, target_key_id, signer_user_id, signer_key_id)
    )`,

    // The device_lists stream. A key change of user_id concerns everyone who
    // shares a room with them at read time; viewer rows are changes seen by one
    // user only (someone joined or left a shared room; a user-signing signature).
    `CREATE TABLE e2e_device_list_changes (
      stream_id BIGINT NOT NULL,
      user_id TEXT NOT NULL
    )`,
    'CREATE INDEX e2e_device_list_changes_by_stream ON e2e_device_list_changes (stream_id)',
    `CREATE TABLE e2e_device_list_viewer_changes (
      stream_id BIGINT NOT NULL,
      viewer_user_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      kind TEXT NOT NULL
    )`,
    'CREATE INDEX e2e_device_list_viewer_by_stream ON e2e_device_list_viewer_changes (viewer_user_id, stream_id)',

    // Each queued to-device message has its own stream position; delivered ones are deleted.
    `CREATE TABLE e2e_to_device_inbox (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      stream_id BIGINT NOT NULL,
      message_json TEXT NOT NULL,
      PRIMARY KEY (user_id, device_id, stream_id)
    )`,
    // PUT /sendToDevice is idempotent per (user, device, txnId).
    `CREATE TABLE e2e_to_device_txns (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      txn_id TEXT NOT NULL,
      created_ts BIGINT NOT NULL,
      PRIMARY KEY (user_id, device_id, txn_id)
    )`,

    // Server-side key backups: numbered versions per user; `deleted` keeps a
    // number from being reused.
    `CREATE TABLE e2e_room_key_versions (
      user_id TEXT NOT NULL,
      version BIGINT NOT NULL,
      algorithm TEXT NOT NULL,
      auth_data TEXT NOT NULL,
      etag BIGINT NOT NULL DEFAULT 0,
      deleted INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (user_id, version)
    )`,
    `CREATE TABLE e2e_room_keys (
      user_id TEXT NOT NULL,
      version BIGINT NOT NULL,
      room_id TEXT NOT NULL,
      session_id TEXT NOT NULL,
      first_message_index BIGINT NOT NULL,
      forwarded_count BIGINT NOT NULL,
      is_verified INTEGER NOT NULL,
      session_data TEXT NOT NULL,
      PRIMARY KEY (user_id, version, room_id, session_id)
    )`,

    // MSC3814: at most one dehydrated device per user.
    `CREATE TABLE e2e_dehydrated_devices (
      user_id TEXT PRIMARY KEY,
      device_id TEXT NOT NULL,
      device_data TEXT NOT NULL
    )`,

    'CREATE TABLE e2e_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    "INSERT INTO e2e_counters (name, value) VALUES ('to_device_stream', 0), ('device_lists_stream', 0)",
  ],
};
