// Device list tracking (end_to_end_encryption.md, "Tracking the device list
// for a user"): who must re-fetch whose keys. /sync's device_lists section and
// GET /keys/changes both read `changesSince`.
import type { Event } from '../../core/types.js';
import type { Database } from '../../storage/database.js';
import type { DeviceListStore, ViewerChange } from '../../storage/e2ee/index.js';
import type { MembershipStore } from '../../storage/rooms/index.js';
import type { Notifier } from '../notifier.js';

export interface DeviceListChanges {
  /** Users whose devices or cross-signing keys changed, or who started sharing a room. */
  changed: string[];
  /** Users who no longer share any room with the syncing user. */
  left: string[];
}

/**
 * What changed about a local user's devices or keys: other servers that
 * share a room with the user must be told (server-server-api "Device
 * Management", "End-to-End Encryption").
 */
export interface LocalDeviceChange {
  userId: string;
  /** Devices that got keys, a new name or new signatures. */
  devices?: readonly string[];
  /** Devices deleted. */
  deleted?: readonly string[];
  /** The master or self-signing key, or the signatures on the master key, changed. */
  crossSigning?: boolean;
}

/** Runs inside the transaction that records a local change, so what it queues commits with it. */
export type LocalDeviceChangeListener = (change: LocalDeviceChange) => Promise<void>;

/** Looks up the membership the member event replaced ('leave' when none). */
export type PreviousMembershipLookup = (event: Event) => Promise<string>;

type Memberships = Pick<MembershipStore, 'usersSharingRoomsWith' | 'membersOfRoom'>;

export class DeviceListService {
  private position: number;
  private readonly localListeners: LocalDeviceChangeListener[] = [];

  constructor(
    private readonly db: Database,
    private readonly store: DeviceListStore,
    private readonly memberships: Memberships,
    private readonly notifier: Notifier,
    private readonly previousMembership: PreviousMembershipLookup,
    startPosition: number,
  ) {
    this.position = startPosition;
    notifier.setPosition('device_lists', startPosition);
  }

  /** The newest committed position of the device_lists stream. */
  currentPosition(): number {
    return this.position;
  }

  /**
   * Records, inside the caller's transaction, that `userIds`' keys changed;
   * call `announce` with the result after commit.
   */
  recordKeyChange(userIds: readonly string[]): Promise<number> {
    return this.store.recordKeyChanges(this.db, userIds);
  }

  onLocalChange(listener: LocalDeviceChangeListener): void {
    this.localListeners.push(listener);
  }

  /**
   * Records, inside the caller's transaction, a change to a local user's
   * devices or keys, and lets the listeners act on it in that transaction;
   * call `announce` with the result after commit.
   */
  async recordLocalChange(change: LocalDeviceChange): Promise<number> {
    const position = await this.recordKeyChange([change.userId]);
    for (const listener of this.localListeners) await listener(change);
    return position;
  }

  /** Records and announces a key change in its own transaction. */
  async keysChanged(userIds: readonly string[]): Promise<void> {
    const position = await this.db.transaction(() => this.recordKeyChange(userIds));
    await this.announce(position, userIds);
  }

  /** Wakes everyone who sees the change at `position`: the users and whoever shares a room with them. */
  async announce(position: number, userIds: readonly string[]): Promise<void> {
    const audience = new Set(userIds);
    for (const userId of userIds) for (const other of await this.memberships.usersSharingRoomsWith(userId)) audience.add(other);
    this.advance(position, [...audience]);
  }

  /** A change only `viewerUserId` sees (e.g. their own user-signing signature on someone's master key). */
  async changedFor(changes: readonly ViewerChange[]): Promise<void> {
    if (changes.length === 0) return;
    const position = await this.db.transaction(() => this.store.recordViewerChanges(this.db, changes));
    this.advance(position, [...new Set(changes.map((c) => c.viewerUserId))]);
  }

  /**
   * Follows joins and leaves: when a user starts sharing a room with others,
   * each side must fetch the other's devices (`changed`); when they stop
   * sharing every room, each side stops tracking the other (`left`).
   * Synapse does not restrict this to encrypted rooms, and neither do we.
   */
  async onMemberEvent(event: Event): Promise<void> {
    if (event.type !== 'm.room.member' || event.state_key === undefined) return;
    const userId = event.state_key;
    const previous = await this.previousMembership(event);
    const others = async () => (await this.memberships.membersOfRoom(event.room_id, 'join')).map((m) => m.userId).filter((u) => u !== userId);
    // As Synapse: the members learn of an invitee's devices at once, so that
    // messages encrypted before the invitee joins can be read by them.
    if (event.content.membership === 'invite' && previous !== 'invite' && previous !== 'join') {
      await this.changedFor((await others()).map((other) => ({ viewerUserId: other, userId, kind: 'changed' as const })));
      return;
    }
    const joinedNow = event.content.membership === 'join';
    const joinedBefore = previous === 'join';
    if (joinedNow === joinedBefore) return;
    const members = await others();
    let changes: ViewerChange[];
    if (joinedNow) {
      changes = members.flatMap((other) => [
        { viewerUserId: other, userId, kind: 'changed' as const },
        { viewerUserId: userId, userId: other, kind: 'changed' as const },
      ]);
    } else {
      const stillShared = new Set(await this.memberships.usersSharingRoomsWith(userId));
      changes = members
        .filter((other) => !stillShared.has(other))
        .flatMap((other) => [
          { viewerUserId: other, userId, kind: 'left' as const },
          { viewerUserId: userId, userId: other, kind: 'left' as const },
        ]);
    }
    await this.changedFor(changes);
  }

  /**
   * For /sync and GET /keys/changes: users `userId` must re-fetch keys of
   * (`changed`) or may stop tracking (`left`) between the two positions.
   */
  async changesSince(userId: string, sinceExclusive: number, upTo: number): Promise<DeviceListChanges> {
    if (upTo <= sinceExclusive) return { changed: [], left: [] };
    const changed = new Set(await this.store.keyChangesVisibleTo(userId, sinceExclusive, upTo));
    const left = new Set<string>();
    for (const [other, kind] of await this.store.viewerChanges(userId, sinceExclusive, upTo)) {
      if (kind === 'changed') changed.add(other);
      // A key change visible now means a room is shared again: not left.
      else if (!changed.has(other)) left.add(other);
    }
    return { changed: [...changed].sort(), left: [...left].sort() };
  }

  private advance(position: number, userIds: string[]): void {
    if (position > this.position) this.position = position;
    this.notifier.notify('device_lists', position, { userIds });
  }
}
