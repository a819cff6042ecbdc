// One provider per kind of sync data, after Dendrite's syncapi/streams: each
// answers an initial and an incremental sync from its own stream position.
// A new kind of data (to-device messages, device lists) is a new provider
// added to SyncService's list; the others do not change.
import type { SyncContext } from '../context.js';
import type { SyncResponseBuilder } from '../response.js';

export interface StreamProvider {
  /** Adds this stream's data after `ctx.since` up to `ctx.to` (all of it on an initial sync). */
  apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void>;
}
