// Hashing and signing events (server-server-api.md, "Adding hashes and
// signatures to outgoing events", "Validating hashes and signatures on
// received events"). Signatures cover the *redacted* event, so they survive
// redaction; the content hash, which the signature covers, protects the rest.

import { computeContentHash } from './hashes.js';
import { redactEvent, type EventLike } from './redaction.js';
import type { RoomVersionRules } from './room-versions.js';
import { signJson, verifyJsonSignature, type SigningKey } from './signing.js';
import type { PDU, Signatures } from './types.js';

/** A PDU before its origin server has hashed and signed it. */
export type UnsignedPdu = Omit<PDU, 'hashes' | 'signatures'> & {
  hashes?: PDU['hashes'] | Record<string, never>;
  signatures?: Signatures;
};

export class EventSigningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventSigningError';
  }
}

/**
 * Sets `hashes.sha256` and adds `serverName`'s signature, keeping any
 * signatures already present. For room versions 3 and later the event must
 * not carry an `event_id`: the ID is derived from the event, and a carried one
 * would be covered by the content hash yet stripped by receivers.
 */
export function finaliseEvent(pdu: UnsignedPdu, serverName: string, key: SigningKey, rules: RoomVersionRules): PDU {
  if (rules.eventFormat !== 1 && pdu.event_id !== undefined) {
    throw new EventSigningError(`events in room version ${rules.id} must not carry an event_id (it is the event's reference hash)`);
  }
  const strict = { strict: rules.strictCanonicalJson };
  const hashed = { ...pdu, hashes: { ...pdu.hashes, sha256: computeContentHash(pdu, rules) } };
  const signedRedacted = signJson(redactEvent(hashed, rules), serverName, key, strict);
  return { ...hashed, signatures: signedRedacted.signatures } as PDU;
}

/**
 * Whether `pdu` carries a valid signature by `serverName` with `keyId`.
 * Works on full and redacted copies alike; never throws.
 */
export function verifyEventSignature(
  pdu: EventLike,
  serverName: string,
  keyId: string,
  publicKey: Uint8Array,
  rules: RoomVersionRules,
): boolean {
  return verifyJsonSignature(redactEvent(pdu, rules), serverName, keyId, publicKey, { strict: rules.strictCanonicalJson });
}
