// Room upgrades (client-server-api/modules/room_upgrades.md "Server
// behaviour"; room_upgrades.yaml): a new room whose m.room.create names its
// predecessor, the transferable state copied over, local aliases moved, a
// tombstone in the old room, and the old room's power levels restricted.
import { RoomPowerLevels } from '../../core/power-levels.js';
import { roomVersion } from '../../core/room-versions.js';
import { isValidUserId, serverNameOfUserId } from '../../core/identifiers.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import { forbidden, invalidParam, MatrixError, notFound } from '../../core/errors.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { EventPipeline, EventRequest } from './event-pipeline.js';
import type { RoomService } from './index.js';
import type { LoadedRoom } from './room-state.js';

/** The spec's recommended transferable state (step 3), besides power levels which are adjusted. */
const TRANSFERRED_STATE = [
  'm.room.server_acl',
  'm.room.encryption',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.guest_access',
  'm.room.history_visibility',
  'm.room.join_rules',
] as const;

/** A user's own data about a room (push rules, tags...) that follows them to its replacement. */
export interface UserRoomData {
  copyToUpgradedRoom(userId: string, oldRoomId: string, newRoomId: string): Promise<void>;
}

export interface UpgradeDeps {
  serverName: string;
  store: RoomStore;
  pipeline: EventPipeline;
  rooms: RoomService;
  userData: readonly UserRoomData[];
  clock: () => number;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

export class RoomUpgrader {
  constructor(private readonly deps: UpgradeDeps) {}

  /** POST /rooms/{roomId}/upgrade; returns the replacement room's ID. */
  async upgrade(userId: string, roomId: string, newVersion: string, additionalCreators: readonly string[] = []): Promise<string> {
    const rules = roomVersion(newVersion);
    if (!rules) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version '${newVersion}' is not supported; this server supports versions 1 to 12`);
    for (const creator of additionalCreators) {
      if (!isValidUserId(creator)) throw invalidParam(`'${creator}' in additional_creators is not a valid user ID`);
    }
    const { pipeline, rooms, store } = this.deps;
    return pipeline.withRoom(roomId, async (old) => {
      if (!old) throw notFound(`Unknown room ${roomId}`);
      if (old.membership(userId) !== 'join') throw forbidden(`${userId} is not joined to ${roomId}`);
      const powers = rooms.powerLevels(old);
      if (!powers.canSendEvent(userId, 'm.room.tombstone', true)) {
        throw forbidden(`You need power level ${powers.requiredPowerForEvent('m.room.tombstone', true)} to upgrade this room (to send m.room.tombstone)`);
      }
      const { initial: initialPowerLevels, final: finalPowerLevels } = newPowerLevels(old, powers, userId, rules.privilegedCreators, additionalCreators);
      const creationContent: JsonObject = {};
      const oldCreate = old.stateEvent('m.room.create')?.content;
      if (oldCreate?.type !== undefined) creationContent.type = oldCreate.type;
      // A room closed to other servers stays closed (as Synapse).
      if (oldCreate?.['m.federate'] === false) creationContent['m.federate'] = false;
      if (additionalCreators.length > 0 && rules.privilegedCreators) creationContent.additional_creators = [...additionalCreators];
      const record = await store.rooms.getRoom(roomId);
      const canonicalAlias = old.stateEvent('m.room.canonical_alias');
      const tombstone = (replacementRoom: string): EventRequest => ({
        type: 'm.room.tombstone',
        stateKey: '',
        sender: userId,
        content: { body: 'This room has been replaced', replacement_room: replacementRoom },
      });

      const replace = async (predecessor: JsonObject, chosenRoomId?: string): Promise<string> => {
        const newRoomId = await rooms.createRoom(userId, {
          visibility: record?.isPublic ? 'public' : 'private',
          invite: [],
          roomVersion: rules.id,
          creationContent: { ...creationContent, predecessor },
          initialState: transferredState(old, canonicalAlias?.content),
          // Synapse (clone_existing_room) builds the new room with private_chat's
          // defaults beneath the copied state: an old room without join rules,
          // history visibility or guest access gets invite, shared and can_join.
          preset: 'private_chat',
          isDirect: false,
          powerLevelContentOverride: initialPowerLevels,
          ...(chosenRoomId !== undefined ? { roomId: chosenRoomId } : {}),
        });
        if (finalPowerLevels) await pipeline.send(newRoomId, { type: 'm.room.power_levels', stateKey: '', sender: userId, content: finalPowerLevels });
        await this.transferToReplacement(roomId, newRoomId);
        return newRoomId;
      };

      let newRoomId: string;
      if (rules.roomIdIsCreateEventHash) {
        // From v12 the room ID is the create event's hash, so the create event
        // cannot name the tombstone that names the room: its predecessor omits
        // event_id (room_upgrades.md, step 2, v1.16).
        newRoomId = await replace({ room_id: roomId });
        await pipeline.sendInRoom(old, tombstone(newRoomId));
      } else {
        // Before v12 the tombstone is built first, so that the new room's
        // predecessor names it (m.room.create's predecessor.event_id), then
        // sent once the new room exists, as Synapse does.
        const chosen = rooms.newRoomId();
        await pipeline.sendInRoomPrepared(old, tombstone(chosen), async (event) => {
          await replace({ room_id: roomId, event_id: event.event_id }, chosen);
        });
        newRoomId = chosen;
      }
      await this.restrictOldRoom(old, userId, canonicalAlias !== undefined);
      return newRoomId;
    });
  }

  /**
   * This server joined a room through another: if it replaces a room we
   * know, what we keep about that room moves to it, as after an upgrade made
   * here (Synapse does the same on a remote join).
   */
  async joinedRemoteRoom(roomId: string): Promise<void> {
    const create = await this.deps.store.currentState.getCurrentStateEvent(roomId, 'm.room.create', '');
    if (!create) return;
    const predecessor = (JSON.parse(create.json) as { content: JsonObject }).content.predecessor;
    const oldRoomId = isObject(predecessor) ? predecessor.room_id : undefined;
    if (typeof oldRoomId !== 'string' || !(await this.deps.store.rooms.getRoom(oldRoomId))) return;
    await this.transferToReplacement(oldRoomId, roomId);
  }

  /**
   * Steps 4 and 5 for this server's records: the old room's directory
   * listing and local aliases move to the new room, and each local member
   * of the old room keeps their push rules, tags and m.direct entry for it
   * (Synapse's transfer_room_state_on_room_upgrade). A user whose data
   * fails to copy is logged and skipped: the upgrade or join has happened.
   */
  private async transferToReplacement(oldRoomId: string, newRoomId: string): Promise<void> {
    const { store, serverName, userData, log } = this.deps;
    if ((await store.rooms.getRoom(oldRoomId))?.isPublic) {
      await store.rooms.setRoomPublic(oldRoomId, false);
      await store.rooms.setRoomPublic(newRoomId, true);
    }
    await this.moveAliases(oldRoomId, newRoomId);
    for (const { userId } of await store.memberships.membersOfRoom(oldRoomId, 'join')) {
      if (serverNameOfUserId(userId) !== serverName) continue;
      for (const data of userData) {
        await data.copyToUpgradedRoom(userId, oldRoomId, newRoomId).catch((err: unknown) => {
          log('could not copy a user\'s data to an upgraded room', { err, userId, oldRoomId, newRoomId });
        });
      }
    }
  }

  /** Step 4: local aliases now point at the new room. */
  private async moveAliases(oldRoomId: string, newRoomId: string): Promise<void> {
    const { aliases } = this.deps.store;
    for (const alias of await aliases.aliasesForRoom(oldRoomId)) {
      const record = await aliases.getAlias(alias);
      if (!record) continue;
      await aliases.deleteAlias(alias);
      await aliases.createAlias({ ...record, roomId: newRoomId, createdTs: this.deps.clock() });
    }
  }

  /**
   * Step 6: stop sending and inviting in the old room (events_default and
   * invite raised to the greater of 50 and users_default + 1, as Synapse
   * does), and drop its canonical alias, which moved. Best effort: a user
   * who may tombstone but not change power levels still upgrades.
   */
  private async restrictOldRoom(old: LoadedRoom, userId: string, hadCanonicalAlias: boolean): Promise<void> {
    const { pipeline } = this.deps;
    if (hadCanonicalAlias) {
      await pipeline.sendInRoom(old, { type: 'm.room.canonical_alias', stateKey: '', sender: userId, content: {} }).catch(ignoreForbidden);
    }
    const current = old.stateEvent('m.room.power_levels')?.content ?? {};
    const usersDefault = typeof current.users_default === 'number' ? current.users_default : 0;
    const restricted = Math.max(50, usersDefault + 1);
    const content: JsonObject = { ...current };
    let changed = false;
    for (const key of ['events_default', 'invite']) {
      const value = typeof current[key] === 'number' ? (current[key] as number) : 0;
      if (value < restricted) {
        content[key] = restricted;
        changed = true;
      }
    }
    if (changed) await pipeline.sendInRoom(old, { type: 'm.room.power_levels', stateKey: '', sender: userId, content }).catch(ignoreForbidden);
  }
}

function ignoreForbidden(err: unknown): void {
  if (!(err instanceof MatrixError) || err.status !== 403) throw err;
}

/** Step 3's state and the bans; what the old room lacks, the private_chat preset supplies. */
function transferredState(old: LoadedRoom, canonicalAlias: JsonObject | undefined): Array<{ type: string; stateKey: string; content: JsonObject }> {
  const state: Array<{ type: string; stateKey: string; content: JsonObject }> = [];
  for (const type of TRANSFERRED_STATE) {
    const event = old.stateEvent(type);
    if (event) state.push({ type, stateKey: '', content: event.content });
  }
  if (canonicalAlias && Object.keys(canonicalAlias).length > 0) state.push({ type: 'm.room.canonical_alias', stateKey: '', content: canonicalAlias });
  // Whoever was banned from the old room is banned from the new one (as Synapse).
  for (const event of old.state.values()) {
    if (event.type === 'm.room.member' && event.content.membership === 'ban') state.push({ type: event.type, stateKey: event.state_key!, content: event.content });
  }
  return state;
}

/**
 * The new room's power levels: the old ones, with the upgrading user able
 * to send the copied state. From v12 creators hold their power by being
 * creators and may not be listed in `users`; into an older version a v12
 * creator needs an explicit level. If the user had to be raised to create
 * the room, `final` restores the old levels afterwards (as Synapse does).
 */
function newPowerLevels(
  old: LoadedRoom,
  powers: RoomPowerLevels,
  userId: string,
  privilegedCreators: boolean,
  additionalCreators: readonly string[],
): { initial: JsonObject; final?: JsonObject } {
  const content: JsonObject = { ...(old.stateEvent('m.room.power_levels')?.content ?? {}) };
  const users: Record<string, JsonValue> = { ...(isObject(content.users) ? content.users : {}) };
  if (privilegedCreators) {
    for (const creator of [userId, ...additionalCreators]) delete users[creator];
    return { initial: { ...content, users } };
  }
  const oldLevel = powers.userPowerLevel(userId);
  const needed = Math.max(100, ...numericLevels(content));
  if (Number.isFinite(oldLevel)) users[userId] = oldLevel;
  else users[userId] = needed; // a v12 creator into an older version
  const final: JsonObject = { ...content, users: { ...users } };
  if ((users[userId] as number) >= needed) return { initial: final };
  return { initial: { ...content, users: { ...users, [userId]: needed } }, final };
}

function numericLevels(content: JsonObject): number[] {
  const levels: number[] = [];
  for (const [key, value] of Object.entries(content)) {
    if (typeof value === 'number') levels.push(value);
    if (key === 'events' && isObject(value)) for (const v of Object.values(value)) if (typeof v === 'number') levels.push(v);
  }
  return levels;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
