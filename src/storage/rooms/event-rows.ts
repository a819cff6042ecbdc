// The shape of a stored event as the room stores return it.
import { flag } from './sql.js';

export interface StoredEvent {
  eventId: string;
  roomId: string;
  type: string;
  /** null for non-state events. */
  stateKey: string | null;
  sender: string;
  depth: number;
  originServerTs: number;
  /** Position in the events stream. */
  streamOrdering: number;
  /** Known only as an auth or state event; not part of the room's timeline. */
  outlier: boolean;
  /** Why the event failed authorisation, or null if it passed. */
  rejectedReason: string | null;
  /** Passed auth against its own state but not the current state; kept out of the timeline. */
  softFailed: boolean;
  /** ID of the redaction event that redacted this one, if any. */
  redactedBecause: string | null;
  /** The state snapshot before this event, if recorded. */
  stateSnapshotBefore: number | null;
  /** For a state event, the event it replaced in the room's state (unsigned.replaces_state). */
  replacesState: string | null;
  /** The PDU's canonical JSON exactly as received or created; serve it without re-serialising. */
  json: string;
}

export const EVENT_COLUMNS = [
  'event_id',
  'room_id',
  'type',
  'state_key',
  'sender',
  'depth',
  'origin_server_ts',
  'stream_ordering',
  'outlier',
  'rejected_reason',
  'soft_failed',
  'redacted_because',
  'state_snapshot_before',
  'replaces_state',
  'json',
] as const;

export type EventRow = Record<(typeof EVENT_COLUMNS)[number], unknown>;

export function eventFromRow(row: EventRow): StoredEvent {
  return {
    eventId: row.event_id as string,
    roomId: row.room_id as string,
    type: row.type as string,
    stateKey: row.state_key as string | null,
    sender: row.sender as string,
    depth: Number(row.depth),
    originServerTs: Number(row.origin_server_ts),
    streamOrdering: Number(row.stream_ordering),
    outlier: flag(row.outlier),
    rejectedReason: row.rejected_reason as string | null,
    softFailed: flag(row.soft_failed),
    redactedBecause: row.redacted_because as string | null,
    stateSnapshotBefore: row.state_snapshot_before === null ? null : Number(row.state_snapshot_before),
    replacesState: (row.replaces_state as string | null) ?? null,
    json: row.json as string,
  };
}
