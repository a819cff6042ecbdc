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
