// The one way local events enter a room: build a PDU on the room's forward
// extremities, select its auth events from the current state, hash and sign
// it, check it against the authorisation rules, persist it with the state
// change it makes, then wake /sync. Each room's events go through a queue so
// they build on each other; rooms run in parallel (ARCHITECTURE.md).
import { randomBytes } from 'node:crypto';
import { authEventKeys, authStateFromEvents, checkAuthEventsList, createEventRoomId, referencedEventIds } from '../../core/auth-events.js';
import { checkEventAuth, type AuthDecision } from '../../core/auth-rules.js';
import { CanonicalJsonError, canonicalJson } from '../../core/canonical-json.js';
import { computeEventId, generateServerEventId } from '../../core/event-id.js';
import { eventSizeViolation } from '../../core/event-size.js';
import { finaliseEvent, type UnsignedPdu } from '../../core/event-signing.js';
import { roomVersion, type RoomVersionRules } from '../../core/room-versions.js';
import type { SigningKey } from '../../core/signing.js';
import { parseStateKeyString, stateKeyString, type Event, type EventReferenceV1, type JsonObject, type PDU, type StateMap } from '../../core/types.js';
import { badJson, forbidden, MatrixError, notFound } from '../../core/errors.js';
import type { Database } from '../../storage/database.js';
import type { EventToPersist, Membership, PersistBatch, PersistedEvent, RoomStore, TxnKey } from '../../storage/rooms/index.js';
import type { Notifier } from '../notifier.js';
import { KeyedQueue } from './keyed-queue.js';
import { redactionTarget } from './redactions.js';
import { RoomDag } from './room-dag.js';
import { eventFromStored, LoadedRoom, loadRoom, type Extremity } from './room-state.js';

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

/**
 * An event received from another server, after federation's checks of its
 * format, signatures and content hash (server-server-api "Checks performed
 * on receipt of a PDU", steps 1–3): `event` is the redacted copy when the
 * hash did not match, and `json` its canonical JSON as it will be stored.
 */
export interface ReceivedEvent {
  event: Event;
  json: string;
}

/** What became of a received event (steps 4–6 of the checks on receipt). */
export type ReceiveOutcome =
  | { status: 'accepted'; streamOrdering: number }
  | { status: 'soft_failed'; reason: string }
  | { status: 'rejected'; reason: string }
  /** Stored before (not as an outlier): nothing was done. */
  | { status: 'duplicate' };

type Verdict = { status: 'accepted' } | { status: 'soft_failed' | 'rejected'; reason: string };

/** Called after an event is committed and before /sync is woken (work that notifies other streams). */
export type PersistedEventListener = (event: Event, room: LoadedRoom) => Promise<void>;

/**
 * Called inside the transaction that stores the event, for data derived from
 * it (push actions, relations, search index): it commits atomically with the
 * event, in one disk flush. Database calls made here join that transaction.
 * `room` is the room as the event leaves it, whether sent here or received.
 * Such a listener must not notify: nothing is visible until the commit (work
 * that must wait for it goes to `Database.afterCommit`). `builtHere`: this
 * server built the event (not received it), even for another server's
 * sender, as when it turns a third-party invite into an invite.
 */
export type PersistingEventListener = (event: Event, room: LoadedRoom, streamOrdering: number, builtHere: boolean) => Promise<void>;

/**
 * Called after a membership of a room this server is not in is recorded (an
 * invite, knock or rejection received over federation), with the room's
 * stripped state as the other server sent it.
 */
export type OutOfRoomMembershipListener = (event: Event, rules: RoomVersionRules, strippedState: readonly JsonObject[], streamOrdering: number) => Promise<void>;

/** Told how long each batch of events took to commit (`events` of them), in seconds: the metrics' persist latency. */
export type CommitObserver = (seconds: number, events: number) => void;

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
  private readonly outOfRoomListeners: OutOfRoomMembershipListener[] = [];
  private readonly sendChecks: SendCheck[] = [];
  private readonly commitObservers: CommitObserver[] = [];
  readonly dag: RoomDag;

  constructor(private readonly deps: PipelineDeps) {
    this.dag = new RoomDag(deps.store);
  }

  /** Registers work to run after each event is committed (before /sync wakes). */
  onPersisted(listener: PersistedEventListener): void {
    this.listeners.push(listener);
  }

  /** Registers derived-data writes to run in each event's own transaction. */
  onPersisting(listener: PersistingEventListener): void {
    this.derivers.push(listener);
  }

  /** Registers work to run after each out-of-room membership is recorded. */
  onOutOfRoomMembership(listener: OutOfRoomMembershipListener): void {
    this.outOfRoomListeners.push(listener);
  }

  /** Registers an observer of each batch's commit time (local sends, createRoom, received events). */
  observeCommits(observer: CommitObserver): void {
    this.commitObservers.push(observer);
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

  /**
   * Runs `fn`, which changes the room's stored events behind the pipeline's
   * back (an admin's purge), in the room's queue so nothing is sent
   * meanwhile; the loaded copy is dropped after, so the next use reads storage.
   */
  alterStoredRoom(roomId: string, fn: () => Promise<void>): Promise<void> {
    return this.queue.run(roomId, async () => {
      try {
        await fn();
      } finally {
        this.rooms.delete(roomId);
      }
    });
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
   * Like `sendInRoom`, for an event another server must sign before it
   * enters the room (an invite of its user): `countersign` gets the built,
   * authorised event and returns it as that server signed it.
   */
  async sendInRoomCountersigned(
    room: LoadedRoom,
    request: EventRequest,
    countersign: (event: Event, pdu: JsonObject) => Promise<ReceivedEvent>,
  ): Promise<SentEvent> {
    const built = this.buildAuthorised(room, request);
    const signed = await countersign(built.event, JSON.parse(built.json) as JsonObject);
    if (signed.event.event_id !== built.event.event_id) throw new Error(`the countersigned event is ${signed.event.event_id}, not ${built.event.event_id}`);
    const [persisted] = await this.persist(room, [{ event: signed.event, sha256: built.sha256, json: signed.json }], undefined);
    return persisted!;
  }

  /**
   * Like `sendInRoom`, with `prepare` given the built, authorised event
   * before it is persisted: work that must name the event before the room
   * shows it (a room upgrade's replacement room names its tombstone).
   */
  async sendInRoomPrepared(room: LoadedRoom, request: EventRequest, prepare: (event: Event) => Promise<void>): Promise<SentEvent> {
    await this.checkRequest(request);
    const built = this.buildAuthorised(room, request);
    await prepare(built.event);
    const [persisted] = await this.persist(room, [built], undefined);
    return persisted!;
  }

  private buildAuthorised(room: LoadedRoom, request: EventRequest): { event: Event; sha256: string; json: string } {
    const built = this.build(room, request);
    const decision = checkEventAuth(built.event, room.rules, this.authLookup(room, built.event));
    if (!decision.allowed) throw forbidden(decision.reason);
    return built;
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

  /**
   * Takes an event received from another server into the room, in the
   * room's queue (server-server-api "Checks performed on receipt of a PDU",
   * steps 4–6): rejected if it fails the authorisation rules against its own
   * auth events or against the state before it, soft-failed if it fails them
   * against the room's current state, otherwise accepted into the timeline,
   * with the current state resolved across the forward extremities.
   *
   * Its auth events must be stored (as outliers at least). `stateBefore` is
   * for an event whose prev_events are not all stored here: the state the
   * sender's server reports at it (the event then starts a gap in the DAG);
   * otherwise the state is worked out from the prev_events.
   */
  receive(roomId: string, received: ReceivedEvent, stateBefore?: StateMap): Promise<ReceiveOutcome> {
    return this.withRoom(roomId, async (room) => {
      if (!room) throw notFound(`Unknown room ${roomId}: this server is not in it`);
      const { event } = received;
      const known = await this.deps.store.events.getEvent(event.event_id);
      if (known && !known.outlier) return { status: 'duplicate' };
      const before = stateBefore ?? (await this.dag.stateBefore(room.rules, referencedEventIds(event.prev_events)));
      const verdict = await this.judge(room, event, before);
      return this.persistReceived(room, received, before, verdict, false);
    });
  }

  /**
   * Stores history fetched from another server (backfill), oldest first,
   * each with the state before it: judged against its auth events and that
   * state (rejected events are kept as such), given positions below all
   * others, and left out of the current state, the forward extremities,
   * derived data and notifications — it is the past, not news. Returns how
   * many were taken into the timeline.
   */
  async storeBackfilled(roomId: string, items: ReadonlyArray<{ received: ReceivedEvent; stateBefore: StateMap }>): Promise<number> {
    return this.withRoom(roomId, async (room) => {
      if (!room) throw notFound(`Unknown room ${roomId}: this server is not in it`);
      const toPersist: EventToPersist[] = [];
      for (const { received, stateBefore } of items) {
        // History is not checked against the current state: it is not news to soft-fail.
        const verdict = await this.judge(room, received.event, stateBefore, false);
        const { event, json } = received;
        toPersist.push({
          event,
          json,
          stateSnapshotBefore: await this.deps.store.snapshots.saveStateSnapshot(stateBefore, room.parentSnapshotId),
          replacesState: event.state_key !== undefined ? (stateBefore.get(stateKeyString(event.type, event.state_key)) ?? null) : null,
          rejectedReason: verdict.status === 'rejected' ? verdict.reason : null,
        });
      }
      const persisted = await this.deps.store.events.persistEvents({ events: toPersist, backfilled: true });
      return persisted.filter((p, i) => !p.existing && !toPersist[i]!.rejectedReason).length;
    });
  }

  /**
   * Joins this server to a room through a resident server (the end of the
   * join handshake, server-server-api "Joining Rooms"): records the room,
   * stores the state and auth chain the resident sent as outliers, then
   * takes the join event with that state before it. The join becomes the
   * room's only forward extremity, replacing any left from an earlier stay.
   */
  async joinRemoteRoom(
    record: { roomId: string; roomVersion: string; creator: string },
    rules: RoomVersionRules,
    stateAndAuthChain: readonly ReceivedEvent[],
    stateIds: readonly string[],
    join: ReceivedEvent,
  ): Promise<ReceiveOutcome> {
    const { store } = this.deps;
    await store.rooms.createRoom({ ...record, isPublic: false, createdTs: this.deps.clock() });
    return this.queue.run(record.roomId, async () => {
      await this.storeOutliers(record.roomId, rules, stateAndAuthChain);
      const stored = await this.dag.events(stateIds);
      const stateBefore: StateMap = new Map(
        [...stored.values()].filter((s) => s.stored.rejectedReason === null).map(({ event: e }) => [stateKeyString(e.type, e.state_key ?? ''), e.event_id]),
      );
      // Whatever we held of the room before is stale: start from the resident's view.
      this.rooms.delete(record.roomId);
      const room = (await this.room(record.roomId))!;
      room.state.clear();
      room.extremities = [];
      const verdict = await this.judge(room, join.event, stateBefore);
      return this.persistReceived(room, join, stateBefore, verdict, true);
    });
  }

  /**
   * Records a local user's membership of a room this server is not in: an
   * invite from another server, a knock or a rejection sent through one.
   * The event is stored as an outlier (this server has no state to place it
   * in) with the stripped state the user may see, and /sync is woken.
   */
  async recordOutOfRoomMembership(
    record: { roomId: string; roomVersion: string; creator: string },
    received: ReceivedEvent,
    strippedState: readonly JsonObject[] | undefined,
  ): Promise<number> {
    const { store, db } = this.deps;
    const { event } = received;
    const membership = event.content.membership;
    if (event.type !== 'm.room.member' || event.state_key === undefined || typeof membership !== 'string') {
      throw new Error(`${event.event_id} is not a membership event`);
    }
    const position = await db.transaction(async (tx) => {
      await store.rooms.createRoom({ ...record, isPublic: false, createdTs: this.deps.clock() });
      const [persisted] = await store.events.persistEvents({ events: [{ ...received, outlier: true }] });
      const m = { roomId: record.roomId, userId: event.state_key!, membership: membership as Membership, eventId: event.event_id, streamOrdering: persisted!.streamOrdering };
      await store.memberships.setOutOfRoomMembership(tx, m, strippedState);
      return persisted!.streamOrdering;
    });
    const rules = roomVersion(record.roomVersion);
    if (rules) {
      for (const listener of this.outOfRoomListeners) {
        await listener(event, rules, strippedState ?? [], position).catch((err: unknown) => this.deps.onError(err, `after recording ${event.event_id}`));
      }
    }
    this.deps.notifier.notify('events', position, { roomIds: [record.roomId], userIds: [event.state_key] });
    return position;
  }

  /**
   * A template of an event for another server to sign (make_join,
   * make_leave, make_knock): built on the room's current extremities and
   * state, and checked against the authorisation rules, without hashes,
   * signatures or event ID, which the other server adds.
   */
  template(roomId: string, request: EventRequest): Promise<{ pdu: JsonObject; rules: RoomVersionRules }> {
    return this.withRoom(roomId, async (room) => {
      if (!room) throw notFound(`Unknown room ${roomId}: this server is not in it`);
      const { event } = this.build(room, request);
      const decision = checkEventAuth(event, room.rules, this.authLookup(room, event));
      if (!decision.allowed) throw forbidden(decision.reason);
      const { hashes: _hashes, signatures: _signatures, event_id: _eventId, unsigned: _unsigned, ...pdu } = event;
      return { pdu: pdu as unknown as JsonObject, rules: room.rules };
    });
  }

  /**
   * Stores events known only as auth or state events (an auth chain from a
   * join, the state at a gap): kept out of the timeline and the extremities.
   * Each is checked against its own auth events, which must be among
   * `events` or stored already; one that fails is stored as rejected, as
   * later events that name it must be rejected too. Returns the IDs rejected.
   */
  async storeOutliers(roomId: string, rules: RoomVersionRules, received: readonly ReceivedEvent[]): Promise<Set<string>> {
    const batch = new Map(received.map((r) => [r.event.event_id, r]));
    const createId = rules.roomIdIsCreateEventHash ? `$${roomId.slice(1)}` : undefined;
    const wanted = [...authIdsOf(received.map((r) => r.event)), ...(createId ? [createId] : [])];
    const stored = await this.dag.events(wanted.filter((id) => !batch.has(id)));
    const known = new Map([...stored].map(([id, s]) => [id, { event: s.event, rejected: s.stored.rejectedReason !== null }]));
    const rejected = new Set<string>();
    const toPersist: EventToPersist[] = [];
    for (const { event, json } of inAuthOrder(received)) {
      const authEvents = referencedEventIds(event.auth_events).map((id) => known.get(id)?.event).filter((e): e is Event => e !== undefined);
      const create = createId === undefined ? undefined : known.get(createId)?.event;
      const decision = this.checkAgainstAuthEvents(event, rules, authEvents, (id) => known.get(id)?.rejected ?? false, create);
      if (!decision.allowed) rejected.add(event.event_id);
      known.set(event.event_id, { event, rejected: !decision.allowed });
      toPersist.push({ event, json, outlier: true, rejectedReason: decision.allowed ? null : decision.reason });
    }
    await this.deps.store.events.persistEvents({ events: toPersist });
    return rejected;
  }

  /** Steps 4–6 of the checks on receipt, as a verdict on the event. */
  private async judge(room: LoadedRoom, event: Event, stateBefore: StateMap, againstCurrentState = true): Promise<Verdict> {
    const { rules } = room;
    const authIds = referencedEventIds(event.auth_events);
    const authLoaded = await this.dag.events(authIds);
    const authEvents = [...authLoaded.values()].map((a) => a.event);
    const create = room.stateEvent('m.room.create') ?? (await this.impliedCreateEvent(room.roomId, rules));
    const againstAuth = this.checkAgainstAuthEvents(event, rules, authEvents, (id) => authLoaded.get(id)?.stored.rejectedReason != null, create);
    if (!againstAuth.allowed) return { status: 'rejected', reason: againstAuth.reason };
    const againstBefore = checkEventAuth(event, rules, await this.authLookupIn(rules, event, stateBefore));
    if (!againstBefore.allowed) return { status: 'rejected', reason: `against the state before it: ${againstBefore.reason}` };
    const misdirected = await this.redactsAnotherRoom(room, event);
    if (misdirected) return { status: 'soft_failed', reason: misdirected };
    // A server joining a room has no current state of its own to hold the join against.
    if (!againstCurrentState || room.state.size === 0) return { status: 'accepted' };
    const againstCurrent = checkEventAuth(event, rules, this.authLookup(room, event));
    if (!againstCurrent.allowed) return { status: 'soft_failed', reason: `against the room's current state: ${againstCurrent.reason}` };
    return { status: 'accepted' };
  }

  /**
   * A redaction naming an event of another room is allowed by the auth
   * rules from v3 but never applies, so it is kept from clients
   * (rooms/fragments/v3-handling-redactions.md: redactions are sent to
   * clients only when they would be applied). Returns the reason, if so.
   */
  private async redactsAnotherRoom(room: LoadedRoom, event: Event): Promise<string | undefined> {
    const targetId = redactionTarget(event, room);
    if (targetId === undefined) return undefined;
    const target = await this.deps.store.events.getEvent(targetId);
    return target && target.roomId !== room.roomId ? `it redacts ${targetId}, an event of another room` : undefined;
  }

  /** In v12 the create event a room ID names, if stored; undefined before v12. */
  private async impliedCreateEvent(roomId: string, rules: RoomVersionRules): Promise<Event | undefined> {
    if (!rules.roomIdIsCreateEventHash) return undefined;
    const id = `$${roomId.slice(1)}`;
    return (await this.dag.events([id])).get(id)?.event;
  }

  /** Rule 3 (the auth_events list) and the rules against exactly those events. */
  private checkAgainstAuthEvents(
    event: Event,
    rules: RoomVersionRules,
    authEvents: Event[],
    isRejected: (id: string) => boolean,
    impliedCreate: Event | undefined,
  ): AuthDecision {
    const list = checkAuthEventsList(event, authEvents, rules, { isRejected });
    if (!list.allowed) return list;
    // In v12 the room ID stands for the create event, which auth_events do not list.
    const lookupEvents = impliedCreate && event.type !== 'm.room.create' ? [...authEvents, impliedCreate] : authEvents;
    return checkEventAuth(event, rules, authStateFromEvents(lookupEvents));
  }

  /** The events of `state` that the auth rules consult for `event`, as a lookup. */
  private async authLookupIn(rules: RoomVersionRules, event: Event, state: StateMap) {
    const keys = authEventKeys(event, rules).map(([type, stateKey]) => stateKeyString(type, stateKey));
    if (rules.roomIdIsCreateEventHash) keys.push(stateKeyString('m.room.create', ''));
    const ids = keys.map((k) => state.get(k)).filter((id): id is string => id !== undefined);
    const loaded = await this.dag.events(ids);
    return authStateFromEvents([...loaded.values()].filter((l) => l.stored.rejectedReason === null).map((l) => l.event));
  }

  /**
   * Persists a judged received event with the snapshot of the state before
   * it. An accepted event joins the forward extremities (unless events
   * naming it arrived first), and the current state becomes the resolution
   * of the states after every extremity.
   */
  private async persistReceived(
    room: LoadedRoom,
    { event, json }: ReceivedEvent,
    stateBefore: StateMap,
    verdict: Verdict,
    resetExtremities: boolean,
  ): Promise<ReceiveOutcome> {
    const { store } = this.deps;
    const snapshotBefore = await store.snapshots.saveStateSnapshot(stateBefore, room.parentSnapshotId);
    const accepted = verdict.status === 'accepted';
    const item: EventToPersist = {
      event,
      json,
      stateSnapshotBefore: snapshotBefore,
      replacesState: event.state_key !== undefined ? (stateBefore.get(stateKeyString(event.type, event.state_key)) ?? null) : null,
      rejectedReason: verdict.status === 'rejected' ? verdict.reason : null,
      softFailed: verdict.status === 'soft_failed',
    };
    const next = accepted ? await this.nextCurrentState(room, event, stateBefore) : undefined;
    const currentState = next ? [{ roomId: room.roomId, update: { state: next.state } }] : undefined;
    // Derived data sees the room as it is after the event, as for local
    // sends; the loaded room takes that state once it is committed.
    const working = new LoadedRoom(room.roomId, room.rules, new Map(room.state), room.snapshotId, room.extremities, room.parentSnapshotId);
    if (next) await this.adoptState(working, next.state, next.extremities, snapshotBefore, event);
    const [persisted] = await this.commitWithDerivedData({ events: [item], currentState, resetExtremities: resetExtremities ? [room.roomId] : undefined }, working);
    if (verdict.status !== 'accepted') return verdict;
    if (next) takeState(room, working);
    await this.afterCommit(room, [{ event, streamOrdering: persisted!.streamOrdering, existing: false }]);
    return { status: 'accepted', streamOrdering: persisted!.streamOrdering };
  }

  /**
   * The extremities and current state once `event` is accepted: it replaces
   * the extremities it names; if it is then the only one, the state after it
   * is the room's state, otherwise the states after all of them are
   * resolved. Undefined when stored events already name it as a prev_event
   * (it arrived late, behind a gap): the room's state stays as it is.
   */
  private async nextCurrentState(room: LoadedRoom, event: Event, stateBefore: StateMap): Promise<{ state: StateMap; extremities: Extremity[] } | undefined> {
    const children = await this.deps.store.events.getChildEventIds(event.event_id);
    if (children.length > 0) return undefined;
    const covered = new Set(referencedEventIds(event.prev_events));
    const others = room.extremities.filter((e) => !covered.has(e.eventId));
    const after = new Map(stateBefore);
    if (event.state_key !== undefined) after.set(stateKeyString(event.type, event.state_key), event.event_id);
    const extremities = [{ eventId: event.event_id, depth: event.depth, sha256: event.hashes.sha256 }, ...others];
    if (others.length === 0) return { state: after, extremities };
    const otherStates = await this.dag.statesAfter(others.map((e) => e.eventId));
    return { state: await this.dag.resolve(room.rules, [after, ...otherStates.values()], [event]), extremities };
  }

  /** Makes the loaded room match a newly resolved current state; `pending` is an event of it not stored yet. */
  private async adoptState(room: LoadedRoom, state: StateMap, extremities: Extremity[], parentSnapshot: number, pending: Event): Promise<void> {
    const changed = [...state].filter(([key, id]) => room.state.get(key)?.event_id !== id);
    const loaded = await this.dag.events(changed.map(([, id]) => id).filter((id) => id !== pending.event_id));
    for (const key of [...room.state.keys()]) if (!state.has(key)) room.state.delete(key);
    for (const [key, id] of changed) {
      const event = id === pending.event_id ? pending : loaded.get(id)?.event;
      if (event) room.state.set(key, event);
      else this.deps.onError(new Error(`state event ${id} (${parseStateKeyString(key).join(' ')}) is not stored`), `adopting the state of ${room.roomId}`);
    }
    room.extremities = extremities;
    room.snapshotId = undefined;
    room.parentSnapshotId = parentSnapshot;
  }

  /** The room's record (its version and creator), also for rooms this server is not in. */
  roomRecord(roomId: string): Promise<{ roomVersion: string; creator: string } | undefined> {
    return this.deps.store.rooms.getRoom(roomId);
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
    const pdu = encodable(rules, () => finaliseEvent(unsigned, serverName, signingKey, rules));
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
    let persisted: PersistedEvent[];
    try {
      persisted = await this.commitWithDerivedData({ events: toPersist, currentState, builtHere: true }, working, beforeCommit);
    } catch (err) {
      // Another request with the same transaction ID (from another room's
      // queue) committed first: answer with its event, as a repeat would get.
      const winner = txn && (await this.deps.store.events.getEventIdForTxn(txn).catch(() => undefined));
      if (winner) return [await this.existingEvent(winner)];
      throw err;
    }
    takeState(room, working);
    const sent = built.map(({ event }, i) => ({ event, streamOrdering: persisted[i]!.streamOrdering, existing: false }));
    await this.afterCommit(room, sent);
    return sent;
  }

  /**
   * Persists a batch in one transaction together with the data derived from
   * its new timeline events. A failing deriver loses the derived data (and is
   * logged), never the events: the rolled-back transaction is stored again
   * without it. Retrying on failure keeps savepoints (two round trips) off
   * every send.
   */
  private async commitWithDerivedData(batch: PersistBatch, room: LoadedRoom, beforeCommit?: () => Promise<void>): Promise<PersistedEvent[]> {
    const store = (derive: boolean): Promise<PersistedEvent[]> =>
      this.deps.db.transaction(async () => {
        if (beforeCommit) await beforeCommit();
        const stored = await this.deps.store.events.persistEvents(batch);
        for (const [i, result] of stored.entries()) {
          const item = batch.events[i]!;
          const inTimeline = !item.outlier && !item.rejectedReason && !item.softFailed;
          if (derive && inTimeline && !result.existing) await this.deriveData(item.event, room, result.streamOrdering, batch.builtHere === true);
        }
        return stored;
      });
    const started = performance.now();
    const stored = await store(true).catch(async (err: unknown) => {
      if (!(err instanceof DerivedDataError)) throw err;
      this.deps.onError(err.failure, err.message);
      return store(false);
    });
    const seconds = (performance.now() - started) / 1000;
    for (const observe of this.commitObservers) observe(seconds, batch.events.length);
    return stored;
  }

  private async deriveData(event: Event, room: LoadedRoom, streamOrdering: number, builtHere: boolean): Promise<void> {
    try {
      for (const deriver of this.derivers) await deriver(event, room, streamOrdering, builtHere);
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

/** Every event ID the events name as auth events. */
function authIdsOf(events: readonly Event[]): string[] {
  return [...new Set(events.flatMap((e) => referencedEventIds(e.auth_events)))];
}

/** The events ordered so each comes after those of its auth events that are among them. */
function inAuthOrder(received: readonly ReceivedEvent[]): ReceivedEvent[] {
  const byId = new Map(received.map((r) => [r.event.event_id, r]));
  const ordered: ReceivedEvent[] = [];
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (r: ReceivedEvent): void => {
    const id = r.event.event_id;
    if (done.has(id) || visiting.has(id)) return; // a cycle is broken arbitrarily; its events fail auth anyway
    visiting.add(id);
    for (const authId of referencedEventIds(r.event.auth_events)) {
      const auth = byId.get(authId);
      if (auth) visit(auth);
    }
    visiting.delete(id);
    done.add(id);
    ordered.push(r);
  };
  for (const r of [...received].sort((a, b) => a.event.depth - b.event.depth)) visit(r);
  return ordered;
}

function references(events: Extremity[], rules: RoomVersionRules): string[] | EventReferenceV1[] {
  if (rules.eventFormat === 1) return events.map((e): EventReferenceV1 => [e.eventId, { sha256: e.sha256 }]);
  return events.map((e) => e.eventId);
}

/**
 * Builds what `build` makes of client content, refusing content the room
 * version's canonical JSON cannot encode (from version 6: floats, integers
 * beyond ±(2^53−1)) as the client's error, 400 M_BAD_JSON, as Synapse does.
 */
function encodable<T>(rules: RoomVersionRules, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw badJson(`Room version ${rules.id} cannot carry this content: ${err.message}`);
    throw err;
  }
}

/** Makes `room` the committed `working` copy: its state, snapshots and extremities. */
function takeState(room: LoadedRoom, working: LoadedRoom): void {
  room.state.clear();
  for (const [key, event] of working.state) room.state.set(key, event);
  room.snapshotId = working.snapshotId;
  room.parentSnapshotId = working.parentSnapshotId;
  room.extremities = working.extremities;
}
