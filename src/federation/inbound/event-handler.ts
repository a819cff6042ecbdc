// PDUs received from other servers (in /send transactions, and the events
// fetched to fill gaps): the checks on receipt (server-server-api "Checks
// performed on receipt of a PDU") up to the point where the event pipeline
// takes over, and the fetching that gives the pipeline what it needs — the
// event's auth events, and its prev_events or the state before it.
import { referencedEventIds } from '../../core/auth-events.js';
import type { RoomVersionRules } from '../../core/room-versions.js';
import { serverAclAllows } from '../../core/server-acl.js';
import { isJsonObject, stateKeyString, type Event, type JsonObject, type JsonValue, type StateMap } from '../../core/types.js';
import type { EventPipeline, ReceivedEvent, ReceiveOutcome } from '../../services/rooms/event-pipeline.js';
import type { LoadedRoom } from '../../services/rooms/room-state.js';
import type { KnownKeys } from '../event-signatures.js';
import type { PduCheckPool } from '../pdu-check-pool.js';
import { checkReceivedPdu, type PduCheckFailure, type PduReceipt } from '../pdu-receipt.js';

/** What the handler asks of remote servers (the federation client implements it). */
export interface RemoteRoomFetcher {
  /** POST /get_missing_events: events between `earliest` and `latest`, oldest first. */
  getMissingEvents(
    destination: string,
    roomId: string,
    request: { earliest: string[]; latest: string[]; limit: number; minDepth: number },
  ): Promise<JsonValue[]>;
  /** GET /event/{eventId}: the PDU. */
  getEvent(destination: string, eventId: string): Promise<JsonValue>;
  /** GET /state_ids: the state before `eventId` and its auth chain, as IDs. */
  getStateIds(destination: string, roomId: string, eventId: string): Promise<{ stateIds: string[]; authChainIds: string[] }>;
  /** GET /event_auth: the auth chain of `eventId`. */
  getEventAuth(destination: string, roomId: string, eventId: string): Promise<JsonValue[]>;
  /** GET /backfill: `from` and the events before them, up to `limit`. */
  backfill(destination: string, roomId: string, from: readonly string[], limit: number): Promise<JsonValue[]>;
}

/**
 * The keys that signed `pdus` (the key ring implements it), fetched once
 * for a whole batch.
 */
export type SigningKeyLookup = (pdus: readonly JsonObject[], rules: RoomVersionRules) => Promise<KnownKeys>;

export interface EventHandlerDeps {
  pipeline: EventPipeline;
  fetcher: RemoteRoomFetcher;
  signingKeys: SigningKeyLookup;
  /** Worker threads for large batches; without it every check runs on the event loop. */
  checkPool?: PduCheckPool;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

/** Below this many PDUs a batch is checked on the event loop: starting workers would cost more. */
const POOL_THRESHOLD = 200;

/** How many missing prev_events one gap-filling request asks for (Synapse asks for 10). */
const MISSING_EVENTS_LIMIT = 10;

/** Why a received PDU was dropped: the first check on receipt it failed, or what made it impossible to place. */
export type DropReason = PduCheckFailure | 'acl' | 'not-in-room' | 'missing-prev-events';

/** A received PDU that failed a check that drops it: nothing is stored. */
export class DroppedPduError extends Error {
  constructor(
    readonly reason: DropReason,
    message: string,
  ) {
    super(message);
    this.name = 'DroppedPduError';
  }
}

export class FederatedEventHandler {
  constructor(private readonly deps: EventHandlerDeps) {}

  /**
   * Handles one PDU `origin` sent us live (a /send transaction): the checks
   * on receipt, then the pipeline. Missing prev_events are fetched from
   * `origin` with get_missing_events; if some stay missing the event is
   * dropped, as Synapse does.
   */
  async onPdu(origin: string, roomId: string, pdu: JsonValue): Promise<ReceiveOutcome> {
    const room = await this.deps.pipeline.room(roomId);
    // A room known only from an invite or knock has no state to check the event against.
    if (!room || room.state.size === 0) throw new DroppedPduError('not-in-room', `this server is not in room ${roomId}`);
    if (!serverAclAllows(aclOf(room), origin)) throw new DroppedPduError('acl', `the room's server ACL denies ${origin}`);
    const received = await this.checkPdu(room.rules, roomId, pdu);
    return this.processChecked(origin, room, received, true);
  }

  /**
   * Steps 1–3 of the checks on receipt: the format of the room version
   * (else dropped), the signatures (else dropped) and the content hash
   * (else the event is taken redacted).
   */
  async checkPdu(rules: RoomVersionRules, roomId: string, pdu: JsonValue, options: { history?: boolean } = {}): Promise<ReceivedEvent> {
    const keys = await this.deps.signingKeys(isJsonObject(pdu) ? [pdu] : [], rules);
    return this.acceptReceipt(checkReceivedPdu(pdu, rules, keys, { roomId, history: options.history }));
  }

  /**
   * checkPdu for a batch (a join response's state and auth chain): the keys
   * are fetched once, and a batch of POOL_THRESHOLD or more is checked in
   * the worker pool. Each PDU's outcome in order: the event, or why it was
   * dropped.
   */
  async checkPdus(rules: RoomVersionRules, roomId: string, pdus: readonly JsonValue[]): Promise<(ReceivedEvent | DroppedPduError)[]> {
    const keys = await this.deps.signingKeys(pdus.filter((pdu): pdu is JsonObject => isJsonObject(pdu)), rules);
    const receipts = await this.receiptsOf(rules, roomId, pdus, keys);
    return receipts.map((receipt) => {
      try {
        return this.acceptReceipt(receipt);
      } catch (err) {
        if (err instanceof DroppedPduError) return err;
        throw err;
      }
    });
  }

  private async receiptsOf(rules: RoomVersionRules, roomId: string, pdus: readonly JsonValue[], keys: KnownKeys): Promise<PduReceipt[]> {
    const pool = this.deps.checkPool;
    if (pool && pdus.length >= POOL_THRESHOLD) {
      try {
        return await pool.check(pdus, rules.id, roomId, keys);
      } catch (err) {
        this.deps.log('the PDU check workers failed; checking on the event loop instead', { roomId, error: (err as Error).message });
      }
    }
    return pdus.map((pdu) => checkReceivedPdu(pdu, rules, keys, { roomId }));
  }

  private acceptReceipt(receipt: PduReceipt): ReceivedEvent {
    if (!receipt.ok) throw new DroppedPduError(receipt.failure, receipt.message);
    if (receipt.redacted) this.deps.log('received an event whose content hash does not match; keeping it redacted', { eventId: receipt.received.event.event_id });
    return receipt.received;
  }

  /**
   * Fetches history from `server`: `from` (events this server lacks, named
   * as prev_events by its earliest ones) and what precedes them, up to
   * `limit`. Each event is checked, its auth events fetched if missing, and
   * the state before it worked out from its prev_events in the batch or
   * here, or asked of `server`; then the pipeline stores them as history.
   * Returns how many events joined the timeline.
   */
  async backfill(server: string, room: LoadedRoom, from: readonly string[], limit: number): Promise<number> {
    const pdus = await this.deps.fetcher.backfill(server, room.roomId, from, limit);
    const checked: ReceivedEvent[] = [];
    for (const pdu of pdus) {
      try {
        checked.push(await this.checkPdu(room.rules, room.roomId, pdu, { history: true }));
      } catch (err) {
        this.deps.log('dropped a backfilled event', { server, error: String(err) });
      }
    }
    // Events held only as outliers (history a purge kept) come into the timeline.
    const have = await this.deps.pipeline.dag.inTimeline(checked.map((c) => c.event.event_id));
    const fresh = [...new Map(checked.filter((c) => !have.has(c.event.event_id)).map((c) => [c.event.event_id, c])).values()];
    fresh.sort((a, b) => a.event.depth - b.event.depth);
    const statesAfter = new Map<string, StateMap>();
    const items: Array<{ received: ReceivedEvent; stateBefore: StateMap }> = [];
    for (const received of fresh) {
      const { event } = received;
      await this.ensureAuthEvents(server, room, event);
      const stateBefore = await this.historicalStateBefore(server, room, event, statesAfter);
      const after = new Map(stateBefore);
      if (event.state_key !== undefined) after.set(stateKeyString(event.type, event.state_key), event.event_id);
      statesAfter.set(event.event_id, after);
      items.push({ received, stateBefore });
    }
    return items.length === 0 ? 0 : this.deps.pipeline.storeBackfilled(room.roomId, items);
  }

  /**
   * The state before a backfilled event: resolved from the states after its
   * prev_events when all are known (earlier in the batch, or stored here
   * with their state), else the state `server` reports before it.
   */
  private async historicalStateBefore(server: string, room: LoadedRoom, event: Event, batch: ReadonlyMap<string, StateMap>): Promise<StateMap> {
    const { pipeline, fetcher } = this.deps;
    const prevIds = referencedEventIds(event.prev_events);
    const stored = await pipeline.dag.withKnownState(prevIds.filter((id) => !batch.has(id)));
    if (prevIds.every((id) => batch.has(id) || stored.has(id))) {
      const fromStore = await pipeline.dag.statesAfter(prevIds.filter((id) => !batch.has(id)));
      return pipeline.dag.resolve(room.rules, [...prevIds.flatMap((id) => batch.get(id) ?? []), ...fromStore.values()]);
    }
    const { stateIds, authChainIds } = await fetcher.getStateIds(server, room.roomId, event.event_id);
    await this.fetchAndStoreEvents(server, room, [...authChainIds, ...stateIds]);
    const stateEvents = await pipeline.dag.events(stateIds);
    return new Map(
      [...stateEvents.values()].filter((s) => s.stored.rejectedReason === null).map(({ event: e }) => [stateKeyString(e.type, e.state_key ?? ''), e.event_id]),
    );
  }

  /**
   * `live`: pushed to us in a transaction — its missing prev_events are
   * fetched, and if some stay missing it is dropped. Otherwise it was pulled
   * (get_missing_events): a prev_event we lack is crossed with the state the
   * server reports at it.
   */
  private async processChecked(origin: string, room: LoadedRoom, received: ReceivedEvent, live: boolean): Promise<ReceiveOutcome> {
    const { event } = received;
    await this.ensureAuthEvents(origin, room, event);
    const prevIds = referencedEventIds(event.prev_events);
    // A prev_event known only as an outlier is not in the timeline: it counts as missing (as Synapse's have_events_in_timeline).
    const outsideTimeline = async () => {
      const known = await this.deps.pipeline.dag.withKnownState(prevIds);
      return prevIds.filter((id) => !known.has(id));
    };
    if (live && (await outsideTimeline()).length > 0) {
      await this.fetchMissingPrevEvents(origin, room, event);
      // As Synapse: an event pushed to us could become the room's only
      // extremity, so its state must not rest on a server's word alone.
      const still = await outsideTimeline();
      if (still.length > 0) {
        throw new DroppedPduError('missing-prev-events', `${origin} did not give the prev_events ${still.join(', ')} of ${event.event_id}; it is not taken`);
      }
    }
    const gap = await outsideTimeline();
    const stateBefore = gap.length > 0 ? await this.stateBeforeGap(origin, room, event, gap) : undefined;
    return this.deps.pipeline.receive(room.roomId, received, stateBefore);
  }

  /**
   * Fetches and stores (as outliers) auth events of `event` this server
   * lacks, with their own auth chains (/event_auth); a server without
   * /event_auth is asked for each missing event instead. What cannot be had
   * makes the pipeline reject the event.
   */
  private async ensureAuthEvents(origin: string, room: LoadedRoom, event: Event): Promise<void> {
    const missing = await this.missingIds(referencedEventIds(event.auth_events));
    if (missing.length === 0) return;
    try {
      await this.storeFetchedOutliers(room, await this.deps.fetcher.getEventAuth(origin, room.roomId, event.event_id));
    } catch (err) {
      this.deps.log('event_auth failed; fetching the missing auth events one by one', { origin, eventId: event.event_id, error: String(err) });
      await this.fetchAndStoreEvents(origin, room, missing);
    }
    const still = await this.missingIds(referencedEventIds(event.auth_events));
    if (still.length > 0) this.deps.log('auth events could not be fetched; the event will be rejected', { eventId: event.event_id, missing: still });
  }

  /**
   * Asks `origin` for the events between what we have (the forward
   * extremities) and `event`, and takes them in depth order, each as if
   * received live but without fetching further.
   */
  private async fetchMissingPrevEvents(origin: string, room: LoadedRoom, event: Event): Promise<void> {
    const earliest = room.extremities.map((e) => e.eventId);
    // No depth floor: the other side of a fork may sit below our own tips
    // (a partition in which each side sent different numbers of events), and
    // the walk already stops at `earliest` and at the limit. Synapse sends the
    // room's lowest known depth, which comes to the same.
    let fetched: JsonValue[];
    try {
      fetched = await this.deps.fetcher.getMissingEvents(origin, room.roomId, { earliest, latest: [event.event_id], limit: MISSING_EVENTS_LIMIT, minDepth: 0 });
    } catch (err) {
      this.deps.log('get_missing_events failed; asking for the state at the gap instead', { origin, roomId: room.roomId, error: String(err) });
      return;
    }
    const checked: ReceivedEvent[] = [];
    for (const pdu of fetched) {
      try {
        checked.push(await this.checkPdu(room.rules, room.roomId, pdu));
      } catch (err) {
        this.deps.log('dropped a fetched missing event', { origin, error: String(err) });
      }
    }
    checked.sort((a, b) => a.event.depth - b.event.depth);
    for (const missing of checked) {
      if ((await this.deps.pipeline.dag.withKnownState([missing.event.event_id])).size > 0) continue;
      await this.processChecked(origin, room, missing, false);
    }
  }

  /**
   * The state before an event whose prev_events `gap` have no known state
   * here (not stored, or only as outliers): for each, the state `origin`
   * reports before it plus the prev event itself, resolved with the states
   * after the prev_events we do know. Events of those states we lack are
   * fetched and stored as outliers.
   */
  private async stateBeforeGap(origin: string, room: LoadedRoom, event: Event, gap: string[]): Promise<StateMap> {
    const { pipeline, fetcher } = this.deps;
    const known = referencedEventIds(event.prev_events).filter((id) => !gap.includes(id));
    const states = [...(await pipeline.dag.statesAfter(known)).values()];
    for (const prevId of gap) {
      const { stateIds, authChainIds } = await fetcher.getStateIds(origin, room.roomId, prevId);
      await this.fetchAndStoreEvents(origin, room, [...authChainIds, ...stateIds, prevId]);
      const prev = (await pipeline.dag.events([prevId])).get(prevId);
      if (!prev) throw new DroppedPduError('missing-prev-events', `${origin} did not give us ${prevId}, a prev_event of ${event.event_id}`);
      // An event of the claimed state that failed auth against its own auth
      // events is no part of any state (a forged power levels event claimed
      // to be the state at a gap must not take the room over).
      const stateEvents = [...(await pipeline.dag.events(stateIds)).values()].filter(({ stored }) => stored.rejectedReason === null);
      const state: StateMap = new Map(stateEvents.map(({ event: e }) => [stateKeyString(e.type, e.state_key ?? ''), e.event_id]));
      if (prev.event.state_key !== undefined && prev.stored.rejectedReason === null) state.set(stateKeyString(prev.event.type, prev.event.state_key), prevId);
      states.push(state);
    }
    return pipeline.dag.resolve(room.rules, states);
  }

  /** Fetches, checks and stores as outliers those of `eventIds` not stored here. */
  private async fetchAndStoreEvents(origin: string, room: LoadedRoom, eventIds: readonly string[]): Promise<void> {
    const missing = await this.missingIds(eventIds);
    const pdus: JsonValue[] = [];
    for (const id of missing) {
      try {
        pdus.push(await this.deps.fetcher.getEvent(origin, id));
      } catch (err) {
        this.deps.log('could not fetch a state event', { origin, eventId: id, error: String(err) });
      }
    }
    await this.storeFetchedOutliers(room, pdus);
  }

  /** Checks fetched PDUs and stores those that pass as outliers (unknown ones only). */
  private async storeFetchedOutliers(room: LoadedRoom, pdus: readonly JsonValue[]): Promise<void> {
    const checked: ReceivedEvent[] = [];
    for (const pdu of pdus) {
      try {
        checked.push(await this.checkPdu(room.rules, room.roomId, pdu));
      } catch (err) {
        this.deps.log('dropped a fetched event', { error: String(err) });
      }
    }
    const unknown = new Set(await this.missingIds(checked.map((c) => c.event.event_id)));
    const fresh = checked.filter((c) => unknown.has(c.event.event_id));
    if (fresh.length > 0) await this.deps.pipeline.storeOutliers(room.roomId, room.rules, fresh);
  }

  private async missingIds(eventIds: readonly string[]): Promise<string[]> {
    if (eventIds.length === 0) return [];
    const have = await this.deps.pipeline.dag.have(eventIds);
    return eventIds.filter((id) => !have.has(id));
  }
}

function aclOf(room: LoadedRoom): JsonObject | undefined {
  return room.stateEvent('m.room.server_acl')?.content;
}
