// Typing notifications (client-server-api/modules/typing_notifications.md).
// Kept in memory only: typing is ephemeral and worthless after a restart.
// Each change (start, stop, expiry) takes the next position of the typing
// stream; /sync sends the rooms changed since its token a full m.typing
// snapshot, since clients REPLACE their list of typists with it.
import { forbidden } from '../../core/errors.js';
import type { Notifier } from '../notifier.js';
import type { MembershipLookup, Timers } from './common.js';
import { REAL_TIMERS } from './common.js';

/** Synapse's cap: a client must renew its typing state at least this often. */
export const MAX_TYPING_TIMEOUT_MS = 120_000;
/** Synapse's default when `typing: true` comes without a timeout. */
export const DEFAULT_TYPING_TIMEOUT_MS = 30_000;
/** Synapse's FORGET_TIMEOUT: how long after its last change a room's typing is still reported to an initial sync. */
export const TYPING_RECENT_MS = 10 * 60_000;

interface Typist {
  expiresAt: number;
  timer: unknown;
  /** A user of this server (set through the API), as opposed to one another server told us of. */
  local: boolean;
}

/**
 * Runs when a local user starts, renews or stops typing (or their typing
 * expires): other servers in the room must be told. Renewals are passed on
 * too, as those servers forget a typist they have not heard of for a while.
 */
export type LocalTypingListener = (roomId: string, userId: string, typing: boolean) => void;

interface RoomTyping {
  typists: Map<string, Typist>;
  /** The typing stream position of this room's latest change. */
  changedAt: number;
  /** When that change happened. */
  changedAtMs: number;
}

export class TypingService {
  private readonly rooms = new Map<string, RoomTyping>();
  private readonly localListeners: LocalTypingListener[] = [];
  private position = 0;

  constructor(
    private readonly memberships: MembershipLookup,
    private readonly notifier: Notifier,
    private readonly clock: () => number = Date.now,
    private readonly timers: Timers = REAL_TIMERS,
  ) {}

  /** # PUT /rooms/{roomId}/typing/{userId} */
  async setTyping(requesterId: string, roomId: string, userId: string, typing: boolean, timeoutMs?: number): Promise<void> {
    if (requesterId !== userId) throw forbidden(`You cannot set the typing state of ${userId}`);
    const membership = await this.memberships.getMembership(roomId, userId);
    if (membership?.membership !== 'join') throw forbidden(`You are not joined to ${roomId}`);
    if (typing) this.start(roomId, userId, Math.min(timeoutMs ?? DEFAULT_TYPING_TIMEOUT_MS, MAX_TYPING_TIMEOUT_MS), true);
    else this.stop(roomId, userId);
  }

  onLocalChange(listener: LocalTypingListener): void {
    this.localListeners.push(listener);
  }

  /**
   * A user of another server starts or stops typing (an m.typing EDU whose
   * sender and room the caller has checked). It lasts `timeoutMs` unless
   * renewed, since the EDU carries no timeout of its own.
   */
  setRemoteTyping(roomId: string, userId: string, typing: boolean, timeoutMs: number): void {
    if (typing) this.start(roomId, userId, timeoutMs, false);
    else this.stop(roomId, userId);
  }

  /** The typing stream's latest position. */
  currentPosition(): number {
    return this.position;
  }

  /** The user IDs typing in a room now: the content of its m.typing event. */
  typingSnapshot(roomId: string): string[] {
    const now = this.clock();
    const room = this.rooms.get(roomId);
    if (!room) return [];
    return [...room.typists].filter(([, t]) => t.expiresAt > now).map(([userId]) => userId).sort();
  }

  /**
   * Rooms among `roomIds` (all rooms when absent) whose typing changed after
   * `position`. A position ahead of ours comes from a token issued before a
   * restart: every room with typists is then reported, which is harmless.
   * Position 0 is an ordinary position, not a restart: a client that saw a
   * start at 0 (a snapshot may be newer than its token) must see the stop.
   */
  changedRoomsSince(position: number, roomIds?: Iterable<string>): string[] {
    const restarted = position > this.position;
    const since = restarted ? 0 : position;
    const candidates = roomIds ? [...roomIds] : [...this.rooms.keys()];
    return candidates.filter((roomId) => {
      const room = this.rooms.get(roomId);
      if (!room || room.changedAt <= since) return false;
      // After a restart-era token, an empty room has nothing to report.
      return !restarted || room.typists.size > 0;
    });
  }

  /**
   * Rooms among `roomIds` whose typing an initial sync reports: those with
   * typists, and as Synapse (whose initial sync sends m.typing for every
   * room it has not yet forgotten, typists or none) those whose typing
   * changed in the last TYPING_RECENT_MS — so a client starting afresh just
   * after someone stopped typing is told the list is empty.
   */
  recentlyChangedRooms(roomIds: Iterable<string>): string[] {
    const recent = this.clock() - TYPING_RECENT_MS;
    return [...roomIds].filter((roomId) => {
      const room = this.rooms.get(roomId);
      return room !== undefined && (room.typists.size > 0 || room.changedAtMs > recent);
    });
  }

  private start(roomId: string, userId: string, timeoutMs: number, local: boolean): void {
    const room = this.room(roomId);
    const existing = room.typists.get(userId);
    if (existing) this.timers.clearTimeout(existing.timer);
    const timer = this.timers.setTimeout(() => this.expire(roomId, userId), timeoutMs);
    room.typists.set(userId, { expiresAt: this.clock() + timeoutMs, timer, local });
    // Renewing a typing state changes nothing local clients can see.
    if (!existing) this.changed(roomId, room);
    if (local) this.tellListeners(roomId, userId, true);
  }

  private stop(roomId: string, userId: string): void {
    const room = this.rooms.get(roomId);
    const existing = room?.typists.get(userId);
    if (!room || !existing) return;
    this.timers.clearTimeout(existing.timer);
    this.remove(roomId, room, userId, existing);
  }

  private expire(roomId: string, userId: string): void {
    const room = this.rooms.get(roomId);
    const existing = room?.typists.get(userId);
    if (!room || !existing) return;
    this.remove(roomId, room, userId, existing);
  }

  private remove(roomId: string, room: RoomTyping, userId: string, typist: Typist): void {
    room.typists.delete(userId);
    this.changed(roomId, room);
    if (typist.local) this.tellListeners(roomId, userId, false);
  }

  private tellListeners(roomId: string, userId: string, typing: boolean): void {
    for (const listener of this.localListeners) listener(roomId, userId, typing);
  }

  private room(roomId: string): RoomTyping {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { typists: new Map(), changedAt: 0, changedAtMs: 0 };
      this.rooms.set(roomId, room);
    }
    return room;
  }

  private changed(roomId: string, room: RoomTyping): void {
    this.position += 1;
    room.changedAt = this.position;
    room.changedAtMs = this.clock();
    this.notifier.notify('typing', this.position, { roomIds: [roomId] });
  }

  /** Cancels every expiry timer (at shutdown, so none keeps the process alive). */
  close(): void {
    for (const room of this.rooms.values()) for (const typist of room.typists.values()) this.timers.clearTimeout(typist.timer);
    this.rooms.clear();
  }
}
