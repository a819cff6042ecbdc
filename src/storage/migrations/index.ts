// One ordered list of migrations shared by both engines. Each migration is
// written once in portable SQL; `ddl` maps the few type names that differ.
import type { Database, Engine } from '../database.js';
import { accountsMigration } from './0001_accounts.js';
import { roomsMigration } from './0002_rooms.js';
import { mediaMigration } from './0003_media.js';
import { userDataMigration } from './0004_user_data.js';
import { pushMigration } from './0005_push.js';
import { searchMigration } from './0006_search.js';
import { relationsMigration } from './0007_relations.js';
import { e2eeMigration } from './0008_e2ee.js';
import { pushSummaryMigration } from './0009_push_summary.js';
import { txnScopeMigration } from './0010_txn_scope.js';
import { userErasureMigration } from './0012_user_erasure.js';
import { sessionsMigration } from './0014_sessions.js';
import { accountModerationMigration } from './0015_account_moderation.js';
import { profileFieldsMigration } from './0016_profile_fields.js';
import { serverKeysMigration } from './0017_server_keys.js';
import { outOfRoomMembershipsMigration } from './0019_out_of_room_memberships.js';
import { receivedTransactionsMigration } from './0020_received_transactions.js';
import { federationOutboxMigration } from './0021_federation_outbox.js';
import { federatedE2eeMigration } from './0022_federated_e2ee.js';
import { remoteMediaMigration } from './0024_remote_media.js';
import { backfillPositionsMigration } from './0026_backfill_positions.js';
import { destinationReportMigration } from './0040_destination_report.js';
import { serverAdminMigration } from './0050_server_admin.js';
import { threepidBindingsMigration } from './0060_threepid_bindings.js';

/** DDL that has no portable spelling (full-text indexes): one text per engine; an engine left out runs nothing. */
export type EngineStatement = Partial<Record<Engine, string>>;

export interface Migration {
  id: number;
  name: string;
  /** Portable DDL statements (see `ddl` for the placeholders they may use), or per-engine ones. */
  statements: readonly (string | EngineStatement)[];
}

export const MIGRATIONS: readonly Migration[] = [
  accountsMigration,
  roomsMigration,
  mediaMigration,
  userDataMigration,
  pushMigration,
  searchMigration,
  relationsMigration,
  e2eeMigration,
  pushSummaryMigration,
  txnScopeMigration,
  userErasureMigration,
  sessionsMigration,
  accountModerationMigration,
  profileFieldsMigration,
  serverKeysMigration,
  outOfRoomMembershipsMigration,
  receivedTransactionsMigration,
  federationOutboxMigration,
  federatedE2eeMigration,
  remoteMediaMigration,
  backfillPositionsMigration,
  destinationReportMigration,
  serverAdminMigration,
  threepidBindingsMigration,
];

/**
 * Engine-specific spellings inside otherwise shared DDL:
 * - `SERIAL_PK`: an auto-incrementing 64-bit integer primary key
 * - `BLOB`: binary data
 */
export function ddl(sql: string, engine: Engine): string {
  if (engine === 'postgres') {
    return sql.replaceAll('SERIAL_PK', 'BIGSERIAL PRIMARY KEY').replaceAll(/\bBLOB\b/g, 'BYTEA');
  }
  return sql.replaceAll('SERIAL_PK', 'INTEGER PRIMARY KEY AUTOINCREMENT');
}

/** Applies every migration the database has not seen, each in its own transaction. */
export async function runMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.execute(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts BIGINT NOT NULL)',
  );
  const applied = new Set((await db.query<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => Number(r.id)));
  const ran: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
    if (applied.has(migration.id)) continue;
    await db.transaction(async (tx) => {
      for (const statement of migration.statements) {
        const sql = typeof statement === 'string' ? statement : statement[db.engine];
        if (sql !== undefined) await tx.execute(ddl(sql, db.engine));
      }
      await tx.execute('INSERT INTO schema_migrations (id, name, applied_ts) VALUES (?, ?, ?)', [
        migration.id,
        migration.name,
        Date.now(),
      ]);
    });
    ran.push(migration.id);
  }
  return ran;
}
