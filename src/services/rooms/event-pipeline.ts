// The one way local events enter a room: build a PDU on the room's forward
// extremities, select its auth events from the current state, hash and sign
// it, check it against the authorisation rules, persist it with the state
// change it makes, then wake /sync. Each room's events go through a queue so
// they build on each other; rooms run in parallel (ARCHITECTURE.md).
import { randomBytes } from 'node:crypto';
import { authEventKeys, authStateFromEvents, createEventRoomId } from '../../core/auth-events.js';
import { checkEventAuth } from '../../core/auth-rules.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { computeEventId, generateServerEventId } from '../../core/event-id.js';
import { eventSizeViolation } from '../../core/event-size.js';
import { finaliseEvent, type UnsignedPdu } from '../../core/event-signing.js';
import type { RoomVersionRules } from '../../core/room-versions.js';
import type { SigningKey } from '../../core/signing.js';
import { stateKeyString, type Event, type EventReferenceV1, type JsonObject, type PDU } from '../../core/types.js';
import { forbidden, MatrixError, notFound } from '../../core/errors.js';
import type { Database } from '../../storage/database.js';
import type { EventToPersist, PersistedEvent, RoomStore, TxnKey } from '../../storage/rooms/index.js';
import type { Notifier } from '../notifier.js';
import { KeyedQueue } from './keyed-queue.js';
import { LoadedRoom, loadRoom, type Extremity } from './room-state.js';

/** What a local user asks to send; the pipeline fills in the rest of the PDU. */
export interface EventRequest {
  type: string;
  sender: string;
  content: JsonObject;
  stateKey?: string;
  /** For m.room.redaction: top-level in room versions 1–10, in content from v11 (the pipeline places it). */
  redacts?: string;
}

export interface SentEvent {
  event: Event;
  streamOrdering: number;
  /** True when a repeated transaction ID returned the event sent first. */
  existing: boolean;
}

/** Called after an event is committed and before /sync is woken (work that notifies other streams). */
export type PersistedEventListener = (event: Event, room: LoadedRoom) => Promise<void>;

/**
 * Called inside the transaction that stores the event, for data derived from
 * it (push actions, relations, search index): it commits atomically with the
 * event, in one disk flush. Database calls made here join that transaction.
 * Such a listener must not notify: nothing is visible until the commit (work
 * that must wait for it goes to `Database.afterCommit`).
 */
export type PersistingEventListener = (event: Event, room: LoadedRoom, streamOrdering: number) => Promise<void>;

/**
 * Consulted before a local event is built: throws (a MatrixError) to refuse
 * the request outright, e.g. for a suspended sender.
 */
export type SendCheck = (request: EventRequest) => Promise<void>;

/** A derived-data writer failed: the transaction is retried without derived data. */
class DerivedDataError extends Error {
  constructor(
    readonly eventId: string,
    readonly failure: unknown,
  ) {
    super(`deriving data from ${eventId} failed`);
  }
}

/** Rooms whose current state stays in memory (least recently used go first). */
const DEFAULT_ROOM_CACHE_LIMIT = 2_000;

/** Servers cap prev_events; this many keeps the DAG merging without huge events. */
const MAX_PREV_EVENTS = 10;
/** Depth is capped at the largest canonical JSON integer (server-server-api "Depth"). */
const MAX_DEPTH = Number.MAX_SAFE_INTEGER;

export interface PipelineDeps {
  db: Database;
  serverName: string;
  signingKey: SigningKey;
  store: RoomStore;
  notifier: Notifier;
  clock: () => number;
  onError: (err: unknown, context: string) => void;
  /** How many rooms' state to keep loaded; DEFAULT_ROOM_CACHE_LIMIT unless set. */
  roomCacheLimit?: number;
}

export class EventPipeline {
  private readonly queue = new KeyedQueue();
  private readonly rooms = new Map<string, LoadedRoom>();
  private readonly listeners: PersistedEventListener[] = [];
  private readonly derivers: PersistingEventListener[] = [];
  private readonly sendChecks: SendCheck[] = [];

  constructor(private readonly deps: PipelineDeps) {}

  /** Registers work to run after each event is committed (before /sync wakes). */
  onPersisted(listener: PersistedEventListener): void {
    this.listeners.push(listener);
  }

  /** Registers derived-data writes to run in each event's own transaction. */
  onPersisting(listener: PersistingEventListener): void {
    this.derivers.push(listener);
  }

  /** Registers a check every local event request must pass (in sendInRoom and createRoom). */
  beforeSend(check: SendCheck): void {
    this.sendChecks.push(check);
  }

  private async checkRequest(request: EventRequest): Promise<void> {
    for (const check of this.sendChecks) await check(request);
  }

  /** Runs `fn` with the room loaded, in the room's queue. Undefined room: it does not exist here. */
  withRoom<T>(roomId: string, fn: (room: LoadedRoom | undefined) => Promise<T>): Promise<T> {
    return this.queue.run(roomId, async () => fn(await this.room(roomId)));
  }

  /** Sends one event into an existing room (in the room's queue). */
  send(roomId: string, request: EventRequest, txn?: TxnKey): Promise<SentEvent> {
    return this.withRoom(roomId, async (room) => {
      if (!room) throw notFound(`Unknown room ${roomId}: this server is not in it`);
      return this.sendInRoom(room, request, txn);
    });
  }

  /**
   * Sends an event into a room already loaded by `withRoom` — for callers
   * that decide what to send from the room's state (joins, upgrades).
   */
  async sendInRoom(room: LoadedRoom, request: EventRequest, txn?: TxnKey): Promise<SentEvent> {
    if (txn) {
      const existing = await this.deps.store.events.getEventIdForTxn(txn);
      if (existing) return this.existingEvent(existing);
    }
    await this.checkRequest(request);
    const { event, sha256, json } = this.build(room, request);
    const decision = checkEventAuth(event, room.rules, this.authLookup(room, event));
    if (!decision.allowed) throw forbidden(decision.reason);
    const [persisted] = await this.persist(room, [{ event, sha256, json }], txn);
    return persisted!;
  }

  /**
   * Creates a room from its ordered initial events in one transaction
   * (createRoom): each is built on and checked against the ones before it.
   * `buildRequests` receives the room ID once the create event fixes it.
   */
  async createRoom(
    rules: RoomVersionRules,
    create: EventRequest,
    makeRoomId: () => string,
    buildRequests: (roomId: string) => EventRequest[],
    beforeCommit: (roomId: string) => Promise<void>,
  ): Promise<{ roomId: string; events: SentEvent[] }> {
    // The initial events all come from the creator: checking the create event covers them.
    await this.checkRequest(create);
    // Before v12 we choose the room ID; from v12 it is the create event's hash.
    const chosenId = rules.roomIdIsCreateEventHash ? '' : makeRoomId();
    const createBuilt = this.build(new LoadedRoom(chosenId, rules, new Map(), undefined, []), create);
    const roomId = chosenId || createEventRoomId(createBuilt.event);
    createBuilt.event.room_id = roomId;
    const createDecision = checkEventAuth(createBuilt.event, rules, () => undefined);
    if (!createDecision.allowed) throw forbidden(`Cannot create the room: ${createDecision.reason}`);
    return this.queue.run(roomId, async () => {
      const draft = new LoadedRoom(roomId, rules, new Map(), undefined, []);
      draft.apply(createBuilt.event, createBuilt.sha256);
      const built = [createBuilt];
      for (const request of buildRequests(roomId)) {
        const next = this.build(draft, request);
        const decision = checkEventAuth(next.event, rules, this.authLookup(draft, next.event));
        if (!decision.allowed) throw forbidden(`Cannot create the room: ${decision.reason}`);
        draft.apply(next.event, next.sha256);
        built.push(next);
      }
      const room = new LoadedRoom(roomId, rules, new Map(), undefined, []);
      const events = await this.persist(room, built, undefined, () => beforeCommit(roomId));
      this.remember(roomId, room);
      return { roomId, events };
    });
  }

  /** The room as the pipeline sees it (loaded on first use), or undefined if unknown. */
  async room(roomId: string): Promise<LoadedRoom | undefined> {
    const cached = this.rooms.get(roomId);
    if (cached) {
      this.remember(roomId, cached);
      return cached;
    }
    const loaded = await loadRoom(this.deps.store, roomId);
    // Readers call this outside the room's queue: if a send loaded (and may
    // since have advanced) the room while we were reading, theirs is the one.
    const raced = this.rooms.get(roomId);
    if (raced) return raced;
    if (loaded) this.remember(roomId, loaded);
    return loaded;
  }

  /** How many rooms are loaded (bounded by roomCacheLimit). */
  get loadedRoomCount(): number {
    return this.rooms.size;
  }

  /**
   * Marks the room most recently used and lets the least recently used go
   * past the limit — but never a room with a send queued or running: that
   * send advances the copy it holds, and a reader reloading the room from
   * storage meanwhile would cache state from before its commit.
   */
  private remember(roomId: string, room: LoadedRoom): void {
    this.rooms.delete(roomId);
    this.rooms.set(roomId, room);
    const limit = this.deps.roomCacheLimit ?? DEFAULT_ROOM_CACHE_LIMIT;
    for (const candidate of this.rooms.keys()) {
      if (this.rooms.size <= limit) break;
      if (candidate !== roomId && !this.queue.busy(candidate)) this.rooms.delete(candidate);
    }
  }

  private async existingEvent(eventId: string): Promise<SentEvent> {
    const stored = await this.deps.store.events.getEvent(eventId);
    if (!stored) throw new Error(`transaction maps to ${eventId}, which is not stored`);
    const pdu = JSON.parse(stored.json) as PDU;
    return { event: { ...pdu, event_id: stored.eventId, room_id: stored.roomId }, streamOrdering: stored.streamOrdering, existing: true };
  }

  /** The auth events of `event` as a lookup; in v12 the create event is implied by the room ID. */
  private authLookup(room: LoadedRoom, event: Event) {
    const keys = authEventKeys(event, room.rules);
    const events = keys.map(([type, stateKey]) => room.stateEvent(type, stateKey)).filter((e): e is Event => e !== undefined);
    const create = room.stateEvent('m.room.create');
    if (room.rules.roomIdIsCreateEventHash && create) events.push(create);
    return authStateFromEvents(events);
  }

  private build(room: LoadedRoom, request: EventRequest): { event: Event; sha256: string; json: string } {
    const { rules } = room;
    const { serverName, signingKey, clock } = this.deps;
    const prev = room.extremities.slice(0, MAX_PREV_EVENTS);
    const depth = Math.min(MAX_DEPTH, prev.reduce((max, e) => Math.max(max, e.depth), 0) + 1);
    const isCreate = request.type === 'm.room.create' && request.stateKey === '';
    const authEvents = authEventKeys(
      { type: request.type, sender: request.sender, state_key: request.stateKey, content: request.content },
      rules,
    )
      .map(([type, stateKey]) => room.stateEvent(type, stateKey))
      .filter((e): e is Event => e !== undefined);
    const content = { ...request.content };
    if (request.redacts !== undefined && rules.redactsInContent) content.redacts = request.redacts;
    const unsigned: UnsignedPdu = {
      type: request.type,
      sender: request.sender,
      content,
      origin_server_ts: clock(),
      depth,
      prev_events: references(prev, rules),
      auth_events: references(authEvents.map((e) => ({ eventId: e.event_id, depth: e.depth, sha256: e.hashes.sha256 })), rules),
    };
    const roomId = room.roomId;
    if (!(isCreate && rules.roomIdIsCreateEventHash)) unsigned.room_id = roomId;
    if (request.stateKey !== undefined) unsigned.state_key = request.stateKey;
    if (request.redacts !== undefined && !rules.redactsInContent) unsigned.redacts = request.redacts;
    if (rules.eventFormat === 1) unsigned.event_id = generateServerEventId(serverName, () => randomBytes(12).toString('base64url'));
    const pdu = finaliseEvent(unsigned, serverName, signingKey, rules);
    const eventId = rules.eventFormat === 1 ? pdu.event_id! : computeEventId(pdu, rules);
    const event = { ...pdu, event_id: eventId, room_id: roomId } as Event;
    const json = canonicalJson(pdu as unknown as JsonObject, { strict: rules.strictCanonicalJson });
    // Every local event is built here, so no endpoint can store one over the spec's limits.
    const tooLarge = eventSizeViolation(event, json);
    if (tooLarge !== undefined) throw new MatrixError(413, 'M_TOO_LARGE', tooLarge);
    return { event, sha256: pdu.hashes.sha256, json };
  }

  /**
   * Persists built events in one transaction: the state before each is saved
   * as a snapshot first (snapshots must not be written inside the events
   * transaction; a batch's are written in one transaction of their own),
   * then events, current state and memberships together.
   */
  private async persist(
    room: LoadedRoom,
    built: Array<{ event: Event; sha256: string; json: string }>,
    txn: TxnKey | undefined,
    beforeCommit?: () => Promise<void>,
  ): Promise<SentEvent[]> {
    const { snapshots } = this.deps.store;
    const toPersist: EventToPersist[] = [];
    const working = new LoadedRoom(room.roomId, room.rules, new Map(room.state), room.snapshotId, room.extremities, room.parentSnapshotId);
    const changed = new Map<string, string>();
    const snapshotBeforeEach = async () => {
      for (const { event, sha256, json } of built) {
        working.snapshotId ??= await snapshots.saveStateSnapshot(working.stateMap(), working.parentSnapshotId);
        const replaced = event.state_key !== undefined ? working.stateEvent(event.type, event.state_key) : undefined;
        toPersist.push({ event, json, stateSnapshotBefore: working.snapshotId, replacesState: replaced?.event_id ?? null, txn });
        working.apply(event, sha256);
        if (event.state_key !== undefined) changed.set(stateKeyString(event.type, event.state_key), event.event_id);
      }
    };
    // A batch of state events (createRoom) saves a chain of snapshots: one commit for all.
    const stateKeys = built.filter(({ event }) => event.state_key !== undefined).map(({ event }) => stateKeyString(event.type, event.state_key!));
    if (stateKeys.length > 1) await snapshots.saveInOneTransaction([...working.state.keys(), ...stateKeys], snapshotBeforeEach);
    else await snapshotBeforeEach();
    const currentState = changed.size > 0 ? [{ roomId: room.roomId, update: { delta: { changed, removed: [] } } }] : undefined;
    const store = (derive: boolean): Promise<PersistedEvent[]> =>
      this.deps.db.transaction(async () => {
        if (beforeCommit) await beforeCommit();
        const stored = await this.deps.store.events.persistEvents({ events: toPersist, currentState, builtHere: true });
        for (const [i, result] of stored.entries()) {
          if (derive && !result.existing) await this.deriveData(built[i]!.event, working, result.streamOrdering);
        }
        return stored;
      });
    let persisted: PersistedEvent[];
    try {
      persisted = await store(true).catch(async (err: unknown) => {
        // A failing deriver loses the derived data (and is logged), never the
        // event: the rolled-back transaction is stored again without it.
        // Retrying on failure keeps savepoints (two round trips) off every send.
        if (!(err instanceof DerivedDataError)) throw err;
        this.deps.onError(err.failure, err.message);
        return store(false);
      });
    } catch (err) {
      // Another request with the same transaction ID (from another room's
      // queue) committed first: answer with its event, as a repeat would get.
      const winner = txn && (await this.deps.store.events.getEventIdForTxn(txn).catch(() => undefined));
      if (winner) return [await this.existingEvent(winner)];
      throw err;
    }
    room.state.clear();
    for (const [key, event] of working.state) room.state.set(key, event);
    room.snapshotId = working.snapshotId;
    room.parentSnapshotId = working.parentSnapshotId;
    room.extremities = working.extremities;
    const sent = built.map(({ event }, i) => ({ event, streamOrdering: persisted[i]!.streamOrdering, existing: false }));
    await this.afterCommit(room, sent);
    return sent;
  }

  private async deriveData(event: Event, room: LoadedRoom, streamOrdering: number): Promise<void> {
    try {
      for (const deriver of this.derivers) await deriver(event, room, streamOrdering);
    } catch (err) {
      throw new DerivedDataError(event.event_id, err);
    }
  }

  private async afterCommit(room: LoadedRoom, sent: SentEvent[]): Promise<void> {
    for (const { event } of sent) {
      for (const listener of this.listeners) {
        try {
          await listener(event, room);
        } catch (err) {
          this.deps.onError(err, `after persisting ${event.event_id}`);
        }
      }
    }
    const last = sent[sent.length - 1]!;
    const affectedUsers = sent.filter((s) => s.event.type === 'm.room.member').map((s) => s.event.state_key!);
    this.deps.notifier.notify('events', last.streamOrdering, { roomIds: [room.roomId], userIds: affectedUsers });
  }
}

function references(events: Extremity[], rules: RoomVersionRules): string[] | EventReferenceV1[] {
  if (rules.eventFormat === 1) return events.map((e): EventReferenceV1 => [e.eventId, { sha256: e.sha256 }]);
  return events.map((e) => e.eventId);
}
