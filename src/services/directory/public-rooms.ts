// The public room directory (client-server-api/_index.md, "Listing rooms";
// list_public_rooms.yaml): which rooms are published, and the list clients
// browse, largest rooms first. Another server's list is asked of it
// (server-server-api "Published Room Directory"); ours is given to other
// servers without the rooms they may not take part in.
import type { JsonObject } from '../../core/types.js';
import { forbidden, invalidParam, notFound } from '../../core/errors.js';
import { serverAclAllows } from '../../core/server-acl.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { RoomService } from '../rooms/index.js';
import type { LoadedRoom } from '../rooms/room-state.js';
import type { AliasActor } from './aliases.js';

export type Visibility = 'public' | 'private';

export interface PublicRoomsQuery {
  limit?: number;
  since?: string;
  /** Case-insensitive substring of the name, topic or canonical alias. */
  searchTerm?: string;
  /** Room types to include; null stands for rooms without a type. Absent: every type. */
  roomTypes?: ReadonlyArray<string | null>;
  /** A third-party network of an application service; we bridge none, so its list is empty. */
  thirdPartyInstanceId?: string;
  /** Every network's rooms; passed on to another server, the same as none here. */
  includeAllNetworks?: boolean;
  /** Whose directory: another server's is asked of it. Absent: this server's. */
  server?: string;
}

/** Other servers' directories (federation/remote-queries.ts). */
export interface RemoteRoomDirectories {
  /** Throws a MatrixError that names the server and the reason. */
  publicRooms(server: string, query: PublicRoomsQuery): Promise<PublicRoomsPage>;
}

export interface PublicRoomsPage {
  chunk: JsonObject[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate: number;
}

/** Join rules that let someone find the room and get in (or ask to), as Synapse lists them. */
const LISTABLE_JOIN_RULES = new Set(['public', 'knock', 'knock_restricted']);

interface Entry {
  json: JsonObject;
  joined: number;
  roomId: string;
  roomType: string | null;
  searchable: string;
}

export class PublicRoomsService {
  constructor(
    private readonly serverName: string,
    private readonly store: RoomStore,
    private readonly rooms: RoomService,
    private readonly remote: RemoteRoomDirectories,
  ) {}

  /** GET /directory/list/room/{roomId} */
  async visibility(roomId: string): Promise<Visibility> {
    const record = await this.store.rooms.getRoom(roomId);
    if (!record) throw notFound(`Room ${roomId} not found`);
    return record.isPublic ? 'public' : 'private';
  }

  /** PUT /directory/list/room/{roomId}: server admins, or those who may set m.room.canonical_alias (as Synapse). */
  async setVisibility(actor: AliasActor, roomId: string, visibility: Visibility): Promise<void> {
    const room = await this.rooms.pipeline.room(roomId);
    if (!room) throw notFound(`Room ${roomId} not found`);
    if (!actor.isAdmin && !this.rooms.powerLevels(room).canSendEvent(actor.userId, 'm.room.canonical_alias', true)) {
      throw forbidden(`You need the power to change ${roomId}'s canonical alias to publish it in the room directory`);
    }
    await this.store.rooms.setRoomPublic(roomId, visibility === 'public');
  }

  /** GET/POST /publicRooms: ours, or the named server's. */
  async list(query: PublicRoomsQuery): Promise<PublicRoomsPage> {
    if (query.server !== undefined && query.server !== this.serverName) return this.remote.publicRooms(query.server, query);
    return this.localPage(query);
  }

  /**
   * GET/POST /_matrix/federation/v1/publicRooms for `origin`: as Synapse,
   * without rooms that do not federate (m.federate false) or whose ACL
   * shuts the origin out.
   */
  async listForServer(origin: string, query: PublicRoomsQuery): Promise<PublicRoomsPage> {
    return this.localPage(query, origin);
  }

  /** Tokens are offsets into the sorted list ("o<n>"). */
  private async localPage(query: PublicRoomsQuery, origin?: string): Promise<PublicRoomsPage> {
    if (query.thirdPartyInstanceId !== undefined) return { chunk: [], total_room_count_estimate: 0 };
    const offset = query.since === undefined ? 0 : parseToken(query.since);
    const term = query.searchTerm?.trim().toLowerCase();
    const entries = (await this.listedEntries(origin))
      .filter((e) => !term || e.searchable.includes(term))
      .filter((e) => query.roomTypes === undefined || query.roomTypes.includes(e.roomType))
      .sort((a, b) => b.joined - a.joined || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));
    const limit = query.limit ?? entries.length;
    const page: PublicRoomsPage = { chunk: entries.slice(offset, offset + limit).map((e) => e.json), total_room_count_estimate: entries.length };
    if (offset + limit < entries.length) page.next_batch = `o${offset + limit}`;
    if (offset > 0) page.prev_batch = `o${Math.max(0, offset - limit)}`;
    return page;
  }

  private async listedEntries(origin: string | undefined): Promise<Entry[]> {
    const entries: Entry[] = [];
    for (const record of await this.store.rooms.listPublicRooms()) {
      const room = await this.rooms.pipeline.room(record.roomId);
      if (!room || (origin !== undefined && !sharedWith(room, origin))) continue;
      const entry = directoryEntry(room);
      if (entry) entries.push(entry);
    }
    return entries;
  }
}

/** Whether `origin` may take part in the room: it federates and its server ACL lets the origin in. */
function sharedWith(room: LoadedRoom, origin: string): boolean {
  if (room.stateEvent('m.room.create')?.content['m.federate'] === false) return false;
  return serverAclAllows(room.stateEvent('m.room.server_acl')?.content, origin);
}

function parseToken(token: string): number {
  const match = /^o(\d+)$/.exec(token);
  if (!match || !Number.isSafeInteger(Number(match[1]))) throw invalidParam(`'${token}' is not a room directory pagination token from this server`);
  return Number(match[1]);
}

function stringField(room: LoadedRoom, type: string, field: string): string | undefined {
  const value = room.stateEvent(type)?.content[field];
  return typeof value === 'string' ? value : undefined;
}

/**
 * What a room looks like from outside (room_summary.yaml, shared by the room
 * directory and the space hierarchy): its ID, joined members, readability,
 * guest access, join rule, and the name, topic, alias, avatar and type it has.
 */
export function roomSummary(room: LoadedRoom): { json: JsonObject; joined: number; roomType: string | null } {
  let joined = 0;
  for (const event of room.state.values()) {
    if (event.type === 'm.room.member' && event.content.membership === 'join') joined++;
  }
  const json: JsonObject = {
    room_id: room.roomId,
    num_joined_members: joined,
    world_readable: stringField(room, 'm.room.history_visibility', 'history_visibility') === 'world_readable',
    guest_can_join: stringField(room, 'm.room.guest_access', 'guest_access') === 'can_join',
    join_rule: stringField(room, 'm.room.join_rules', 'join_rule') ?? 'invite',
  };
  const createType = room.stateEvent('m.room.create')?.content.type;
  const roomType = typeof createType === 'string' ? createType : null;
  const optional: Array<[string, string | undefined]> = [
    ['name', stringField(room, 'm.room.name', 'name')],
    ['topic', stringField(room, 'm.room.topic', 'topic')],
    ['canonical_alias', stringField(room, 'm.room.canonical_alias', 'alias')],
    ['avatar_url', stringField(room, 'm.room.avatar', 'url')],
    ['room_type', roomType ?? undefined],
  ];
  for (const [key, value] of optional) if (value) json[key] = value;
  return { json, joined, roomType };
}

/**
 * A published room's PublishedRoomsChunk, or undefined when it should no
 * longer be listed: nobody is left in it, or it no longer lets anyone in or
 * read it (Synapse's rule: join rule public/knock, or world_readable history).
 */
function directoryEntry(room: LoadedRoom): Entry | undefined {
  const { json, joined, roomType } = roomSummary(room);
  if (!LISTABLE_JOIN_RULES.has(json.join_rule as string) && json.world_readable !== true) return undefined;
  if (joined === 0) return undefined;
  const searchable = [json.name, json.topic, json.canonical_alias].filter((v): v is string => typeof v === 'string').join('\n').toLowerCase();
  return { json, joined, roomId: room.roomId, roomType, searchable };
}
