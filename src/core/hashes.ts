// Content hashes and reference hashes of events (server-server-api.md,
// "Calculating the content hash for an event", "Calculating the reference
// hash for an event").

import { createHash } from 'node:crypto';
import { encodeBase64, tryDecodeBase64 } from './base64.js';
import { canonicalJsonBytes } from './canonical-json.js';
import { redactEvent, type EventLike } from './redaction.js';
import type { RoomVersionRules } from './room-versions.js';

/**
 * Which JSON number rules apply when encoding an event: the room version's
 * (`strictCanonicalJson`), or the strict rules when no version is given.
 */
export type JsonStrictness = Pick<RoomVersionRules, 'strictCanonicalJson'>;

function strictness(rules: JsonStrictness | undefined): { strict: boolean } {
  return { strict: rules?.strictCanonicalJson ?? true };
}

/** SHA-256 of the whole, unredacted event minus `unsigned`, `signatures` and `hashes`. */
export function computeContentHashBytes(pdu: EventLike, rules?: JsonStrictness): Buffer {
  const { unsigned: _unsigned, signatures: _signatures, hashes: _hashes, ...covered } = pdu;
  return createHash('sha256').update(canonicalJsonBytes(covered, strictness(rules))).digest();
}

/** The content hash as it is written in `hashes.sha256`: unpadded Base64. */
export function computeContentHash(pdu: EventLike, rules?: JsonStrictness): string {
  return encodeBase64(computeContentHashBytes(pdu, rules));
}

/**
 * Whether `hashes.sha256` matches the event. False (never a throw) for a
 * missing or malformed hash and for an event that cannot be encoded. A
 * mismatch means the receiver must use the redacted event instead (spec:
 * "Validating hashes and signatures on received events").
 */
export function checkContentHash(pdu: EventLike, rules?: JsonStrictness): boolean {
  const hashes = pdu['hashes'];
  if (typeof hashes !== 'object' || hashes === null || Array.isArray(hashes)) return false;
  const claimed = hashes['sha256'];
  if (typeof claimed !== 'string') return false;
  const claimedBytes = tryDecodeBase64(claimed);
  if (claimedBytes === null) return false;
  try {
    return claimedBytes.equals(computeContentHashBytes(pdu, rules));
  } catch {
    return false;
  }
}

/** SHA-256 over the redacted event without `signatures`, `unsigned` and the historical `age_ts`. */
export function computeReferenceHash(pdu: EventLike, rules: RoomVersionRules): Buffer {
  const { signatures: _signatures, unsigned: _unsigned, age_ts: _ageTs, ...covered } = redactEvent(pdu, rules);
  return createHash('sha256').update(canonicalJsonBytes(covered, strictness(rules))).digest();
}
