// Room aliases (client-server-api/_index.md, "Room aliases"; directory.yaml):
// creating, resolving and deleting #alias:server → room ID mappings, and
// listing a room's local aliases. Another server's aliases are resolved by
// asking it (server-server-api "Querying for information").
import { parseRoomAlias } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import { forbidden, invalidParam, MatrixError, notFound } from '../../core/errors.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { RemoteRooms, RoomService } from '../rooms/index.js';
import type { LoadedRoom } from '../rooms/room-state.js';

export interface AliasActor {
  userId: string;
  /** Server admins may delete any alias. */
  isAdmin: boolean;
}

export interface AliasServiceDeps {
  serverName: string;
  store: RoomStore;
  rooms: RoomService;
  clock: () => number;
  /** GET /query/directory on the alias's server. */
  remote: Pick<RemoteRooms, 'resolveAlias'>;
}

export class AliasService {
  constructor(private readonly deps: AliasServiceDeps) {}

  /** PUT /directory/room/{roomAlias}: like Synapse, only members of the room may point an alias at it. */
  async create(actor: AliasActor, alias: string, roomId: string): Promise<void> {
    this.requireLocalAlias(alias);
    const { store } = this.deps;
    if (!(await store.rooms.getRoom(roomId))) throw notFound(`Room ${roomId} not found`);
    const membership = await store.memberships.getMembership(roomId, actor.userId);
    if (membership?.membership !== 'join') {
      throw forbidden(`You must be joined to ${roomId} to create an alias for it`);
    }
    const created = await store.aliases.createAlias({ alias, roomId, creator: actor.userId, servers: [this.deps.serverName], createdTs: this.deps.clock() });
    if (!created) throw new MatrixError(409, 'M_UNKNOWN', `Room alias already exists: ${alias} points to another room; choose another alias`);
  }

  /** GET /directory/room/{roomAlias}: ours from the table, another server's from that server. */
  async resolve(alias: string): Promise<{ roomId: string; servers: string[] }> {
    this.requireValidAlias(alias);
    if (parseRoomAlias(alias)!.serverName !== this.deps.serverName) {
      const { roomId, servers } = await this.deps.remote.resolveAlias(alias);
      return { roomId, servers: [...new Set(servers)] };
    }
    const record = await this.deps.store.aliases.getAlias(alias);
    if (!record) throw notFound(`Room alias ${alias} not found`);
    return { roomId: record.roomId, servers: record.servers };
  }

  /**
   * DELETE /directory/room/{roomAlias}: its creator, a server admin, or whoever
   * may set the room's m.room.canonical_alias (Synapse's rule). A deleted alias
   * is also taken out of m.room.canonical_alias when the deleter may change it.
   */
  async delete(actor: AliasActor, alias: string): Promise<void> {
    this.requireValidAlias(alias);
    const { store, rooms } = this.deps;
    const record = await store.aliases.getAlias(alias);
    if (!record) throw notFound(`Room alias ${alias} not found`);
    const room = await rooms.pipeline.room(record.roomId);
    const mayEditCanonical = room !== undefined && rooms.powerLevels(room).canSendEvent(actor.userId, 'm.room.canonical_alias', true);
    if (record.creator !== actor.userId && !actor.isAdmin && !mayEditCanonical) {
      throw forbidden(`You did not create ${alias}, and you lack the power to change ${record.roomId}'s aliases`);
    }
    await store.aliases.deleteAlias(alias);
    if (room && mayEditCanonical) await this.removeFromCanonicalAlias(actor.userId, room, alias);
  }

  /** GET /rooms/{roomId}/aliases: for members, or anyone when the room is world readable (Synapse). */
  async aliasesForRoom(userId: string, roomId: string): Promise<string[]> {
    const room = await this.deps.rooms.pipeline.room(roomId);
    if (!room) throw forbidden(`You are not in ${roomId}, or it does not exist`);
    const worldReadable = room.stateEvent('m.room.history_visibility')?.content.history_visibility === 'world_readable';
    if (room.membership(userId) !== 'join' && !worldReadable) throw forbidden(`You must be joined to ${roomId} to see its aliases`);
    return this.deps.store.aliases.aliasesForRoom(roomId);
  }

  private async removeFromCanonicalAlias(sender: string, room: LoadedRoom, alias: string): Promise<void> {
    const current = room.stateEvent('m.room.canonical_alias')?.content;
    if (!current) return;
    const alt = Array.isArray(current.alt_aliases) ? current.alt_aliases : [];
    if (current.alias !== alias && !alt.includes(alias)) return;
    const content: JsonObject = { ...current };
    if (current.alias === alias) delete content.alias;
    if (Array.isArray(current.alt_aliases)) content.alt_aliases = alt.filter((a) => a !== alias);
    await this.deps.rooms.sendState(sender, room.roomId, 'm.room.canonical_alias', '', content);
  }

  private requireValidAlias(alias: string): void {
    if (!parseRoomAlias(alias)) throw invalidParam(`'${alias}' is not a valid room alias; aliases look like #name:example.org`);
  }

  private requireLocalAlias(alias: string): void {
    this.requireValidAlias(alias);
    const server = parseRoomAlias(alias)!.serverName;
    if (server !== this.deps.serverName) {
      throw invalidParam(`Room alias ${alias} is not on this server; only aliases ending in :${this.deps.serverName} can be created here`);
    }
  }
}
