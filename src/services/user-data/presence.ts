// Presence (client-server-api/modules/presence.md).
//
// Visibility: a user sees their own presence and that of users they share a
// joined room with ("Presence events are sent to interested parties where
// users share a room membership"); anyone else gets 403, as in Synapse.
// With `presence: {enabled: false}` (Synapse's key) every user reads as
// offline and updates are accepted but dropped.
import type { JsonObject } from '../../core/types.js';
import { forbidden } from '../../core/errors.js';
import type { PresenceRecord, PresenceState, PresenceStore } from '../../storage/user-data/presence.js';
import type { Notifier } from '../notifier.js';
import type { MembershipLookup } from './common.js';

export type { PresenceState } from '../../storage/user-data/presence.js';
export const PRESENCE_STATES: readonly PresenceState[] = ['online', 'unavailable', 'offline'];

/** How long after their last activity an online user counts as currently active (Synapse's LAST_ACTIVE_GRANULARITY). */
export const CURRENTLY_ACTIVE_MS = 60_000;
/** How stale last_active_ts may get before a sync refreshes it; below CURRENTLY_ACTIVE_MS so an active client never looks idle. */
const LAST_ACTIVE_GRANULARITY_MS = CURRENTLY_ACTIVE_MS / 2;

/** The content of an m.presence event (and the GET /presence/{userId}/status body). */
export interface PresenceContent extends JsonObject {
  presence: PresenceState;
}

/** Runs after a local user's presence changes visibly (other servers sharing a room must learn of it). */
export type LocalPresenceListener = (userId: string, content: PresenceContent) => void;

/** A presence update of another server's user (the fields of an m.presence EDU's `push` entry). */
export interface RemotePresence {
  userId: string;
  state: PresenceState;
  statusMsg: string | null;
  lastActiveAgo: number;
}

export class PresenceService {
  private readonly localListeners: LocalPresenceListener[] = [];

  constructor(
    private readonly store: PresenceStore,
    private readonly memberships: MembershipLookup,
    private readonly notifier: Notifier,
    private readonly enabled: boolean,
    private readonly clock: () => number = Date.now,
  ) {}

  /** # PUT /presence/{userId}/status */
  async putStatus(requesterId: string, userId: string, state: PresenceState, statusMsg: string | undefined): Promise<void> {
    if (requesterId !== userId) throw forbidden(`You cannot set the presence of ${userId}`);
    await this.update(userId, state, statusMsg ?? null);
  }

  /** # GET /presence/{userId}/status */
  async getStatus(requesterId: string, userId: string): Promise<PresenceContent> {
    if (requesterId !== userId && !(await this.shareRoom(requesterId, userId))) {
      throw forbidden(`You are not allowed to see the presence of ${userId}: you share no room`);
    }
    if (!this.enabled) return { presence: 'offline' };
    const record = await this.store.get(userId);
    return record ? this.content(record) : { presence: 'offline' };
  }

  /**
   * The `set_presence` of /sync: records the state and activity, keeping the
   * status message. Repeating the same state (every long-poll does) moves no
   * stream position unless the user had stopped counting as currently active.
   */
  async setPresence(userId: string, state: PresenceState): Promise<void> {
    const existing = this.enabled ? await this.store.get(userId) : undefined;
    // Every /sync of an online client lands here: refreshing last_active_ts
    // on each would cost a commit per sync. Like Synapse's granularity, a
    // recent enough timestamp is left alone (it stays "currently active").
    if (existing && existing.state === state && state === 'online' && this.clock() - existing.lastActiveTs < LAST_ACTIVE_GRANULARITY_MS) return;
    await this.update(userId, state, existing?.statusMsg ?? null);
  }

  onLocalChange(listener: LocalPresenceListener): void {
    this.localListeners.push(listener);
  }

  /** Records the presence another server reports for one of its users (the caller checked the origin). */
  async applyRemote(update: RemotePresence): Promise<void> {
    if (!this.enabled) return;
    const lastActiveTs = this.clock() - Math.max(0, update.lastActiveAgo);
    await this.write(update.userId, update.state, update.statusMsg, lastActiveTs, await this.store.get(update.userId));
  }

  /** The current m.presence content of each of `userIds` that has one (offline users never seen have none). */
  async currentOf(userIds: readonly string[]): Promise<Map<string, PresenceContent>> {
    if (!this.enabled) return new Map();
    return new Map((await this.store.forUsers(userIds)).map((r) => [r.userId, this.content(r)]));
  }

  /** The presence stream's latest position. */
  currentPosition(): Promise<number> {
    return this.store.currentStreamId();
  }

  /** m.presence events of `forUserIds` changed after `position` (0: all known), for /sync. */
  async presenceSince(position: number, forUserIds: readonly string[]): Promise<JsonObject[]> {
    if (!this.enabled) return [];
    const records = await this.store.forUsers(forUserIds, position);
    return records.map((r) => ({ type: 'm.presence', sender: r.userId, content: this.content(r) }));
  }

  /**
   * The users' current m.presence events, one each: as recorded, or offline
   * for a user who never set any (Synapse's default state). For what a
   * client must know however long ago it changed: its own presence in an
   * initial sync, and newcomers' in the sync that introduces them. None
   * while presence is disabled.
   */
  async currentPresenceEvents(userIds: readonly string[]): Promise<JsonObject[]> {
    if (!this.enabled || userIds.length === 0) return [];
    const recorded = new Map((await this.store.forUsers(userIds, 0)).map((r) => [r.userId, r]));
    return userIds.map((userId) => {
      const record = recorded.get(userId);
      return { type: 'm.presence', sender: userId, content: record ? this.content(record) : { presence: 'offline' } };
    });
  }

  private async update(userId: string, state: PresenceState, statusMsg: string | null): Promise<void> {
    if (!this.enabled) return;
    const now = this.clock();
    const existing = await this.store.get(userId);
    // Only going online is activity (presence.md, "Last active ago").
    const lastActiveTs = state === 'online' ? now : (existing?.lastActiveTs ?? now);
    const record = await this.write(userId, state, statusMsg, lastActiveTs, existing);
    if (record) for (const listener of this.localListeners) listener(userId, this.content(record));
  }

  /** Stores a presence and wakes those who see it; returns the record when others see a change. */
  private async write(
    userId: string,
    state: PresenceState,
    statusMsg: string | null,
    lastActiveTs: number,
    existing: PresenceRecord | undefined,
  ): Promise<PresenceRecord | undefined> {
    const now = this.clock();
    const visibleChange =
      !existing ||
      existing.state !== state ||
      existing.statusMsg !== statusMsg ||
      (state === 'online' && !this.currentlyActive(existing, now));
    const position = await this.store.set(userId, { state, statusMsg, lastActiveTs }, visibleChange);
    if (position === undefined) return undefined;
    const rooms = await this.memberships.roomsForUser(userId, ['join']);
    this.notifier.notify('presence', position, { userIds: [userId], roomIds: rooms.map((r) => r.roomId) });
    return { userId, state, statusMsg, lastActiveTs, streamId: position };
  }

  private currentlyActive(record: PresenceRecord, now: number): boolean {
    return record.state === 'online' && now - record.lastActiveTs < CURRENTLY_ACTIVE_MS;
  }

  private content(record: PresenceRecord): PresenceContent {
    const now = this.clock();
    const content: PresenceContent = {
      presence: record.state,
      last_active_ago: Math.max(0, now - record.lastActiveTs),
      currently_active: this.currentlyActive(record, now),
    };
    if (record.statusMsg !== null) content.status_msg = record.statusMsg;
    return content;
  }

  private async shareRoom(a: string, b: string): Promise<boolean> {
    const [roomsA, roomsB] = await Promise.all([this.memberships.roomsForUser(a, ['join']), this.memberships.roomsForUser(b, ['join'])]);
    const joinedB = new Set(roomsB.map((r) => r.roomId));
    return roomsA.some((r) => joinedB.has(r.roomId));
  }
}
