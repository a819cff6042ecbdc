// The /sync response being assembled (data/api/client-server/sync.yaml, 200).
// Stream providers add to it; a room appears only once something is added
// for it, so an incremental sync with nothing new is recognisably empty.
import type { JsonObject } from '../../core/types.js';
import type { StateAfterKey } from './context.js';
import type { StreamPositions } from './token.js';

export interface UnreadCounts {
  notification_count: number;
  highlight_count: number;
}

export interface RoomSummary {
  'm.heroes'?: string[];
  'm.joined_member_count': number;
  'm.invited_member_count': number;
}

export interface JoinedRoomResponse {
  timeline: { events: JsonObject[]; limited: boolean; prev_batch?: string };
  state: { events: JsonObject[] };
  ephemeral: { events: JsonObject[] };
  account_data: { events: JsonObject[] };
  unread_notifications?: UnreadCounts;
  summary?: RoomSummary;
}

export interface LeftRoomResponse {
  timeline: { events: JsonObject[]; limited: boolean; prev_batch?: string };
  state: { events: JsonObject[] };
  account_data: { events: JsonObject[] };
}

export class SyncResponseBuilder {
  readonly join = new Map<string, JoinedRoomResponse>();
  readonly invite = new Map<string, { invite_state: { events: JsonObject[] } }>();
  readonly leave = new Map<string, LeftRoomResponse>();
  readonly knock = new Map<string, { knock_state: { events: JsonObject[] } }>();
  readonly presence: JsonObject[] = [];
  readonly accountData: JsonObject[] = [];
  /** Sections the end-to-end encryption providers fill (sync.yaml: to_device, device_lists, key counts). */
  readonly encryption: JsonObject = {};
  /** Streams whose next_batch position must stay below the head (a batch was cut short). */
  readonly nextPositions: Partial<StreamPositions> = {};
  private readonly joinedRoomFinishers: Array<(roomId: string, room: JoinedRoomResponse) => void> = [];

  /**
   * `stateAfterKey`: the rooms stream filled each room's `state` with the
   * state up to the end of its timeline, which goes out under this key, and
   * `state` is omitted (sync.yaml, use_state_after).
   */
  constructor(private readonly stateAfterKey?: StateAfterKey) {}

  /** Runs `finish` on every joined room in the response when it is written out (after every provider). */
  finishJoinedRooms(finish: (roomId: string, room: JoinedRoomResponse) => void): void {
    this.joinedRoomFinishers.push(finish);
  }

  joined(roomId: string): JoinedRoomResponse {
    let room = this.join.get(roomId);
    if (!room) {
      room = { timeline: { events: [], limited: false }, state: { events: [] }, ephemeral: { events: [] }, account_data: { events: [] } };
      this.join.set(roomId, room);
    }
    return room;
  }

  /** Nothing for the client: an incremental sync keeps waiting. */
  isEmpty(): boolean {
    return (
      this.join.size === 0 &&
      this.invite.size === 0 &&
      this.leave.size === 0 &&
      this.knock.size === 0 &&
      this.presence.length === 0 &&
      this.accountData.length === 0 &&
      !hasEncryptionData(this.encryption)
    );
  }

  toJson(nextBatch: string): JsonObject {
    for (const finish of this.joinedRoomFinishers) for (const [roomId, room] of this.join) finish(roomId, room);
    return {
      next_batch: nextBatch,
      rooms: {
        join: this.roomsOut(this.join),
        invite: Object.fromEntries(this.invite) as unknown as JsonObject,
        leave: this.roomsOut(this.leave),
        knock: Object.fromEntries(this.knock) as unknown as JsonObject,
      },
      presence: { events: this.presence },
      account_data: { events: this.accountData },
      ...this.encryption,
    };
  }
  private roomsOut(rooms: Map<string, JoinedRoomResponse | LeftRoomResponse>): JsonObject {
    const key = this.stateAfterKey;
    if (!key) return Object.fromEntries(rooms) as unknown as JsonObject;
    const out: JsonObject = {};
    for (const [roomId, { state, ...room }] of rooms) out[roomId] = { ...room, [key]: state } as unknown as JsonObject;
    return out;
  }

}

/** Whether the encryption sections carry anything a client must act on. */
function hasEncryptionData(sections: JsonObject): boolean {
  const toDevice = sections.to_device as { events?: unknown[] } | undefined;
  const lists = sections.device_lists as { changed?: unknown[]; left?: unknown[] } | undefined;
  return (toDevice?.events?.length ?? 0) > 0 || (lists?.changed?.length ?? 0) > 0 || (lists?.left?.length ?? 0) > 0;
}
