import type { Migration } from './index.js';

// Where each user bound a third-party identifier through this server
// (POST /account/3pid/bind), so that /account/3pid/unbind and /delete
// without an id_server, and deactivation, know which identity servers to
// ask to unbind it (Synapse's user_threepid_id_server).
export const threepidBindingsMigration: Migration = {
  id: 60,
  name: 'threepid_bindings',
  statements: [
    `CREATE TABLE user_threepid_id_server (
       user_id TEXT NOT NULL,
       medium TEXT NOT NULL,
       address TEXT NOT NULL,
       id_server TEXT NOT NULL,
       PRIMARY KEY (user_id, medium, address, id_server)
     )`,
  ],
};
