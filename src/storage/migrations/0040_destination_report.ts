import type { Migration } from './index.js';

// What Synapse's federation destinations admin API reports and migration 21
// did not keep: when the current run of failures began (failure_ts, cleared
// by a success or a reset) and the newest event a successful transaction
// carried (last_successful_stream_ordering), as Synapse's `destinations`
// table keeps them.
export const destinationReportMigration: Migration = {
  id: 40,
  name: 'destination_report',
  statements: [
    'ALTER TABLE federation_destinations ADD COLUMN failure_ts BIGINT',
    'ALTER TABLE federation_destinations ADD COLUMN last_successful_stream_ordering BIGINT',
  ],
};
