import type { Migration } from './index.js';

// End-to-end encryption across servers (server-server-api "Device
// Management", "End-to-End Encryption", "Send-to-device messaging").
//
// - e2e_remote_device_lists: the remote users whose device lists this server
//   tracks (it shares a room with them). stream_id is the remote server's
//   stream_id of the last update applied: an m.device_list_update whose
//   prev_id names it continues the list; any other means updates were missed.
//   stale = 1: the list must be fetched again (GET /user/devices) before use.
// - e2e_remote_devices: the cached devices of those users, with their keys
//   as the remote server gave them (NULL before the device uploads keys).
//   Their cross-signing keys go to e2e_cross_signing_keys, like local ones,
//   so signing another server's user works the same way.
// - e2e_device_list_outbound: per local user, the stream_id of the last
//   m.device_list_update sent about them; each update names the one before.
// - e2e_to_device_received: the message_id of each m.direct_to_device EDU
//   taken, per sending server, so one retried in a new transaction is not
//   delivered twice.
export const federatedE2eeMigration: Migration = {
  id: 22,
  name: 'federated_e2ee',
  statements: [
    `CREATE TABLE e2e_remote_device_lists (
      user_id TEXT PRIMARY KEY,
      stream_id TEXT NOT NULL,
      stale INTEGER NOT NULL,
      updated_ts BIGINT NOT NULL
    )`,
    `CREATE TABLE e2e_remote_devices (
      user_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      display_name TEXT,
      key_json TEXT,
      PRIMARY KEY (user_id, device_id)
    )`,
    `CREATE TABLE e2e_device_list_outbound (
      user_id TEXT PRIMARY KEY,
      stream_id BIGINT NOT NULL
    )`,
    `CREATE TABLE e2e_to_device_received (
      origin TEXT NOT NULL,
      message_id TEXT NOT NULL,
      received_ts BIGINT NOT NULL,
      PRIMARY KEY (origin, message_id)
    )`,
    'CREATE INDEX e2e_to_device_received_ts ON e2e_to_device_received (received_ts)',
  ],
};
