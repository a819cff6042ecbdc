import type { Migration } from './index.js';

// Server identity, users, devices, access tokens, account data, registration tokens.
export const accountsMigration: Migration = {
  id: 1,
  name: 'accounts',
  statements: [
    // Facts fixed for the database's lifetime, such as the server name it was created for.
    'CREATE TABLE server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
  ],
};
