// Runs push rules over each new event for every local user in the room
// (client-server-api/modules/push.md, "Push Rules"), records the events that
// notify them (unread counts, GET /notifications), and hands notifications
// to pusher delivery.
import { serverNameOfUserId } from '../../core/identifiers.js';
import { RoomPowerLevels } from '../../core/power-levels.js';
import { evaluatePushRules, type PushEvent } from '../../core/push-rules/index.js';
import type { RoomVersionRules } from '../../core/room-versions.js';
import { isJsonObject, stateKeyString, type Event, type JsonObject } from '../../core/types.js';
import type { EventStore } from '../../storage/rooms/index.js';
import { ALL_THREADS, MAIN_THREAD, type NewPushAction, type NotificationStore, type UnreadCounts } from '../../storage/push/index.js';
import type { Notified, PusherDelivery, RoomDisplay } from './delivery.js';
import type { PushRulesService } from './rules.js';

/**
 * The room as of the event: its version rules and its current state
 * (stateKeyString(type, stateKey) → event). The room pipeline's `LoadedRoom`
 * fits as it is.
 */
export interface RoomStateView {
  readonly rules: RoomVersionRules;
  readonly state: ReadonlyMap<string, Event>;
}

export interface PushEvaluatorDeps {
  serverName: string;
  rules: PushRulesService;
  notifications: NotificationStore;
  delivery: PusherDelivery;
  events: EventStore;
  clock: () => number;
  /** Database.afterCommit: gateway delivery waits for the event's commit. */
  afterCommit: (task: () => void) => void;
  /** The users `userId` ignores (m.ignored_user_list). */
  ignoredUsers: (userId: string) => Promise<ReadonlySet<string>>;
}

const MEMBER_PREFIX = stateKeyString('m.room.member', '');

export class PushEvaluator {
  constructor(private readonly deps: PushEvaluatorDeps) {}

  /**
   * Call after `event` is committed to the room's timeline (not for outliers
   * or rejected events). `streamOrdering` is the event's position in the
   * events stream; when omitted it is read from storage. Counts are stored
   * before this resolves, so a /sync woken afterwards sees them. Gateway
   * delivery starts once the event's transaction (if any) commits — no phone
   * is woken for an event it cannot fetch yet — and goes on in the background.
   */
  async onEventPersisted(event: Event, room: RoomStateView, streamOrdering?: number): Promise<void> {
    const position = streamOrdering ?? (await this.deps.events.getEvent(event.event_id))?.streamOrdering;
    if (position === undefined) throw new Error(`event ${event.event_id} is not stored; push rules run after it is persisted`);
    const joined = joinedMembers(room);
    const powerLevels = RoomPowerLevels.fromEvents(stateEvent(room, 'm.room.power_levels'), stateEvent(room, 'm.room.create'), room.rules);
    const threadId = threadOf(event);
    const actions: NewPushAction[] = [];
    const notified: Notified[] = [];
    for (const userId of this.recipients(event, joined)) {
      if (await this.ignoresSender(userId, event)) continue;
      const ctx = { userId, displayName: displayNameIn(room, userId), roomMemberCount: joined.length, powerLevels };
      const evaluation = evaluatePushRules(event as PushEvent, await this.deps.rules.ruleset(userId), ctx);
      if (!evaluation.notify) continue;
      notified.push({ userId, evaluation });
      actions.push({
        userId,
        eventId: event.event_id,
        roomId: event.room_id,
        threadId,
        streamOrdering: position,
        ts: this.deps.clock(),
        actions: evaluation.actions,
        highlight: evaluation.highlight,
      });
    }
    await this.deps.notifications.add(actions);
    // Sending in a room means having read it up to there.
    if (this.isLocal(event.sender) && joined.includes(event.sender)) {
      await this.deps.notifications.markRead(event.sender, event.room_id, threadId, position);
    }
    if (notified.length > 0) this.deps.afterCommit(() => this.deps.delivery.enqueue(event, roomDisplay(room), notified));
  }

  /**
   * An invite of a local user to a room this server is not in (received
   * over federation): push rules run as for a room event, over the room as
   * its stripped state shows it (name, members, power levels), so
   * `.m.rule.invite_for_me` rings the invitee's phone as Synapse's does.
   */
  async onOutOfRoomMembership(event: Event, rules: RoomVersionRules, strippedState: readonly JsonObject[], streamOrdering: number): Promise<void> {
    if (event.content['membership'] !== 'invite') return;
    const state = new Map<string, Event>();
    for (const stripped of strippedState) {
      const { type, state_key: stateKey, content } = stripped;
      if (typeof type !== 'string' || typeof stateKey !== 'string' || !isJsonObject(content)) continue;
      state.set(stateKeyString(type, stateKey), { ...stripped, room_id: event.room_id } as unknown as Event);
    }
    state.set(stateKeyString('m.room.member', event.state_key!), event);
    await this.onEventPersisted(event, { rules, state }, streamOrdering);
  }

  /**
   * Marks the user's notifications in the room read up to and including
   * `upToStreamOrdering`: call on a read receipt (m.read or m.read.private).
   * `threadId` is the receipt's thread_id ("main" or a thread root); without
   * one the receipt is unthreaded and covers every thread.
   */
  async resetCounts(userId: string, roomId: string, upToStreamOrdering: number, threadId?: string): Promise<void> {
    await this.deps.notifications.markRead(userId, roomId, threadId ?? ALL_THREADS, upToStreamOrdering);
    this.deps.afterCommit(() => this.deps.delivery.updateBadge(userId));
  }

  /** Unread counts per room over all threads, for /sync's `unread_notifications`. */
  countsFor(userId: string, roomIds: readonly string[]): Promise<Map<string, UnreadCounts>> {
    return this.deps.notifications.countsFor(userId, roomIds);
  }

  /**
   * Unread counts of one room split by thread, for /sync with
   * `unread_thread_notifications`: "main" for the main timeline, thread root
   * IDs for threads (only threads with unread notifications appear).
   */
  countsByThread(userId: string, roomId: string): Promise<Map<string, UnreadCounts>> {
    return this.deps.notifications.countsByThread(userId, roomId);
  }

  /**
   * Joined local users other than the sender; and, as Synapse does, the
   * local target of an invite, so `.m.rule.invite_for_me` can notify them.
   */
  private recipients(event: Event, joined: readonly string[]): string[] {
    const users = new Set(joined.filter((userId) => this.isLocal(userId)));
    if (event.type === 'm.room.member' && event.content['membership'] === 'invite' && event.state_key !== undefined) {
      if (this.isLocal(event.state_key)) users.add(event.state_key);
    }
    users.delete(event.sender);
    return [...users];
  }

  /**
   * ignore_users.md: an ignored user's messages and invites never reach the
   * client, so they neither count as unread nor wake a phone (as Synapse);
   * their other state changes are not ignored.
   */
  private async ignoresSender(userId: string, event: Event): Promise<boolean> {
    const invite = event.type === 'm.room.member' && event.state_key === userId && event.content['membership'] === 'invite';
    if (event.state_key !== undefined && !invite) return false;
    return (await this.deps.ignoredUsers(userId)).has(event.sender);
  }

  private isLocal(userId: string): boolean {
    return serverNameOfUserId(userId) === this.deps.serverName;
  }
}

function stateEvent(room: RoomStateView, type: string, stateKey = ''): Event | undefined {
  return room.state.get(stateKeyString(type, stateKey));
}

function joinedMembers(room: RoomStateView): string[] {
  const joined: string[] = [];
  for (const [key, event] of room.state) {
    if (key.startsWith(MEMBER_PREFIX) && event.content['membership'] === 'join' && event.state_key !== undefined) {
      joined.push(event.state_key);
    }
  }
  return joined;
}

function displayNameIn(room: RoomStateView, userId: string): string | undefined {
  const name = stateEvent(room, 'm.room.member', userId)?.content['displayname'];
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** An event in a thread carries an m.thread relation to the thread root (threading.md). */
function threadOf(event: Event): string {
  const relation = event.content['m.relates_to'];
  if (typeof relation === 'object' && relation !== null && !Array.isArray(relation)) {
    if (relation['rel_type'] === 'm.thread' && typeof relation['event_id'] === 'string') return relation['event_id'];
  }
  return MAIN_THREAD;
}

/**
 * The room as the gateway shows it. `room_name` falls back to the canonical
 * alias, as Synapse's calculate_room_name does for pushes (without going on
 * to members' names), so an unnamed room with an alias still has a title.
 */
function roomDisplay(room: RoomStateView): RoomDisplay {
  const name = stateEvent(room, 'm.room.name')?.content['name'];
  const alias = stateEvent(room, 'm.room.canonical_alias')?.content['alias'];
  const title = typeof name === 'string' && name !== '' ? name : typeof alias === 'string' ? alias : undefined;
  return {
    ...(title !== undefined ? { roomName: title } : {}),
    ...(typeof alias === 'string' ? { roomAlias: alias } : {}),
    displayName: (userId) => displayNameIn(room, userId),
  };
}
