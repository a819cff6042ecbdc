// The sync area: classic /sync (and the legacy /events and /initialSync built
// on the same stream providers) and simplified sliding sync (MSC4186).
export { SyncService, type SyncRequest, type SyncServiceDeps } from './sync-service.js';
export { formatSyncToken, parseSyncToken, type StreamPositions } from './token.js';
export { SlidingSyncService, type SlidingSyncRequest, type ListRequest, type RoomConfig } from './sliding-sync.js';
export { LegacySyncService } from './legacy.js';
