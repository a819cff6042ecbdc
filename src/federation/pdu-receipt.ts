// Steps 1–3 of the checks on receipt of a PDU (server-server-api.md, "Checks
// performed on receipt of a PDU"): the event format of the room version, the
// signatures, and the content hash. Pure and synchronous, given the signing
// keys, so that a join's thousands of events can be checked in worker
// threads (pdu-check-pool.ts) while the event loop goes on serving.
import { canonicalJson } from '../core/canonical-json.js';
import { checkContentHash } from '../core/hashes.js';
import { parseReceivedPdu } from '../core/pdu-format.js';
import { redactEvent } from '../core/redaction.js';
import type { RoomVersionRules } from '../core/room-versions.js';
import type { Event, JsonObject, JsonValue } from '../core/types.js';
import type { ReceivedEvent } from '../services/rooms/event-pipeline.js';
import { checkEventSignatures, SignatureError, type KnownKeys } from './event-signatures.js';

/** The first check a PDU failed: either drops it. */
export type PduCheckFailure = 'format' | 'signature';

export type PduReceipt =
  | {
      ok: true;
      received: ReceivedEvent;
      /** The content hash did not match: `received` is our own redaction of the event. */
      redacted: boolean;
    }
  | { ok: false; failure: PduCheckFailure; message: string };

export interface PduReceiptOptions {
  /** The room the event must belong to. */
  roomId: string;
  /** History (backfill) may predate the caps on prev_events and auth_events. */
  history?: boolean;
}

/** Checks `pdu` with the signing keys in `keys`; never throws for a bad PDU. */
export function checkReceivedPdu(pdu: JsonValue, rules: RoomVersionRules, keys: KnownKeys, options: PduReceiptOptions): PduReceipt {
  const parsed = parseReceivedPdu(pdu, rules, { expectedRoomId: options.roomId, limitReferences: !options.history });
  if (!parsed.ok) return { ok: false, failure: 'format', message: `the event is malformed: ${parsed.reason}` };
  const { unsigned: _unsigned, ...signed } = pdu as JsonObject;
  try {
    checkEventSignatures(signed, rules, keys);
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    return { ok: false, failure: 'signature', message: `${parsed.event.event_id} has a bad signature: ${err.message}` };
  }
  if (checkContentHash(signed, rules)) {
    return { ok: true, redacted: false, received: { event: parsed.event, json: canonicalJson(signed, { strict: rules.strictCanonicalJson }) } };
  }
  // The spec: a hash mismatch means we were given a redacted copy; use our own redaction of it.
  const redacted = redactEvent(signed, rules);
  const event = { ...redacted, event_id: parsed.event.event_id, room_id: parsed.event.room_id } as unknown as Event;
  return { ok: true, redacted: true, received: { event, json: canonicalJson(redacted, { strict: rules.strictCanonicalJson }) } };
}
