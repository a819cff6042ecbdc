// Room upgrades (client-server-api/modules/room_upgrades.md "Server
// behaviour"; room_upgrades.yaml): a new room whose m.room.create names its
// predecessor, the transferable state copied over, local aliases moved, a
// tombstone in the old room, and the old room's power levels restricted.
import { RoomPowerLevels } from '../../core/power-levels.js';
import { roomVersion } from '../../core/room-versions.js';
import { isValidUserId } from '../../core/identifiers.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import { forbidden, invalidParam, MatrixError, notFound } from '../../core/errors.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { EventPipeline } from './event-pipeline.js';
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

export interface UpgradeDeps {
  store: RoomStore;
  pipeline: EventPipeline;
  rooms: RoomService;
  clock: () => number;
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
      const creationContent: JsonObject = { predecessor: { room_id: roomId, event_id: old.extremities[0]!.eventId } };
      const roomType = old.stateEvent('m.room.create')?.content.type;
      if (roomType !== undefined) creationContent.type = roomType;
      if (additionalCreators.length > 0 && rules.privilegedCreators) creationContent.additional_creators = [...additionalCreators];
      const record = await store.rooms.getRoom(roomId);
      const canonicalAlias = old.stateEvent('m.room.canonical_alias');

      const newRoomId = await rooms.createRoom(userId, {
        visibility: record?.isPublic ? 'public' : 'private',
        invite: [],
        roomVersion: rules.id,
        creationContent,
        initialState: transferredState(old, canonicalAlias?.content),
        // public_chat adds no guest_access of its own; join rules and history come from initialState.
        preset: 'public_chat',
        isDirect: false,
        powerLevelContentOverride: initialPowerLevels,
      });
      if (finalPowerLevels) await pipeline.send(newRoomId, { type: 'm.room.power_levels', stateKey: '', sender: userId, content: finalPowerLevels });
      await this.moveAliases(roomId, newRoomId);
      if (record?.isPublic) await store.rooms.setRoomPublic(roomId, false);

      await pipeline.sendInRoom(old, {
        type: 'm.room.tombstone',
        stateKey: '',
        sender: userId,
        content: { body: 'This room has been replaced', replacement_room: newRoomId },
      });
      await this.restrictOldRoom(old, userId, canonicalAlias !== undefined);
      return newRoomId;
    });
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

/** Step 3's state; join rules and history visibility always, so the preset never decides them. */
function transferredState(old: LoadedRoom, canonicalAlias: JsonObject | undefined): Array<{ type: string; stateKey: string; content: JsonObject }> {
  const state: Array<{ type: string; stateKey: string; content: JsonObject }> = [];
  for (const type of TRANSFERRED_STATE) {
    const event = old.stateEvent(type);
    if (event) state.push({ type, stateKey: '', content: event.content });
  }
  if (!old.stateEvent('m.room.join_rules')) state.push({ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'invite' } });
  if (!old.stateEvent('m.room.history_visibility')) state.push({ type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } });
  if (canonicalAlias && Object.keys(canonicalAlias).length > 0) state.push({ type: 'm.room.canonical_alias', stateKey: '', content: canonicalAlias });
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
