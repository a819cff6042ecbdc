// What the event pipeline keeps in memory per room: its version rules, its
// current state as full events, the state's snapshot ID once saved, and the
// forward extremities new events build on. Loaded from storage on first use.
import { authStateFromEvents, referencedEventIds, type AuthStateLookup } from '../../core/auth-events.js';
import { serverNameOfUserId } from '../../core/identifiers.js';
import { roomVersion, type RoomVersionRules } from '../../core/room-versions.js';
import { stateKeyString, type Event, type JsonObject, type StateMap } from '../../core/types.js';
import type { RoomStore, SnapshotId, StoredEvent } from '../../storage/rooms/index.js';

export interface Extremity {
  eventId: string;
  depth: number;
  /** The event's content hash, which v1/v2 event references carry. */
  sha256: string;
}

export class LoadedRoom {
  constructor(
    readonly roomId: string,
    readonly rules: RoomVersionRules,
    /** Current state: stateKeyString(type, stateKey) → event. */
    readonly state: Map<string, Event>,
    public snapshotId: SnapshotId | undefined,
    public extremities: Extremity[],
    /** The latest snapshot saved for this room: the parent a new one is stored as a diff against. */
    public parentSnapshotId: SnapshotId | undefined = snapshotId,
  ) {}

  stateEvent(type: string, stateKey = ''): Event | undefined {
    return this.state.get(stateKeyString(type, stateKey));
  }

  stateMap(): StateMap {
    return new Map([...this.state].map(([key, event]) => [key, event.event_id]));
  }

  authLookup(): AuthStateLookup {
    return authStateFromEvents(this.state.values());
  }

  /** Whether a user of `serverName` is joined to the room. */
  hasJoinedMemberOf(serverName: string): boolean {
    return this.joinedServers().has(serverName);
  }

  /** Whether a user of any server but `serverName` is joined to the room. */
  hasJoinedMemberElsewhere(serverName: string): boolean {
    return [...this.joinedServers()].some((s) => s !== serverName);
  }

  /** The servers with a user joined to the room. */
  joinedServers(): Set<string> {
    const servers = new Set<string>();
    for (const event of this.state.values()) {
      if (event.type !== 'm.room.member' || event.content.membership !== 'join') continue;
      const server = serverNameOfUserId(event.state_key ?? '');
      if (server) servers.add(server);
    }
    return servers;
  }

  membership(userId: string): string | undefined {
    const membership = this.stateEvent('m.room.member', userId)?.content.membership;
    return typeof membership === 'string' ? membership : undefined;
  }

  /**
   * Applies an accepted event built on this state: it becomes the current
   * state's newest part and replaces the extremities it names as
   * prev_events (others, beyond the cap on prev_events, stay).
   */
  apply(event: Event, sha256: string): void {
    if (event.state_key !== undefined) {
      this.state.set(stateKeyString(event.type, event.state_key), event);
      this.parentSnapshotId = this.snapshotId ?? this.parentSnapshotId;
      this.snapshotId = undefined;
    }
    const covered = new Set(referencedEventIds(event.prev_events));
    this.extremities = [{ eventId: event.event_id, depth: event.depth, sha256 }, ...this.extremities.filter((e) => !covered.has(e.eventId))];
  }
}

/** The PDU of a stored event, with the event and room IDs the core works with. */
export function eventFromStored(stored: StoredEvent): Event {
  const pdu = JSON.parse(stored.json) as JsonObject;
  return { ...pdu, event_id: stored.eventId, room_id: stored.roomId } as unknown as Event;
}

export async function loadRoom(store: RoomStore, roomId: string): Promise<LoadedRoom | undefined> {
  const record = await store.rooms.getRoom(roomId);
  if (!record) return undefined;
  const rules = roomVersion(record.roomVersion);
  if (!rules) throw new Error(`room ${roomId} has room version ${record.roomVersion}, which this server does not support`);
  const stateEvents = await store.currentState.getCurrentStateEvents(roomId);
  const state = new Map(stateEvents.map((s) => [stateKeyString(s.type, s.stateKey ?? ''), eventFromStored(s)]));
  const extremityIds = await store.events.getForwardExtremities(roomId);
  const extremityEvents = await store.events.getEvents(extremityIds);
  const extremities = [...extremityEvents.values()].map((e) => ({
    eventId: e.eventId,
    depth: e.depth,
    sha256: (JSON.parse(e.json) as { hashes: { sha256: string } }).hashes.sha256,
  }));
  const parent = [...extremityEvents.values()].map((e) => e.stateSnapshotBefore).find((id) => id !== null) ?? undefined;
  return new LoadedRoom(roomId, rules, state, undefined, extremities, parent);
}
