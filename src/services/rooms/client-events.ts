// Turns stored PDUs into the ClientEvent format of the Client-Server API
// (client-server-api/_index.md, "Room Event Format"): federation-only keys
// dropped, redactions applied, and `unsigned` filled in for the reader —
// age, the sending device's transaction_id (matrix-js-sdk matches its local
// echo by it), prev_content/replaces_state for state changes, and
// redacted_because.
import { redactEvent } from '../../core/redaction.js';
import { roomVersion, type RoomVersionRules } from '../../core/room-versions.js';
import type { JsonObject, PDU } from '../../core/types.js';
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';

export interface Reader {
  userId: string;
  deviceId?: string;
}

export type ClientEvent = JsonObject & { event_id: string; type: string; sender: string; room_id: string };

/**
 * Supplies bundled aggregations (unsigned['m.relations'], _index.md
 * "Aggregations of child events") for the events being served. `depth`
 * counts how deeply aggregated events are nested, so bundles stay finite.
 */
export interface RelationBundler {
  bundle(events: readonly StoredEvent[], reader: Reader | undefined, formatter: ClientEventFormatter, depth: number): Promise<Map<string, JsonObject>>;
}

export interface FormatOptions {
  /** Leave out bundled aggregations (e.g. for events that are themselves part of a bundle). */
  bundleRelations?: boolean;
  /** Nesting level of a bundle being built; see RelationBundler. */
  depth?: number;
}

/** What the spec's `event_format: federation` asks for: the PDU as stored (plus its ID). */
export function federationFormat(stored: StoredEvent): JsonObject {
  return { ...(JSON.parse(stored.json) as JsonObject), event_id: stored.eventId, room_id: stored.roomId };
}

export class ClientEventFormatter {
  private readonly versions = new Map<string, RoomVersionRules>();

  constructor(
    private readonly store: RoomStore,
    private readonly clock: () => number,
    private readonly bundler?: RelationBundler,
  ) {}

  async format(events: readonly StoredEvent[], reader?: Reader, options: FormatOptions = {}): Promise<ClientEvent[]> {
    if (events.length === 0) return [];
    const [txnIds, redactions, replaced, bundles] = await Promise.all([
      reader?.deviceId ? this.store.events.getTxnIdsForEvents(events.filter((e) => e.sender === reader.userId).map((e) => e.eventId), reader.userId, reader.deviceId) : new Map<string, string>(),
      this.store.events.getEvents(events.flatMap((e) => (e.redactedBecause ? [e.redactedBecause] : []))),
      this.store.events.getEvents(events.flatMap((e) => (e.replacesState ? [e.replacesState] : []))),
      this.bundler && options.bundleRelations !== false ? this.bundler.bundle(events, reader, this, options.depth ?? 0) : new Map<string, JsonObject>(),
    ]);
    const out: ClientEvent[] = [];
    for (const stored of events) {
      const rules = await this.rulesFor(stored.roomId);
      const unsigned: JsonObject = { age: Math.max(0, this.clock() - stored.originServerTs) };
      const txnId = txnIds.get(stored.eventId);
      if (txnId !== undefined) unsigned.transaction_id = txnId;
      const previous = stored.replacesState ? replaced.get(stored.replacesState) : undefined;
      if (previous) {
        const prevEvent = this.clientFields(previous, await this.rulesFor(previous.roomId), previous.redactedBecause !== null);
        unsigned.replaces_state = previous.eventId;
        unsigned.prev_content = prevEvent.content as JsonObject;
        unsigned.prev_sender = previous.sender;
      }
      const redaction = stored.redactedBecause ? redactions.get(stored.redactedBecause) : undefined;
      if (redaction) {
        unsigned.redacted_because = this.clientFields(redaction, await this.rulesFor(redaction.roomId), false);
        // Not in the spec, but Synapse sends it and clients and SyTest read it.
        unsigned.redacted_by = redaction.eventId;
      }
      const relations = bundles.get(stored.eventId);
      if (relations) unsigned['m.relations'] = relations;
      out.push({ ...this.clientFields(stored, rules, redaction !== undefined), unsigned });
    }
    return out;
  }

  async formatOne(event: StoredEvent, reader?: Reader, options?: FormatOptions): Promise<ClientEvent> {
    return (await this.format([event], reader, options))[0]!;
  }

  private clientFields(stored: StoredEvent, rules: RoomVersionRules, redacted: boolean): ClientEvent {
    let pdu = JSON.parse(stored.json) as PDU;
    if (redacted) pdu = redactEvent(pdu, rules);
    const event: ClientEvent = {
      content: pdu.content,
      event_id: stored.eventId,
      origin_server_ts: pdu.origin_server_ts,
      room_id: stored.roomId,
      sender: pdu.sender,
      type: pdu.type,
    };
    if (pdu.state_key !== undefined) event.state_key = pdu.state_key;
    // Clients of every version read the top-level `redacts`; v11 moved it into content.
    const redacts = pdu.redacts ?? (typeof pdu.content.redacts === 'string' ? pdu.content.redacts : undefined);
    if (pdu.type === 'm.room.redaction' && redacts !== undefined) event.redacts = redacts;
    return event;
  }

  private async rulesFor(roomId: string): Promise<RoomVersionRules> {
    let rules = this.versions.get(roomId);
    if (!rules) {
      const record = await this.store.rooms.getRoom(roomId);
      rules = record && roomVersion(record.roomVersion);
      if (!rules) throw new Error(`no known room version for ${roomId}, whose events are stored`);
      this.versions.set(roomId, rules);
    }
    return rules;
  }
}
