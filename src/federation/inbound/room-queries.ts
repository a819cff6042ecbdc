// What other servers may read of a room's event graph (server-server-api
// "Retrieving events", "Backfilling and retrieving missing events",
// "Retrieving event authorisation information"): single events, the state
// at an event, auth chains, backfill and missing events. Only servers with a
// member joined to the room may ask, if the room's ACL allows them; events
// they could not see (history visibility at the event) are served redacted,
// as Synapse does.
import { referencedEventIds } from '../../core/auth-events.js';
import { forbidden, MatrixError, notFound } from '../../core/errors.js';
import { serverNameOfUserId } from '../../core/identifiers.js';
import { redactEvent } from '../../core/redaction.js';
import { roomVersion, type RoomVersionRules } from '../../core/room-versions.js';
import { serverAclAllows } from '../../core/server-acl.js';
import { parseStateKeyString, stateKeyString, type JsonObject, type StateMap } from '../../core/types.js';
import type { RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import { historyVisibilityOf, serverMaySee } from '../../core/history-visibility.js';

/** Synapse caps backfill and get_missing_events at 100 events per request. */
const MAX_EVENTS_PER_REQUEST = 100;

export interface RoomQueryDeps {
  store: RoomStore;
  serverName: string;
  clock: () => number;
  /** Which of these users asked for their data to be erased: their events go to other servers redacted. */
  erasedAmong: (userIds: Iterable<string>) => Promise<ReadonlySet<string>>;
}

export class FederationRoomQueries {
  constructor(private readonly deps: RoomQueryDeps) {}

  /** GET /event/{eventId}: the PDU, in a transaction. */
  async event(origin: string, eventId: string): Promise<JsonObject> {
    const stored = await this.deps.store.events.getEvent(eventId);
    if (!stored) throw notFound(`Event ${eventId} is not known here`);
    const rules = await this.admit(origin, stored.roomId);
    const [pdu] = await this.visiblePdus(origin, rules, [stored]);
    return this.transaction({ pdus: [pdu!] });
  }

  /** GET /state_ids/{roomId}?event_id: the state before the event and its auth chain, as IDs. */
  async stateIds(origin: string, roomId: string, eventId: string): Promise<JsonObject> {
    await this.admit(origin, roomId);
    const state = await this.stateBefore(roomId, eventId);
    const stateIds = [...state.values()];
    return { pdu_ids: stateIds, auth_chain_ids: await this.deps.store.events.authChainIds(stateIds) };
  }

  /** GET /state/{roomId}?event_id: the same as full PDUs. */
  async state(origin: string, roomId: string, eventId: string): Promise<JsonObject> {
    const rules = await this.admit(origin, roomId);
    const { pdus, authChain } = await this.stateAndAuthChainBefore(roomId, eventId, rules);
    return { pdus, auth_chain: authChain };
  }

  /**
   * The state before a stored event and the auth chain of that state and of
   * the event, as PDUs: /state, and the answer to send_join.
   */
  async stateAndAuthChainBefore(roomId: string, eventId: string, rules: RoomVersionRules): Promise<{ pdus: JsonObject[]; authChain: JsonObject[] }> {
    const stateIds = [...(await this.stateBefore(roomId, eventId)).values()];
    const chainIds = await this.deps.store.events.authChainIds([...stateIds, eventId]);
    return { pdus: await this.pdus(rules, stateIds), authChain: await this.pdus(rules, chainIds, { oldestFirst: true }) };
  }

  /** GET /event_auth/{roomId}/{eventId}: the event's auth chain. */
  async eventAuth(origin: string, roomId: string, eventId: string): Promise<JsonObject> {
    const rules = await this.admit(origin, roomId);
    await this.eventInRoom(roomId, eventId);
    return { auth_chain: await this.pdus(rules, await this.deps.store.events.authChainIds([eventId]), { oldestFirst: true }) };
  }

  /**
   * GET /backfill/{roomId}: the given events and those before them, deepest
   * first, walking prev_events breadth-first by depth, up to `limit`.
   */
  async backfill(origin: string, roomId: string, from: readonly string[], limit: number): Promise<JsonObject> {
    const rules = await this.admit(origin, roomId);
    const cap = clampLimit(limit);
    const found = new Map<string, StoredEvent>();
    let frontier = [...new Set(from)];
    while (frontier.length > 0 && found.size < cap) {
      const stored = [...(await this.deps.store.events.getEvents(frontier)).values()].filter((e) => e.roomId === roomId && !found.has(e.eventId));
      stored.sort((a, b) => b.depth - a.depth);
      const next: string[] = [];
      for (const event of stored) {
        if (found.size >= cap) break;
        found.set(event.eventId, event);
        next.push(...referencedEventIds(JSON.parse(event.json).prev_events ?? []));
      }
      frontier = [...new Set(next)].filter((id) => !found.has(id));
    }
    return this.transaction({ pdus: await this.visiblePdus(origin, rules, [...found.values()]) });
  }

  /**
   * POST /get_missing_events/{roomId}: a breadth-first walk of prev_events
   * from `latest`, not into `earliest`, at or above `minDepth`, up to
   * `limit` events, returned oldest first.
   */
  async missingEvents(origin: string, roomId: string, req: { earliest: string[]; latest: string[]; limit: number; minDepth: number }): Promise<JsonObject> {
    const rules = await this.admit(origin, roomId);
    const cap = clampLimit(req.limit);
    const seen = new Set([...req.earliest, ...req.latest]);
    const found: StoredEvent[] = [];
    let frontier = await this.prevEventIds(req.latest);
    while (frontier.length > 0 && found.length < cap) {
      const next: string[] = [];
      const stored = await this.deps.store.events.getEvents(frontier.filter((id) => !seen.has(id)));
      for (const id of frontier) {
        const event = stored.get(id);
        if (seen.has(id) || !event || event.roomId !== roomId || event.depth < req.minDepth) continue;
        seen.add(id);
        found.push(event);
        if (found.length >= cap) break;
        next.push(...referencedEventIds(JSON.parse(event.json).prev_events ?? []));
      }
      frontier = next;
    }
    found.sort((a, b) => a.depth - b.depth);
    return { events: await this.visiblePdus(origin, rules, found) };
  }

  /** GET /timestamp_to_event/{roomId}: the closest event to `ts` in a direction. */
  async timestampToEvent(origin: string, roomId: string, ts: number, dir: 'f' | 'b'): Promise<JsonObject> {
    await this.admit(origin, roomId);
    const event = await this.deps.store.events.getEventNearTimestamp(roomId, ts, dir === 'f' ? 'forward' : 'backward');
    if (!event) throw notFound(`No event ${dir === 'f' ? 'at or after' : 'at or before'} ${ts} in ${roomId}`);
    return { event_id: event.eventId, origin_server_ts: event.originServerTs };
  }

  /**
   * GET /query/directory: the room one of our aliases names, and the servers
   * in it (ours first), as Synapse answers.
   */
  async directory(alias: string): Promise<JsonObject> {
    const record = await this.deps.store.aliases.getAlias(alias);
    if (!record) throw notFound(`Room alias ${alias} not found`);
    const joined = await this.deps.store.memberships.membersOfRoom(record.roomId, 'join');
    const servers = new Set([this.deps.serverName, ...record.servers]);
    for (const m of joined) {
      const server = serverNameOfUserId(m.userId);
      if (server) servers.add(server);
    }
    return { room_id: record.roomId, servers: [...servers] };
  }

  /**
   * The room's version rules, if `origin` may read the room: we know it, its
   * ACL admits `origin`, and one of `origin`'s users is joined to it now.
   */
  private async admit(origin: string, roomId: string): Promise<RoomVersionRules> {
    const room = await this.deps.store.rooms.getRoom(roomId);
    const rules = room && roomVersion(room.roomVersion);
    if (!rules) throw notFound(`Room ${roomId} is not known here`);
    const acl = await this.deps.store.currentState.getCurrentStateEvent(roomId, 'm.room.server_acl', '');
    if (!serverAclAllows(acl && contentOf(acl), origin)) throw forbidden(`The room's server ACL denies ${origin}`);
    const joined = await this.deps.store.memberships.membersOfRoom(roomId, 'join');
    if (!joined.some((m) => serverNameOfUserId(m.userId) === origin)) throw forbidden(`${origin} has no user in ${roomId}`);
    return rules;
  }

  private async eventInRoom(roomId: string, eventId: string): Promise<StoredEvent> {
    const stored = await this.deps.store.events.getEvent(eventId);
    if (!stored || stored.roomId !== roomId) throw notFound(`Event ${eventId} is not in ${roomId}`);
    return stored;
  }

  /** The state before a stored, non-outlier event of the room. */
  private async stateBefore(roomId: string, eventId: string): Promise<StateMap> {
    const stored = await this.eventInRoom(roomId, eventId);
    // Outliers have no known state; rejected events are not part of the room (as Synapse answers).
    if (stored.stateSnapshotBefore === null) throw notFound(`The state at ${eventId} is not known here`);
    if (stored.rejectedReason !== null) throw notFound(`${eventId} was rejected: it has no place in the room's state`);
    return this.deps.store.snapshots.loadStateSnapshot(stored.stateSnapshotBefore);
  }

  private async prevEventIds(eventIds: readonly string[]): Promise<string[]> {
    const stored = await this.deps.store.events.getEvents(eventIds);
    return [...stored.values()].flatMap((e) => referencedEventIds(JSON.parse(e.json).prev_events ?? []));
  }

  /** PDUs of stored events by ID (unknown IDs skipped), redacted ones as redacted. */
  /**
   * The stored events as PDUs, in the order given, or with `oldestFirst` by
   * depth (then stream order). An auth chain is served oldest first: every
   * event then follows its auth events, so a server that takes them in turn
   * — or, like SyTest's, keeps the last state event of each key it reads —
   * ends with the newest power levels rather than whichever sorted last.
   */
  private async pdus(rules: RoomVersionRules, eventIds: readonly string[], options: { oldestFirst?: boolean } = {}): Promise<JsonObject[]> {
    const stored = await this.deps.store.events.getEvents(eventIds);
    const events = eventIds.flatMap((id) => stored.get(id) ?? []);
    if (options.oldestFirst) events.sort((a, b) => a.depth - b.depth || a.streamOrdering - b.streamOrdering);
    return events.map((event) => pduOf(event, rules, event.redactedBecause !== null));
  }

  /**
   * PDUs of `events`, each redacted if redacted here or if `origin` could
   * not see it: under `joined` or `invited` history visibility at the event,
   * no user of `origin` was joined (or invited, for `invited`) then.
   */
  private async visiblePdus(origin: string, rules: RoomVersionRules, events: readonly StoredEvent[]): Promise<JsonObject[]> {
    const pdus: JsonObject[] = [];
    for (const event of events) {
      const hidden = event.redactedBecause !== null || !(await this.serverMaySee(origin, event));
      pdus.push(pduOf(event, rules, hidden));
    }
    return pdus;
  }

  /** The history-visibility rule for servers (core/history-visibility.ts), from the state before the event. */
  private async serverMaySee(server: string, event: StoredEvent): Promise<boolean> {
    const senderErased = (await this.deps.erasedAmong([event.sender])).has(event.sender);
    if (event.stateSnapshotBefore === null) return !senderErased;
    const state = await this.deps.store.snapshots.loadStateSnapshot(event.stateSnapshotBefore);
    const visibilityId = state.get(stateKeyString('m.room.history_visibility', ''));
    const visibilityEvent = visibilityId ? await this.deps.store.events.getEvent(visibilityId) : undefined;
    const memberIds = [...state].filter(([key]) => {
      const [type, stateKey] = parseStateKeyString(key);
      return type === 'm.room.member' && serverNameOfUserId(stateKey) === server;
    });
    const members = await this.deps.store.events.getEvents(memberIds.map(([, id]) => id));
    const memberships = [...members.values()].map((m) => contentOf(m)['membership']).filter((m): m is string => typeof m === 'string');
    return serverMaySee({ visibility: historyVisibilityOf(visibilityEvent && contentOf(visibilityEvent)), memberships, senderErased });
  }


  private transaction(body: { pdus: JsonObject[] }): JsonObject {
    return { origin: this.deps.serverName, origin_server_ts: this.deps.clock(), ...body };
  }
}

function contentOf(event: StoredEvent): JsonObject {
  return (JSON.parse(event.json) as { content?: JsonObject }).content ?? {};
}

function pduOf(event: StoredEvent, rules: RoomVersionRules, redacted: boolean): JsonObject {
  const pdu = JSON.parse(event.json) as JsonObject;
  return redacted ? redactEvent(pdu, rules) : pdu;
}

function clampLimit(limit: number): number {
  return Math.max(1, Math.min(MAX_EVENTS_PER_REQUEST, Number.isFinite(limit) ? Math.floor(limit) : 10));
}
