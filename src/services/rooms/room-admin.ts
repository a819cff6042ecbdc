// Synapse's room admin API (Synapse docs, admin_api/rooms.md and
// purge_history_api.md): list and inspect rooms, block them, delete them
// (every local user leaves, then the room is purged from storage), and
// purge old history. Only server admins reach this; the edge checks.
import { randomBytes } from 'node:crypto';
import { parseContentUri, parseRoomId, parseUserId, type ContentUri } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import { MatrixError, invalidParam, notFound } from '../../core/errors.js';
import type { AdminRoomEntry, RoomAdminStore, RoomListQuery } from '../../storage/rooms/admin.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { PurgeCandidate, RoomPurgeStore } from '../../storage/rooms/purge.js';
import type { ClientEvent, ClientEventFormatter } from './client-events.js';
import type { EventPipeline } from './event-pipeline.js';
import type { RoomService } from './index.js';
import type { BackgroundTasks } from '../background-tasks.js';

export interface RoomPage {
  rooms: AdminRoomEntry[];
  total: number;
  offset: number;
  /** The `from` of the next page, when there is one. */
  nextBatch?: number;
  /** The `from` of the previous page, when this is not the first. */
  prevBatch?: number;
}

export interface DeleteRoomOptions {
  /** Refuse local users' joins and invites from now on. */
  block: boolean;
  /** Remove the room from storage once the local users have left (Synapse's default: true). */
  purge: boolean;
  /** Purge even if some local users could not be made to leave. */
  forcePurge: boolean;
  /**
   * Synapse's new_room_user_id: this local user makes a new public room,
   * says `message` in it, and the old room's local users are moved there
   * with its local aliases.
   */
  replacement?: { creator: string; roomName: string; message: string };
}

export interface DeleteRoomResult {
  kickedUsers: string[];
  failedToKickUsers: string[];
  /** The room's local aliases: deleted, or moved to the replacement room. */
  localAliases: string[];
  newRoomId: string | null;
}

/** Where purge_history stops: events before this one, or before this time. */
export type PurgeBoundary = { eventId: string } | { beforeTs: number };

export type PurgeStatus = { status: 'active' } | { status: 'complete' } | { status: 'failed'; error: string };

/** A room deletion run in the background (Synapse's v2 Delete Room API), in Synapse's phases. */
export interface RoomDeletion {
  deleteId: string;
  roomId: string;
  status: 'shutting_down' | 'purging' | 'complete' | 'failed';
  error?: string;
  result: DeleteRoomResult;
}

export interface RoomAdministrationDeps {
  serverName: string;
  store: RoomStore;
  admin: RoomAdminStore;
  purges: RoomPurgeStore;
  pipeline: EventPipeline;
  rooms: RoomService;
  formatter: ClientEventFormatter;
  onError: (err: unknown, context: string) => void;
  /** Runs purges and deletions after the request; shutdown waits for them before the database closes. */
  tasks: BackgroundTasks;
  /** Whether the account exists here (a replacement room's creator must). */
  accountExists: (userId: string) => Promise<boolean>;
}

/**
 * A replacement room's members may read but not speak (Synapse's
 * users_default of -10 in the room it makes).
 */
const REPLACEMENT_ROOM_POWER_LEVELS = { users_default: -10 };

/** Memberships a deleted room's local users are taken out of (Synapse: joined, invited, knocking). */
const MEMBERSHIPS_TO_END = ['join', 'invite', 'knock'] as const;

export class RoomAdministration {
  /** purge_history runs in the background; operators poll its status by ID (kept for the server's lifetime, as Synapse). */
  private readonly purgeStatuses = new Map<string, PurgeStatus>();
  /** Background room deletions by delete ID, likewise kept for the server's lifetime. */
  private readonly deletions = new Map<string, RoomDeletion>();

  constructor(private readonly deps: RoomAdministrationDeps) {}

  /** GET /_synapse/admin/v1/rooms. */
  async list(query: RoomListQuery): Promise<RoomPage> {
    const { rooms, total } = await this.deps.admin.list(query);
    const page: RoomPage = { rooms, total, offset: query.from };
    if (query.from + rooms.length < total) page.nextBatch = query.from + rooms.length;
    if (query.from > 0) page.prevBatch = Math.max(0, query.from - query.limit);
    return page;
  }

  /** GET /_synapse/admin/v1/rooms/{roomId}. */
  async details(roomId: string): Promise<AdminRoomEntry> {
    requireRoomId(roomId);
    const room = await this.deps.admin.get(roomId);
    if (!room) throw notFound('Room not found');
    return room;
  }

  /** GET /_synapse/admin/v1/rooms/{roomId}/members: the joined members' IDs. */
  async members(roomId: string): Promise<string[]> {
    await this.details(roomId);
    return (await this.deps.store.memberships.membersOfRoom(roomId, 'join')).map((m) => m.userId);
  }

  /** GET /_synapse/admin/v1/users/{userId}/joined_rooms: the rooms this server knows the user to be joined to. */
  async joinedRooms(userId: string): Promise<string[]> {
    if (!parseUserId(userId)) throw invalidParam(`'${userId}' is not a valid user ID`);
    return (await this.deps.store.memberships.roomsForUser(userId, ['join'])).map((m) => m.roomId);
  }

  /**
   * The media the room's events show: content.url and
   * content.info.thumbnail_url, the fields Synapse reads for its room media
   * list (GET /_synapse/admin/v1/room/{roomId}/media), each URI once.
   */
  async mediaInRoom(roomId: string): Promise<ContentUri[]> {
    await this.details(roomId);
    const found = new Map<string, ContentUri>();
    for (const json of await this.deps.admin.eventsMentioningMedia(roomId)) {
      const content = (JSON.parse(json) as { content?: JsonObject }).content ?? {};
      const info = content.info;
      const thumbnail = info !== null && typeof info === 'object' && !Array.isArray(info) ? info.thumbnail_url : undefined;
      for (const candidate of [content.url, thumbnail]) {
        const uri = typeof candidate === 'string' ? parseContentUri(candidate) : null;
        if (uri) found.set(`${uri.serverName}/${uri.mediaId}`, uri);
      }
    }
    return [...found.values()];
  }

  /** GET /_synapse/admin/v1/rooms/{roomId}/state: the current state as client events. */
  async state(roomId: string): Promise<ClientEvent[]> {
    await this.details(roomId);
    return this.deps.formatter.format(await this.deps.store.currentState.getCurrentStateEvents(roomId), undefined, { bundleRelations: false });
  }

  /** GET /_synapse/admin/v1/rooms/{roomId}/block: rooms this server never saw may be blocked too. */
  async blockStatus(roomId: string): Promise<{ blocked: boolean; by?: string }> {
    requireRoomId(roomId);
    const by = await this.deps.admin.blockedBy(roomId);
    return by === undefined ? { blocked: false } : { blocked: true, by };
  }

  /** PUT /_synapse/admin/v1/rooms/{roomId}/block. */
  async setBlocked(adminUserId: string, roomId: string, blocked: boolean): Promise<void> {
    requireRoomId(roomId);
    if (blocked) await this.deps.admin.block(roomId, adminUserId);
    else await this.deps.admin.unblock(roomId);
  }

  /**
   * DELETE /_synapse/admin/v1/rooms/{roomId}: every local member leaves (an
   * invite or knock is withdrawn the same way), the room's local aliases go
   * and it leaves the public directory; then, with `purge`, everything
   * stored about it. A purge is refused while a local user is still in the
   * room, unless forced, as Synapse refuses it.
   */
  async deleteRoom(adminUserId: string, roomId: string, options: DeleteRoomOptions, onPurging?: () => void): Promise<DeleteRoomResult> {
    requireRoomId(roomId);
    if (options.block) await this.deps.admin.block(roomId, adminUserId);
    const known = await this.deps.store.rooms.getRoom(roomId);
    if (!known) {
      if (options.block) return { kickedUsers: [], failedToKickUsers: [], localAliases: [], newRoomId: null };
      throw notFound(`Room ${roomId} is not known to this server`);
    }
    const newRoomId = options.replacement ? await this.createReplacementRoom(options.replacement) : null;
    const { kickedUsers, failedToKickUsers } = await this.endLocalMemberships(roomId, newRoomId);
    const { aliases } = this.deps.store;
    let localAliases: string[];
    if (newRoomId) localAliases = await aliases.moveAliases(roomId, newRoomId);
    else {
      localAliases = await aliases.aliasesForRoom(roomId);
      for (const alias of localAliases) await aliases.deleteAlias(alias);
    }
    await this.deps.store.rooms.setRoomPublic(roomId, false);
    if (options.purge) {
      if (failedToKickUsers.length > 0 && !options.forcePurge) {
        throw new MatrixError(400, 'M_UNKNOWN', `Not purging ${roomId}: ${failedToKickUsers.join(', ')} could not be removed from it; set force_purge to purge anyway`);
      }
      onPurging?.();
      await this.purgeRoom(roomId);
    }
    return { kickedUsers, failedToKickUsers, localAliases, newRoomId };
  }

  /**
   * DELETE /_synapse/admin/v2/rooms/{roomId}: `deleteRoom` in the
   * background; its progress is read by delete ID or by room. As Synapse,
   * one deletion of a room at a time, and an unknown room is refused at once
   * unless it is being blocked.
   */
  async startDeleteRoom(adminUserId: string, roomId: string, options: DeleteRoomOptions): Promise<string> {
    requireRoomId(roomId);
    if (this.deletionsOf(roomId).some((d) => d.status === 'shutting_down' || d.status === 'purging')) {
      throw invalidParam(`${roomId} is already being deleted`);
    }
    if (!options.block && !(await this.deps.store.rooms.getRoom(roomId))) throw notFound(`Room ${roomId} is not known to this server`);
    const deletion: RoomDeletion = {
      deleteId: randomBytes(12).toString('base64url'),
      roomId,
      status: 'shutting_down',
      result: { kickedUsers: [], failedToKickUsers: [], localAliases: [], newRoomId: null },
    };
    this.deletions.set(deletion.deleteId, deletion);
    this.deps.tasks.run(`deleting ${roomId}`, async () => {
      try {
        const result = await this.deleteRoom(adminUserId, roomId, options, () => (deletion.status = 'purging'));
        Object.assign(deletion, { status: 'complete', result });
      } catch (err) {
        Object.assign(deletion, { status: 'failed', error: (err as Error).message });
        throw err;
      }
    });
    return deletion.deleteId;
  }

  /** GET /_synapse/admin/v2/rooms/delete_status/{deleteId}. */
  deletion(deleteId: string): RoomDeletion {
    const deletion = this.deletions.get(deleteId);
    if (!deletion) throw notFound(`No room deletion with ID ${deleteId}`);
    return deletion;
  }

  /** GET /_synapse/admin/v2/rooms/{roomId}/delete_status: every deletion of the room this server ran since it started. */
  deletionsOfRoom(roomId: string): RoomDeletion[] {
    requireRoomId(roomId);
    const found = this.deletionsOf(roomId);
    if (found.length === 0) throw notFound(`No deletion of ${roomId} has run since the server started`);
    return found;
  }

  private deletionsOf(roomId: string): RoomDeletion[] {
    return [...this.deletions.values()].filter((d) => d.roomId === roomId);
  }

  /**
   * POST /_synapse/admin/v1/purge_history/{roomId}: starts removing the
   * room's history before the boundary and returns the purge's ID. As
   * Synapse: state events stay (the room's state and authorisation need
   * them) but leave the timeline; local users' events likewise, unless
   * `deleteLocalEvents`; the newest events are never purged.
   */
  async startPurgeHistory(roomId: string, boundary: PurgeBoundary, deleteLocalEvents: boolean): Promise<string> {
    requireRoomId(roomId);
    if (!(await this.deps.store.rooms.getRoom(roomId))) throw notFound(`Room ${roomId} is not known to this server`);
    const depth = await this.boundaryDepth(roomId, boundary);
    const purgeId = randomBytes(12).toString('base64url');
    this.purgeStatuses.set(purgeId, { status: 'active' });
    this.deps.tasks.run(`purge_history of ${roomId}`, async () => {
      try {
        await this.purgeHistory(roomId, depth, deleteLocalEvents);
        this.purgeStatuses.set(purgeId, { status: 'complete' });
      } catch (err) {
        this.purgeStatuses.set(purgeId, { status: 'failed', error: (err as Error).message });
        throw err;
      }
    });
    return purgeId;
  }

  /** GET /_synapse/admin/v1/purge_history_status/{purgeId}. */
  purgeStatus(purgeId: string): PurgeStatus {
    const status = this.purgeStatuses.get(purgeId);
    if (!status) throw notFound(`No purge with ID ${purgeId}`);
    return status;
  }

  /** Removes history strictly deeper than `depth`, in the room's queue so no event is sent meanwhile. */
  async purgeHistory(roomId: string, depth: number, deleteLocalEvents: boolean): Promise<void> {
    await this.deps.pipeline.alterStoredRoom(roomId, async () => {
      const candidates = await this.deps.purges.historyBefore(roomId, depth);
      const remove: PurgeCandidate[] = [];
      const hide: string[] = [];
      for (const event of candidates) {
        if (event.stateKey !== null || (!deleteLocalEvents && this.isLocalUser(event.sender))) hide.push(event.eventId);
        else remove.push(event);
      }
      await this.deps.purges.purgeEvents(roomId, remove, hide);
    });
  }

  /**
   * The depth purging stops at: the named event's, or for a time that of
   * the room's first event at or after it (the newest event if none is), so
   * everything sent before the time goes, as Synapse's purge_up_to_ts.
   */
  private async boundaryDepth(roomId: string, boundary: PurgeBoundary): Promise<number> {
    if ('eventId' in boundary) {
      const event = await this.deps.store.events.getEvent(boundary.eventId);
      if (!event) throw notFound(`Event ${boundary.eventId} not found`);
      if (event.roomId !== roomId) throw invalidParam(`Event ${boundary.eventId} is in another room`);
      return event.depth;
    }
    const { events } = this.deps.store;
    const first = (await events.getEventNearTimestamp(roomId, boundary.beforeTs, 'forward')) ?? (await events.getEventNearTimestamp(roomId, boundary.beforeTs, 'backward'));
    if (!first) throw notFound(`There is no event in ${roomId} to purge`);
    return first.depth;
  }

  private isLocalUser(userId: string): boolean {
    return parseUserId(userId)?.serverName === this.deps.serverName;
  }

  /**
   * Each local user with a membership to end leaves (and joins the
   * replacement room, if any); those whose leave fails are reported, not fatal.
   */
  private async endLocalMemberships(roomId: string, newRoomId: string | null): Promise<{ kickedUsers: string[]; failedToKickUsers: string[] }> {
    const kickedUsers: string[] = [];
    const failedToKickUsers: string[] = [];
    for (const member of await this.deps.store.memberships.membersOfRoom(roomId)) {
      if (!(MEMBERSHIPS_TO_END as readonly string[]).includes(member.membership) || !this.isLocalUser(member.userId)) continue;
      try {
        await this.deps.rooms.leave(member.userId, roomId);
        kickedUsers.push(member.userId);
      } catch (err) {
        this.deps.onError(err, `could not make ${member.userId} leave ${roomId}`);
        failedToKickUsers.push(member.userId);
        continue;
      }
      if (newRoomId) await this.deps.rooms.join(member.userId, newRoomId).catch((err: unknown) => this.deps.onError(err, `could not move ${member.userId} to ${newRoomId}`));
    }
    return { kickedUsers, failedToKickUsers };
  }

  private async createReplacementRoom(replacement: NonNullable<DeleteRoomOptions['replacement']>): Promise<string> {
    const { creator } = replacement;
    if (!this.isLocalUser(creator)) throw invalidParam(`new_room_user_id must be a user of this server, not ${creator}`);
    if (!(await this.deps.accountExists(creator))) throw notFound(`new_room_user_id: ${creator} does not exist`);
    const newRoomId = await this.deps.rooms.createRoom(creator, {
      preset: 'public_chat',
      name: replacement.roomName,
      invite: [],
      creationContent: {},
      initialState: [],
      isDirect: false,
      powerLevelContentOverride: REPLACEMENT_ROOM_POWER_LEVELS,
    });
    await this.deps.pipeline.send(newRoomId, { type: 'm.room.message', sender: creator, content: { msgtype: 'm.text', body: replacement.message } });
    return newRoomId;
  }

  private async purgeRoom(roomId: string): Promise<void> {
    await this.deps.pipeline.alterStoredRoom(roomId, async () => {
      const members = await this.deps.purges.purgeRoom(roomId);
      this.deps.store.memberships.forgetCachedRooms(members);
    });
  }
}

function requireRoomId(roomId: string): void {
  if (!parseRoomId(roomId)) throw invalidParam(`'${roomId}' is not a valid room ID`);
}
