// A remote server's side of a room, for tests of what Axon does with events
// it receives: builds PDUs as that server would (hashed, signed with its own
// key, with the event ID of the room version) on whatever prev and auth
// events the test names, so a test can make forks, gaps and forged events.
import { randomBytes } from 'node:crypto';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { computeEventId } from '../../src/core/event-id.js';
import { finaliseEvent, type UnsignedPdu } from '../../src/core/event-signing.js';
import type { RoomVersionRules } from '../../src/core/room-versions.js';
import { generateSigningKey, type SigningKey } from '../../src/core/signing.js';
import type { Event, EventReferenceV1, JsonObject, PDU } from '../../src/core/types.js';
import { referencedEventIds } from '../../src/core/auth-events.js';
import type { JsonValue } from '../../src/core/types.js';
import type { VerifyKey } from '../../src/federation/event-signatures.js';
import type { RemoteRoomFetcher, SigningKeyLookup } from '../../src/federation/inbound/event-handler.js';
import type { ReceivedEvent } from '../../src/services/rooms/event-pipeline.js';

export interface RemoteEventSpec {
  type: string;
  sender: string;
  content: JsonObject;
  stateKey?: string;
  /** The events this one builds on. */
  prev: readonly Event[];
  /** Its auth events (in v12 never the create event). */
  auth: readonly Event[];
  /** Defaults to one more than the deepest prev event. */
  depth?: number;
  originServerTs?: number;
}

export class FakeRemoteServer {
  readonly key: SigningKey;
  /** Every PDU this server built, by event ID: what it would serve over federation. */
  readonly pdus = new Map<string, PDU>();

  constructor(readonly serverName: string) {
    this.key = generateSigningKey();
  }

  /** A signed PDU of room `roomId` and the Event (with its ID) Axon would derive from it. */
  event(rules: RoomVersionRules, roomId: string, spec: RemoteEventSpec): { pdu: PDU; event: Event; received: ReceivedEvent } {
    const refs = (events: readonly Event[]): string[] | EventReferenceV1[] =>
      rules.eventFormat === 1 ? events.map((e): EventReferenceV1 => [e.event_id, { sha256: e.hashes.sha256 }]) : events.map((e) => e.event_id);
    const unsigned: UnsignedPdu = {
      type: spec.type,
      sender: spec.sender,
      content: spec.content,
      room_id: roomId,
      origin_server_ts: spec.originServerTs ?? Date.now(),
      depth: spec.depth ?? Math.max(0, ...spec.prev.map((e) => e.depth)) + 1,
      prev_events: refs(spec.prev),
      auth_events: refs(spec.auth),
    };
    if (spec.stateKey !== undefined) unsigned.state_key = spec.stateKey;
    if (rules.eventFormat === 1) unsigned.event_id = `$${randomBytes(9).toString('base64url')}:${this.serverName}`;
    const pdu = finaliseEvent(unsigned, this.serverName, this.key, rules);
    const event = { ...pdu, event_id: computeEventId(pdu, rules), room_id: roomId } as Event;
    this.pdus.set(event.event_id, pdu);
    return { pdu, event, received: { event, json: canonicalJson(pdu as unknown as JsonObject, { strict: rules.strictCanonicalJson }) } };
  }
}

/** Answers federation requests from the remote's own PDUs; records what was asked. */
export class FakeFetcher implements RemoteRoomFetcher {
  readonly calls: string[] = [];
  /** The state before each event, as the remote would report it. */
  readonly stateBefore = new Map<string, string[]>();
  /** walk: every missing event up to the limit; nearest: only the latest events' own prev_events; none: nothing. */
  missingEventsAnswer: 'walk' | 'nearest' | 'none' = 'walk';

  constructor(private readonly remote: FakeRemoteServer) {}

  async getMissingEvents(_dest: string, _roomId: string, req: { earliest: string[]; latest: string[]; limit: number }): Promise<JsonValue[]> {
    this.calls.push('get_missing_events');
    if (this.missingEventsAnswer === 'none') return [];
    if (this.missingEventsAnswer === 'nearest') {
      return req.latest.flatMap((id) => this.prevsOf(id)).flatMap((id) => (this.remote.pdus.has(id) && !req.earliest.includes(id) ? [this.remote.pdus.get(id) as unknown as JsonValue] : []));
    }
    const found: JsonValue[] = [];
    const queue = req.latest.flatMap((id) => this.prevsOf(id));
    const seen = new Set(req.earliest);
    while (queue.length > 0 && found.length < req.limit) {
      const id = queue.shift()!;
      const pdu = this.remote.pdus.get(id);
      if (seen.has(id) || !pdu) continue;
      seen.add(id);
      found.push(pdu as unknown as JsonValue);
      queue.push(...this.prevsOf(id));
    }
    return found.reverse();
  }

  async getEvent(_dest: string, eventId: string): Promise<JsonValue> {
    this.calls.push(`event ${eventId}`);
    const pdu = this.remote.pdus.get(eventId);
    if (!pdu) throw new Error(`unknown event ${eventId}`);
    return pdu as unknown as JsonValue;
  }

  async getStateIds(_dest: string, _roomId: string, eventId: string): Promise<{ stateIds: string[]; authChainIds: string[] }> {
    this.calls.push(`state_ids ${eventId}`);
    return { stateIds: this.stateBefore.get(eventId) ?? [], authChainIds: [] };
  }

  async getEventAuth(_dest: string, _roomId: string, eventId: string): Promise<JsonValue[]> {
    this.calls.push(`event_auth ${eventId}`);
    const chain = new Set<string>();
    const walk = (id: string): void => {
      const pdu = this.remote.pdus.get(id);
      for (const authId of referencedEventIds(pdu?.auth_events ?? [])) {
        if (!chain.has(authId)) {
          chain.add(authId);
          walk(authId);
        }
      }
    };
    walk(eventId);
    return [...chain].map((id) => this.remote.pdus.get(id)).filter((p) => p !== undefined) as unknown as JsonValue[];
  }

  async backfill(_dest: string, _roomId: string, from: readonly string[], limit: number): Promise<JsonValue[]> {
    this.calls.push(`backfill ${from.join(',')}`);
    const found: JsonValue[] = [];
    const queue = [...from];
    const seen = new Set<string>();
    while (queue.length > 0 && found.length < limit) {
      const id = queue.shift()!;
      const pdu = this.remote.pdus.get(id);
      if (seen.has(id) || !pdu) continue;
      seen.add(id);
      found.push(pdu as unknown as JsonValue);
      queue.push(...this.prevsOf(id));
    }
    return found;
  }

  private prevsOf(id: string): string[] {
    return referencedEventIds(this.remote.pdus.get(id)?.prev_events ?? []);
  }
}


/** The key ring's job for PDUs of `remote`'s users: it knows that server's one key. */
export function fakeSigningKeys(remote: FakeRemoteServer): SigningKeyLookup {
  const key: VerifyKey = { keyId: remote.key.keyId, key: Buffer.from(remote.key.publicKey), validUntilTs: Number.MAX_SAFE_INTEGER, expiredTs: null };
  return async () => new Map([[remote.serverName, new Map([[key.keyId, key]])]]);
}
