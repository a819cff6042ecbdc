// Client config, room tags and ignored users (client-server-api/modules/
// account_data.md, tags.md, ignore_users.md), all kept as account data in
// AccountDataStore. Tags are the `m.tag` room account data event, as Synapse
// keeps them, so /sync delivers them with the rest of a room's account data.
import type { JsonObject } from '../../core/types.js';
import { badJson, forbidden, invalidParam, MatrixError, notFound } from '../../core/errors.js';
import { isValidRoomId, isValidUserId } from '../../core/identifiers.js';
import type { AccountDataStore } from '../../storage/accounts/account-data.js';
import type { Notifier } from '../notifier.js';
import { KeyedQueue } from '../rooms/keyed-queue.js';

/**
 * Types the server manages, which clients may read but not set
 * (account_data.md, "Server Behaviour": 405 M_BAD_JSON).
 */
const SERVER_MANAGED_TYPES: ReadonlySet<string> = new Set(['m.fully_read', 'm.push_rules']);

const MAX_TAG_BYTES = 255;

export class AccountDataService {
  /** Read-modify-write of one user's m.tag must not lose a concurrent tag. */
  private readonly tagWrites = new KeyedQueue();

  constructor(
    private readonly store: AccountDataStore,
    private readonly notifier: Notifier,
  ) {}

  /** # PUT /user/{userId}/account_data/{type} */
  async putGlobal(requesterId: string, userId: string, type: string, content: JsonObject): Promise<void> {
    checkOwner(requesterId, userId, 'set');
    checkClientSettable(type);
    validateKnownContent(type, content);
    await this.setGlobal(userId, type, content);
  }

  /** # PUT /user/{userId}/rooms/{roomId}/account_data/{type} */
  async putRoom(requesterId: string, userId: string, roomId: string, type: string, content: JsonObject): Promise<void> {
    checkOwner(requesterId, userId, 'set');
    checkRoomId(roomId);
    checkClientSettable(type);
    await this.setRoom(userId, roomId, type, content);
  }

  async getGlobal(requesterId: string, userId: string, type: string): Promise<JsonObject> {
    checkOwner(requesterId, userId, 'read');
    const content = await this.store.getGlobal(userId, type);
    if (!content) throw notFound(`${userId} has no account data of type '${type}'`);
    return content;
  }

  async getRoom(requesterId: string, userId: string, roomId: string, type: string): Promise<JsonObject> {
    checkOwner(requesterId, userId, 'read');
    checkRoomId(roomId);
    const content = await this.store.getRoom(userId, roomId, type);
    if (!content) throw notFound(`${userId} has no account data of type '${type}' in ${roomId}`);
    return content;
  }

  /** Writes global account data without the client checks (for server-managed types). */
  async setGlobal(userId: string, type: string, content: JsonObject): Promise<number> {
    const position = await this.store.setGlobal(userId, type, content);
    this.notifier.notify('account_data', position, { userIds: [userId] });
    return position;
  }

  /** Writes room account data without the client checks (m.fully_read from /read_markers). */
  async setRoom(userId: string, roomId: string, type: string, content: JsonObject): Promise<number> {
    const position = await this.store.setRoom(userId, roomId, type, content);
    this.notifier.notify('account_data', position, { userIds: [userId] });
    return position;
  }

  /** Room account data as stored, for other services (e.g. the current m.fully_read). */
  roomData(userId: string, roomId: string, type: string): Promise<JsonObject | undefined> {
    return this.store.getRoom(userId, roomId, type);
  }

  // Tags (tags.md).

  /** # GET /user/{userId}/rooms/{roomId}/tags */
  async getTags(requesterId: string, userId: string, roomId: string): Promise<JsonObject> {
    checkOwner(requesterId, userId, 'read');
    checkRoomId(roomId);
    return tagsOf(await this.store.getRoom(userId, roomId, 'm.tag'));
  }

  /** # PUT /user/{userId}/rooms/{roomId}/tags/{tag} */
  async putTag(requesterId: string, userId: string, roomId: string, tag: string, body: JsonObject): Promise<void> {
    checkOwner(requesterId, userId, 'set');
    checkRoomId(roomId);
    if (tag === '') throw invalidParam('The tag name must not be empty');
    if (Buffer.byteLength(tag, 'utf8') > MAX_TAG_BYTES) throw invalidParam(`The tag name must not exceed ${MAX_TAG_BYTES} bytes`);
    const order = body.order;
    if (order !== undefined && order !== null) {
      if (typeof order !== 'number') throw badJson(`'order' must be a number, not ${JSON.stringify(order)}`);
      if (order < 0 || order > 1) throw invalidParam(`'order' must be between 0 and 1, not ${order}`);
    }
    await this.updateTags(userId, roomId, (tags) => {
      tags[tag] = body;
    });
  }

  /** # DELETE /user/{userId}/rooms/{roomId}/tags/{tag} — removing an absent tag succeeds, as in Synapse. */
  async deleteTag(requesterId: string, userId: string, roomId: string, tag: string): Promise<void> {
    checkOwner(requesterId, userId, 'set');
    checkRoomId(roomId);
    await this.updateTags(userId, roomId, (tags) => {
      delete tags[tag];
    });
  }

  private updateTags(userId: string, roomId: string, change: (tags: JsonObject) => void): Promise<number> {
    return this.tagWrites.run(userId, async () => {
      const tags = { ...tagsOf(await this.store.getRoom(userId, roomId, 'm.tag')).tags } as JsonObject;
      change(tags);
      return this.setRoom(userId, roomId, 'm.tag', { tags });
    });
  }

  /**
   * After a room upgrade the replacement keeps the user's marks on the old
   * room: its tags, and its place in m.direct (room_upgrades.md leaves what
   * carries over to the server; Synapse's copy_room_tags_and_direct_to_room).
   */
  async copyToUpgradedRoom(userId: string, oldRoomId: string, newRoomId: string): Promise<void> {
    const direct = await this.store.getGlobal(userId, 'm.direct');
    for (const [partner, roomIds] of Object.entries(direct ?? {})) {
      if (!Array.isArray(roomIds) || !roomIds.includes(oldRoomId) || roomIds.includes(newRoomId)) continue;
      await this.setGlobal(userId, 'm.direct', { ...direct, [partner]: [...roomIds, newRoomId] });
      break;
    }
    const { tags } = tagsOf(await this.store.getRoom(userId, oldRoomId, 'm.tag'));
    if (Object.keys(tags).length > 0) await this.updateTags(userId, newRoomId, (current) => Object.assign(current, tags));
  }

  // Ignored users (ignore_users.md).

  /** The users `userId` ignores: /sync and timelines hide their non-state events and invites. */
  async ignoredUsers(userId: string): Promise<Set<string>> {
    return ignoredUserIds(await this.store.getGlobal(userId, 'm.ignored_user_list'));
  }
}

/** The user IDs an m.ignored_user_list content names (none if it is malformed). */
export function ignoredUserIds(content: JsonObject | undefined): Set<string> {
  const ignored = content?.ignored_users;
  if (typeof ignored !== 'object' || ignored === null || Array.isArray(ignored)) return new Set();
  return new Set(Object.keys(ignored));
}

function checkOwner(requesterId: string, userId: string, action: 'set' | 'read'): void {
  if (requesterId !== userId) {
    throw forbidden(action === 'set' ? `You cannot set account data for ${userId}` : `You cannot read the account data of ${userId}`);
  }
}

/** Either form of room ID: `!opaque:server` (v1–11) or v12's `!hash`. */
function checkRoomId(roomId: string): void {
  if (!isValidRoomId(roomId)) throw invalidParam(`'${roomId}' is not a valid room ID (!opaque:server, or !hash from room version 12)`);
}

function checkClientSettable(type: string): void {
  if (SERVER_MANAGED_TYPES.has(type)) {
    const how = type === 'm.fully_read' ? 'use /rooms/{roomId}/read_markers' : 'use the /pushrules API';
    throw new MatrixError(405, 'M_BAD_JSON', `Cannot set ${type} through this API; ${how}`);
  }
}

/** Types whose shape the server relies on are checked before they are stored. */
function validateKnownContent(type: string, content: JsonObject): void {
  if (type !== 'm.ignored_user_list') return;
  const ignored = content.ignored_users;
  if (typeof ignored !== 'object' || ignored === null || Array.isArray(ignored)) {
    throw badJson("m.ignored_user_list needs 'ignored_users', an object whose keys are the ignored user IDs");
  }
  for (const userId of Object.keys(ignored)) {
    if (!isValidUserId(userId)) throw invalidParam(`'${userId}' in 'ignored_users' is not a user ID (@localpart:server)`);
  }
}

/** The m.tag content, always in the spec's shape `{tags: {...}}`. */
function tagsOf(content: JsonObject | undefined): { tags: JsonObject } {
  const tags = content?.tags;
  return { tags: typeof tags === 'object' && tags !== null && !Array.isArray(tags) ? tags : {} };
}
