// The rooms stream (Dendrite's stream_pdu.go): rooms.join, rooms.invite,
// rooms.leave and rooms.knock from the events stream (sync.yaml; _index.md,
// "Syncing"). An initial sync reads each joined room's current state and
// newest events in batched queries — never by replaying history; an
// incremental one reads, in one query, the new events of the user's rooms
// and touches only rooms that have some.
import { stateKeyString, type JsonObject } from '../../../core/types.js';
import type { RoomMembership, RoomStore, StoredEvent } from '../../../storage/rooms/index.js';
import { lazyLoadMembers, timelineLimit } from '../../filters/index.js';
import { isInitial, sinceOf, type SyncContext } from '../context.js';
import { storedEventMatches, type SyncEventSerializer } from '../events.js';
import { stateEventsAtDeparture } from '../../rooms/departure.js';
import { paginationToken } from '../../rooms/timeline.js';
import type { LeftRoomResponse, SyncResponseBuilder } from '../response.js';
import { STRIPPED_STATE_TYPES, strippedEvent, SUMMARY_STATE_TYPES, syncRoomSummary } from '../room-summary.js';
import type { Timeline, TimelineReader, TimelineWindow } from '../timelines.js';
import type { StreamProvider } from './provider.js';

const EMPTY_TIMELINE: Timeline = { events: [], limited: false, membersChanged: false };

export class RoomsStreamProvider implements StreamProvider {
  constructor(
    private readonly store: RoomStore,
    private readonly serializer: SyncEventSerializer,
    private readonly timelines: TimelineReader,
  ) {}

  async apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const since = sinceOf(ctx, 'events');
    const full = isInitial(ctx) || ctx.fullState;
    const joined = ctx.memberships.filter((m) => m.membership === 'join');
    // A room joined since the token is new to the client: it gets the room whole.
    const whole = joined.filter((m) => full || ctx.newlyJoinedRoomIds.has(m.roomId));
    const partial = joined.filter((m) => !whole.includes(m));
    await this.wholeRooms(ctx, whole, out);
    // A peek follows a room from a token on, as an incremental pass.
    await this.changedRooms(ctx, [...partial.map((m) => m.roomId), ...(isInitial(ctx) ? [] : ctx.peekedRoomIds)], out);
    await this.strippedRooms(ctx, out);
    await this.leftRooms(ctx, out);
  }

  /** Joined rooms sent with their full current state (initial sync, full_state, new joins). */
  private async wholeRooms(ctx: SyncContext, rooms: readonly RoomMembership[], out: SyncResponseBuilder): Promise<void> {
    if (rooms.length === 0) return;
    const ids = rooms.map((m) => m.roomId);
    const limit = timelineLimit(ctx.filter.room.timeline);
    // A full_state sync still limits the timeline by `since` (sync.yaml, full_state), except for new joins.
    const since = sinceOf(ctx, 'events');
    const fromOf = (m: RoomMembership) => (isInitial(ctx) || ctx.newlyJoinedRoomIds.has(m.roomId) ? 0 : since);
    const [timelines, states] = await Promise.all([
      this.readTimelines(ctx, rooms.map((m) => ({ roomId: m.roomId, after: fromOf(m), upTo: ctx.to.events })), limit),
      this.store.currentState.getCurrentStateEventsForRooms(ids),
    ]);
    for (const m of rooms) {
      const roomId = m.roomId;
      const read = timelines.get(roomId) ?? EMPTY_TIMELINE;
      // As Synapse: a room joined since the token is always limited, so the
      // client pages back through whatever history it may see before the join.
      const timeline = isInitial(ctx) || !ctx.newlyJoinedRoomIds.has(roomId) ? read : { ...read, limited: true };
      const current = (states.get(roomId) ?? []).filter((e) => e.streamOrdering <= ctx.to.events);
      const inTimeline = new Set(timeline.events.map((e) => e.eventId));
      // use_state_after: the state at the end of the timeline, timeline's state events included.
      const state = ctx.stateAfterKey
        ? this.lazyMembers(ctx, current, timeline.events, inTimeline)
        : this.lazyMembers(ctx, current.filter((e) => !inTimeline.has(e.eventId)), timeline.events);
      const room = out.joined(roomId);
      await this.fillTimeline(ctx, room, timeline);
      room.state.events = await this.serializer.serialize(this.owedMembers(ctx, state.filter((e) => storedEventMatches(e, ctx.filter.room.state)), timeline.events, false), ctx);
      room.summary = syncRoomSummary(current.filter((e) => SUMMARY_STATE_TYPES.includes(e.type)), ctx.userId);
    }
  }

  /** Joined (or peeked) rooms the client already has: only what happened since its token. */
  private async changedRooms(ctx: SyncContext, roomIds: readonly string[], out: SyncResponseBuilder): Promise<void> {
    if (roomIds.length === 0) return;
    const since = sinceOf(ctx, 'events');
    const limit = timelineLimit(ctx.filter.room.timeline);
    const timelines = await this.readTimelines(ctx, roomIds.map((roomId) => ({ roomId, after: since, upTo: ctx.to.events })), limit);
    for (const [roomId, timeline] of timelines) {
      // Only events the user may not be served (an ignored user's messages) changed: nothing to say.
      if (timeline.events.length === 0 && !timeline.limited) continue;
      // sync.yaml, state: "Updates to the state, between the time indicated by
      // the since parameter, and the start of the timeline" — only a gap has
      // any. Lazy-loading does not thin them: members who joined or left in
      // the gap keep the client's member list, which "is then maintained by
      // the state in subsequent incremental /sync responses" (_index.md,
      // "Lazy-loading room members"), as Synapse does.
      // With use_state_after, the changes up to the end of the timeline
      // instead: the client takes the room's state from them alone, not from
      // the timeline (sync.yaml, state_after).
      let state: StoredEvent[] = [];
      if (timeline.limited || ctx.stateAfterKey) {
        const end = ctx.stateAfterKey ? ctx.to.events + 1 : (timeline.events[0]?.streamOrdering ?? ctx.to.events + 1);
        state = latestPerKey(await this.store.events.stateEventsBetween(roomId, since, end));
      }
      if (lazyLoadMembers(ctx.filter)) state = [...state, ...(await this.timelineSenders(state, timeline.events))];
      state = this.owedMembers(ctx, state.filter((e) => storedEventMatches(e, ctx.filter.room.state)), timeline.events, true);
      const room = out.joined(roomId);
      await this.fillTimeline(ctx, room, timeline);
      room.state.events = await this.serializer.serialize(state, ctx);
      if (timeline.membersChanged) {
        room.summary = syncRoomSummary(await this.store.currentState.getCurrentStateEvents(roomId, { types: [...SUMMARY_STATE_TYPES] }), ctx.userId);
      }
    }
  }

  /** rooms.invite and rooms.knock: stripped state of rooms the user may not read yet. */
  private async strippedRooms(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const since = sinceOf(ctx, 'events');
    const full = isInitial(ctx) || ctx.fullState;
    const pending = ctx.memberships.filter(
      (m) => (m.membership === 'invite' || m.membership === 'knock') && (full || m.streamOrdering > since) && m.streamOrdering <= ctx.to.events,
    );
    if (pending.length === 0) return;
    const [states, memberEvents, remoteStates] = await Promise.all([
      this.store.currentState.getCurrentStateEventsForRooms(pending.map((m) => m.roomId), { types: STRIPPED_STATE_TYPES }),
      this.store.events.getEvents(pending.map((m) => m.eventId)),
      this.store.memberships.strippedStates(ctx.userId, pending.map((m) => m.roomId)),
    ]);
    for (const m of pending) {
      const own = memberEvents.get(m.eventId);
      // ignore_users.md: invites from ignored users are not sent.
      if (!own || (m.membership === 'invite' && ctx.ignoredUsers.has(own.sender))) continue;
      // A room this server is not in: what the inviting (or knocked-on) server sent of it.
      const remote = remoteStates.get(m.roomId);
      if (remote) {
        const events = [...remote, strippedEvent(own)];
        if (m.membership === 'invite') out.invite.set(m.roomId, { invite_state: { events } });
        else out.knock.set(m.roomId, { knock_state: { events } });
        continue;
      }
      const events = (states.get(m.roomId) ?? []).map(strippedEvent);
      if (own.sender !== ctx.userId) {
        const senderMember = await this.store.currentState.getCurrentStateEvent(m.roomId, 'm.room.member', own.sender);
        if (senderMember) events.push(strippedEvent(senderMember));
      }
      events.push(strippedEvent(own));
      if (m.membership === 'invite') out.invite.set(m.roomId, { invite_state: { events } });
      else out.knock.set(m.roomId, { knock_state: { events } });
    }
  }

  /**
   * rooms.leave: rooms left (or banned from) since the token — on an initial
   * sync only with the filter's include_leave — with the timeline up to the
   * departure, never beyond it.
   */
  private async leftRooms(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const since = sinceOf(ctx, 'events');
    const full = isInitial(ctx) || ctx.fullState;
    const departed = ctx.memberships.filter(
      (m) =>
        (m.membership === 'leave' || m.membership === 'ban') &&
        m.streamOrdering <= ctx.to.events &&
        (full ? ctx.filter.room.includeLeave || (!isInitial(ctx) && m.streamOrdering > since) : m.streamOrdering > since),
    );
    const limit = timelineLimit(ctx.filter.room.timeline);
    // Never past the departure; within that, only what history visibility lets a non-member see.
    const windows = departed.map((m) => ({ roomId: m.roomId, after: isInitial(ctx) || m.streamOrdering <= since ? 0 : since, upTo: m.streamOrdering }));
    const timelines = await this.readTimelines(ctx, windows, limit);
    for (const m of departed) {
      const departure = await this.store.events.getEvent(m.eventId);
      if (!departure) continue;
      // A rejected invite of a room this server is not in has nothing else: the leave is the whole story.
      const timeline = departure.outlier ? { events: [departure], limited: false, membersChanged: true } : (timelines.get(m.roomId) ?? EMPTY_TIMELINE);
      const inTimeline = new Set(timeline.events.map((e) => e.eventId));
      const departed = await this.departureState(ctx, m, departure, timeline);
      const state = ctx.stateAfterKey ? departed : departed.filter((e) => !inTimeline.has(e.eventId));
      const room: LeftRoomResponse = { timeline: { events: [], limited: false }, state: { events: [] }, account_data: { events: [] } };
      await this.fillTimeline(ctx, room, timeline);
      room.state.events = await this.serializer.serialize(this.lazyMembers(ctx, state, timeline.events, inTimeline).filter((e) => storedEventMatches(e, ctx.filter.room.state)), ctx);
      out.leave.set(m.roomId, room);
    }
  }

  /**
   * The state sent with a left room: for a room the client held at `since`
   * (the user was joined then), only the changes in a gap before the
   * timeline — with use_state_after, up to the departure — as for joined
   * rooms (sync.yaml, state); otherwise the state at the departure.
   */
  private async departureState(ctx: SyncContext, m: RoomMembership, departure: StoredEvent, timeline: Timeline): Promise<StoredEvent[]> {
    if (ctx.fullState || !ctx.leftSinceJoinedRoomIds.has(m.roomId)) return (await stateEventsAtDeparture(this.store, departure)) ?? [departure];
    if (!timeline.limited && !ctx.stateAfterKey) return [];
    const end = ctx.stateAfterKey ? m.streamOrdering + 1 : (timeline.events[0]?.streamOrdering ?? m.streamOrdering + 1);
    return latestPerKey(await this.store.events.stateEventsBetween(m.roomId, sinceOf(ctx, 'events'), end));
  }

  /** The rooms' timelines: what the user may be served and the filter's timeline part keeps. */
  private readTimelines(ctx: SyncContext, windows: readonly TimelineWindow[], limit: number): Promise<Map<string, Timeline>> {
    return this.timelines.read(ctx.userId, windows, limit, (e) => storedEventMatches(e, ctx.filter.room.timeline));
  }

  private async fillTimeline(ctx: SyncContext, room: { timeline: { events: JsonObject[]; limited: boolean; prev_batch?: string } }, timeline: Timeline): Promise<void> {
    room.timeline.events = await this.serializer.serialize(timeline.events, ctx);
    room.timeline.limited = timeline.limited;
    // A token /messages takes (dir=b) to page back from just before the timeline.
    const first = timeline.events[0];
    room.timeline.prev_batch = paginationToken(first ? first.streamOrdering - 1 : ctx.to.events);
  }

  /**
   * Lazy-loading room members (_index.md): of the member events, keep only
   * those of the timeline's senders and the user's own — and, for state up
   * to the end of the timeline, those the timeline itself carries
   * (`inTimeline`), since the client then takes state from `state_after` alone.
   */
  private lazyMembers(ctx: SyncContext, state: readonly StoredEvent[], timeline: readonly StoredEvent[], inTimeline?: ReadonlySet<string>): StoredEvent[] {
    if (!lazyLoadMembers(ctx.filter)) return [...state];
    const wanted = new Set([ctx.userId, ...timeline.map((e) => e.sender)]);
    return state.filter((e) => e.type !== 'm.room.member' || wanted.has(e.stateKey ?? '') || inTimeline?.has(e.eventId));
  }

  /**
   * Lazy-loading: the member events, as at the start of the timeline, of the
   * timeline's senders whose membership the client could not know there
   * otherwise — not in `state`, nor earlier in the timeline than an event
   * they sent (as Synapse).
   */
  private async timelineSenders(state: readonly StoredEvent[], timeline: readonly StoredEvent[]): Promise<StoredEvent[]> {
    const snapshot = timeline[0]?.stateSnapshotBefore ?? null;
    if (snapshot === null) return [];
    const known = new Set(state.filter((e) => e.type === 'm.room.member').map((e) => e.stateKey));
    const wanted = new Set<string>();
    for (const e of timeline) {
      if (!known.has(e.sender)) wanted.add(e.sender);
      if (e.type === 'm.room.member') known.add(e.stateKey);
    }
    if (wanted.size === 0) return [];
    const atStart = (await this.store.snapshots.lookupKeys([snapshot], [...wanted].map((u) => stateKeyString('m.room.member', u)))).get(snapshot);
    return [...(await this.store.events.getEvents([...(atStart?.values() ?? [])])).values()];
  }

  /**
   * Redundant membership events (_index.md, "Lazy-loading room members"):
   * unless the filter asks for them, member events the device already holds
   * are left out of `state` (`dedupe`: for rooms the client already has);
   * the member events of this response are noted as sent.
   */
  private owedMembers(ctx: SyncContext, state: readonly StoredEvent[], timeline: readonly StoredEvent[], dedupe: boolean): StoredEvent[] {
    const ledger = ctx.members;
    if (!ledger) return [...state];
    const owed = dedupe ? state.filter((e) => e.type !== 'm.room.member' || !ledger.held.has(e.eventId)) : [...state];
    for (const e of [...owed, ...timeline]) if (e.type === 'm.room.member') ledger.sent.add(e.eventId);
    return owed;
  }
}

/** The newest event of each (type, state_key) among state events in stream order. */
function latestPerKey(events: readonly StoredEvent[]): StoredEvent[] {
  const byKey = new Map<string, StoredEvent>();
  for (const e of events) byKey.set(stateKeyString(e.type, e.stateKey ?? ''), e);
  return [...byKey.values()];
}
