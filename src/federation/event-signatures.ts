// Checking the signatures on another server's JSON with keys already at
// hand (server-server-api.md, "Validating hashes and signatures on received
// events"; appendices "Checking for a signature"). Pure: finding the keys is
// the key ring's job, so these run as well in a worker thread as in the
// event loop.
import { verifyEventSignature } from '../core/event-signing.js';
import { serverNameOfEventId, serverNameOfUserId } from '../core/identifiers.js';
import type { EventLike } from '../core/redaction.js';
import type { RoomVersionRules } from '../core/room-versions.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/types.js';

/** A public key of another server and how long it may be used. */
export interface VerifyKey {
  keyId: string;
  /** The raw 32-byte ed25519 public key. */
  key: Buffer;
  /** Signatures made after this are not accepted (rooms v5+; requests always). */
  validUntilTs: number;
  /** Set for keys listed in old_verify_keys: valid for events signed before it, never for requests. */
  expiredTs: number | null;
}

/** A signature could not be verified: bad, missing, or no usable key. Its message says which. */
export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

/** Keys by server name, then key ID: what a batch of events needs, gathered once. */
export type KnownKeys = Map<string, Map<string, VerifyKey>>;

/**
 * Checks the signatures `pdu` must carry for its room version against
 * `keys`. Keys known to have expired before the event's origin_server_ts
 * are ignored; in rooms v5+ a key must also be valid at that time. Throws
 * SignatureError naming the server and what was wrong.
 */
export function checkEventSignatures(pdu: EventLike & { event_id?: string }, rules: RoomVersionRules, keys: KnownKeys): void {
  const ts = signedAt(pdu);
  const minimumValidUntilTs = keyValidityNeeded(pdu, rules);
  const usable = (key: VerifyKey): boolean => key.validUntilTs >= minimumValidUntilTs && (key.expiredTs === null || key.expiredTs >= ts);
  for (const serverName of requiredSigners(pdu, rules)) {
    const keyIds = signatureKeyIds(pdu as JsonObject, serverName);
    if (keyIds.length === 0) throw new SignatureError(`the event is not signed by ${serverName}`);
    const serverKeys = keys.get(serverName) ?? new Map<string, VerifyKey>();
    checkSignatures(serverName, keyIds, serverKeys, usable, (key) => verifyEventSignature(pdu, serverName, key.keyId, key.key, rules));
  }
}

/** How long a signing key must have been valid for this event (rooms v5+: until it was sent). */
export function keyValidityNeeded(pdu: EventLike, rules: RoomVersionRules): number {
  return rules.enforceKeyValidity ? signedAt(pdu) : 0;
}

function signedAt(pdu: EventLike): number {
  return typeof pdu['origin_server_ts'] === 'number' ? pdu['origin_server_ts'] : 0;
}

/**
 * Every signature of `serverName` by a key `usable` allows must verify, and
 * there must be at least one.
 */
export function checkSignatures(
  serverName: string,
  keyIds: readonly string[],
  keys: Map<string, VerifyKey>,
  usable: (key: VerifyKey) => boolean,
  verify: (key: VerifyKey) => boolean,
): void {
  let verified = 0;
  for (const keyId of keyIds) {
    const key = keys.get(keyId);
    // "If a signature is from an unknown or expired key, it is skipped."
    if (key === undefined || !usable(key)) continue;
    if (!verify(key)) throw new SignatureError(`the signature of ${serverName} with key ${keyId} is not valid`);
    verified++;
  }
  if (verified === 0) {
    const known = keyIds.filter((id) => keys.has(id));
    throw new SignatureError(
      known.length === 0
        ? `no key of ${serverName} could be found to check its signature (key ${keyIds.join(', ')}); the server and the notaries did not provide it`
        : `the keys of ${serverName} that signed (${known.join(', ')}) are expired or not valid at the time of signing`,
    );
  }
}

/** The servers whose signatures an event must carry (Synapse's _check_sigs_on_pdu). */
export function requiredSigners(pdu: EventLike & { event_id?: string }, rules: RoomVersionRules): Set<string> {
  const servers = new Set<string>();
  const content = isJsonObject(pdu['content'] as JsonValue) ? (pdu['content'] as JsonObject) : {};
  const senderServer = typeof pdu['sender'] === 'string' ? serverNameOfUserId(pdu['sender']) : null;
  const isMember = pdu['type'] === 'm.room.member';
  const viaThirdPartyInvite = isMember && content['membership'] === 'invite' && 'third_party_invite' in content;
  if (!viaThirdPartyInvite) {
    if (senderServer === null) throw new SignatureError(`the event's sender ${JSON.stringify(pdu['sender'])} is not a user ID`);
    servers.add(senderServer);
  }
  if (rules.eventFormat === 1 && typeof pdu.event_id === 'string') {
    const eventServer = serverNameOfEventId(pdu.event_id);
    if (eventServer === null) throw new SignatureError(`the event ID ${JSON.stringify(pdu.event_id)} has no server name`);
    servers.add(eventServer);
  }
  const authoriser = content['join_authorised_via_users_server'];
  if (rules.restrictedJoinRule && isMember && content['membership'] === 'join' && typeof authoriser === 'string') {
    const authorisingServer = serverNameOfUserId(authoriser);
    if (authorisingServer === null) throw new SignatureError(`join_authorised_via_users_server ${JSON.stringify(authoriser)} is not a user ID`);
    servers.add(authorisingServer);
  }
  return servers;
}

export function signatureKeyIds(json: JsonObject, serverName: string): string[] {
  const signatures = json['signatures'];
  if (!isJsonObject(signatures)) return [];
  const forServer = signatures[serverName];
  return isJsonObject(forServer) ? Object.keys(forServer) : [];
}
