// m.room.power_levels as the protocol core reads it: the spec's defaults for
// missing keys and missing events (client-server-api m.room.power_levels;
// server-server-api "Definitions"), the room-version differences in how values
// may be written (rooms/fragments/v1-stringy-power-levels.md,
// v1-floaty-power-levels.md, rooms/v10.md), and v12's infinitely powerful
// room creators (rooms/v12.md).

import type { Event, JsonObject, JsonValue } from './types.js';
import type { RoomVersionRules } from './room-versions.js';

/** Defaults for keys an m.room.power_levels event leaves out (or when there is no such event). */
export const POWER_LEVEL_DEFAULTS = {
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
} as const;

/**
 * `notifications.room` (the level to send an @room notification) defaults to
 * 50. The spec defines no other key; they take the same default.
 */
export const DEFAULT_NOTIFICATION_LEVEL = 50;

/** In room versions 1–11 the creator has this level while the room has no power levels event. */
export const CREATOR_LEVEL_WITHOUT_POWER_LEVELS = 100;

/** The single-valued keys of power levels content, compared one by one when they change. */
export const LEVEL_KEYS = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const;
export type LevelKey = (typeof LEVEL_KEYS)[number];

/** The values an m.room.power_levels content states explicitly, before any default applies. */
export interface PowerLevelsContent {
  levels: Partial<Record<LevelKey, number>>;
  users: ReadonlyMap<string, number>;
  events: ReadonlyMap<string, number>;
  notifications: ReadonlyMap<string, number>;
}

export interface ParsedPowerLevels {
  /** The well-formed values; malformed ones are left out so their defaults apply. */
  content: PowerLevelsContent;
  /** One sentence per malformed value. The auth rules reject a new event that has any. */
  problems: string[];
}

const STRINGY_INTEGER = /^\s*[+-]?\d+\s*$/;

/**
 * One power level value as the room version allows it to be written, or
 * undefined when it is malformed. v1–9 accept integer strings (" +0100 ");
 * v1–5, which do not enforce canonical JSON, also accept floats, truncated
 * toward zero. v10+ accept JSON integers only.
 */
export function parsePowerLevelValue(value: JsonValue | undefined, rules: RoomVersionRules): number | undefined {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      return rules.strictCanonicalJson && !Number.isSafeInteger(value) ? undefined : value;
    }
    if (rules.strictCanonicalJson || !Number.isFinite(value)) return undefined;
    return Math.trunc(value);
  }
  if (typeof value === 'string' && !rules.integerPowerLevels && STRINGY_INTEGER.test(value)) {
    const parsed = Number(value.trim());
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/**
 * A user ID as auth rules accept it: `@localpart:server`, where historical
 * localparts may hold any character except `:` and NUL, even none
 * (appendices "Historical User IDs"), at most 255 bytes in all.
 */
export function isValidUserIdForAuth(userId: string): boolean {
  return /^@[^:\u0000]*:[^\u0000]+$/.test(userId) && Buffer.byteLength(userId, 'utf8') <= 255;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: JsonValue): string {
  return JSON.stringify(value);
}

function parseLevelMap(
  content: JsonObject,
  key: 'users' | 'events' | 'notifications',
  rules: RoomVersionRules,
  problems: string[],
): Map<string, number> {
  const map = new Map<string, number>();
  const raw = content[key];
  if (raw === undefined) return map;
  if (!isObject(raw)) {
    problems.push(`"${key}" must be an object, not ${describe(raw)}.`);
    return map;
  }
  for (const [name, value] of Object.entries(raw)) {
    if (key === 'users' && !isValidUserIdForAuth(name)) {
      problems.push(`"users" has a key that is not a valid user ID: ${JSON.stringify(name)}.`);
      continue;
    }
    const level = parsePowerLevelValue(value, rules);
    if (level === undefined) {
      problems.push(`"${key}.${name}" is not a valid power level in room version ${rules.id}: ${describe(value)}.`);
      continue;
    }
    map.set(name, level);
  }
  return map;
}

/** Reads power levels content, keeping what is well formed and naming what is not. */
export function parsePowerLevelsContent(content: JsonObject, rules: RoomVersionRules): ParsedPowerLevels {
  const problems: string[] = [];
  const levels: Partial<Record<LevelKey, number>> = {};
  for (const key of LEVEL_KEYS) {
    const raw = content[key];
    if (raw === undefined) continue;
    const level = parsePowerLevelValue(raw, rules);
    if (level === undefined) {
      problems.push(`"${key}" is not a valid power level in room version ${rules.id}: ${describe(raw)}.`);
    } else {
      levels[key] = level;
    }
  }
  const users = parseLevelMap(content, 'users', rules, problems);
  const events = parseLevelMap(content, 'events', rules, problems);
  const notifications = parseLevelMap(content, 'notifications', rules, problems);
  return { content: { levels, users, events, notifications }, problems };
}

/**
 * The room's creators: in v12 the create event's sender plus its
 * `additional_creators`; in v11 its sender; before that `content.creator`.
 */
export function roomCreators(createEvent: Pick<Event, 'sender' | 'content'> | undefined, rules: RoomVersionRules): string[] {
  if (!createEvent) return [];
  if (rules.privilegedCreators) {
    const additional = createEvent.content['additional_creators'];
    const extra = Array.isArray(additional)
      ? additional.filter((id): id is string => typeof id === 'string')
      : [];
    return [createEvent.sender, ...extra.filter((id) => id !== createEvent.sender)];
  }
  if (rules.implicitRoomCreator) return [createEvent.sender];
  const creator = createEvent.content['creator'];
  return typeof creator === 'string' ? [creator] : [];
}

/**
 * The effective power levels of a room: what its m.room.power_levels event
 * says, with the spec's defaults, and with the room creators' special power.
 * Levels are numbers; v12 creators have `Infinity`, which is above any level
 * an event can state.
 */
export class RoomPowerLevels {
  private constructor(
    /** The explicitly stated values, or undefined when the room has no power levels event. */
    readonly stated: PowerLevelsContent | undefined,
    private readonly creators: ReadonlySet<string>,
    private readonly creatorsAreInfinite: boolean,
  ) {}

  /** From the room's current m.room.power_levels and m.room.create events (either may be missing). */
  static fromEvents(
    powerLevelsEvent: Pick<Event, 'content'> | undefined,
    createEvent: Pick<Event, 'sender' | 'content'> | undefined,
    rules: RoomVersionRules,
  ): RoomPowerLevels {
    const stated = powerLevelsEvent ? parsePowerLevelsContent(powerLevelsEvent.content, rules).content : undefined;
    return new RoomPowerLevels(stated, new Set(roomCreators(createEvent, rules)), rules.privilegedCreators);
  }

  get hasPowerLevelsEvent(): boolean {
    return this.stated !== undefined;
  }

  isCreator(userId: string): boolean {
    return this.creators.has(userId);
  }

  level(key: LevelKey): number {
    return this.stated?.levels[key] ?? POWER_LEVEL_DEFAULTS[key];
  }

  userPowerLevel(userId: string): number {
    if (this.creatorsAreInfinite && this.creators.has(userId)) return Infinity;
    if (!this.stated) {
      return this.creators.has(userId) ? CREATOR_LEVEL_WITHOUT_POWER_LEVELS : POWER_LEVEL_DEFAULTS.users_default;
    }
    return this.stated.users.get(userId) ?? this.level('users_default');
  }

  /** The level needed to send an event of `type` ("required power level", server-server-api). */
  requiredPowerForEvent(type: string, isState: boolean): number {
    return this.stated?.events.get(type) ?? this.level(isState ? 'state_default' : 'events_default');
  }

  notificationLevel(key: string): number {
    return this.stated?.notifications.get(key) ?? DEFAULT_NOTIFICATION_LEVEL;
  }

  canSendEvent(userId: string, type: string, isState: boolean): boolean {
    return this.userPowerLevel(userId) >= this.requiredPowerForEvent(type, isState);
  }

  canInvite(userId: string): boolean {
    return this.userPowerLevel(userId) >= this.level('invite');
  }

  /** Kicking needs the kick level and strictly more power than the target. */
  canKick(senderId: string, targetId: string): boolean {
    const sender = this.userPowerLevel(senderId);
    return sender >= this.level('kick') && this.userPowerLevel(targetId) < sender;
  }

  /** Banning needs the ban level and strictly more power than the target. */
  canBan(senderId: string, targetId: string): boolean {
    const sender = this.userPowerLevel(senderId);
    return sender >= this.level('ban') && this.userPowerLevel(targetId) < sender;
  }

  /** Unbanning is a leave sent by someone else: it needs both the kick and the ban level. */
  canUnban(senderId: string, targetId: string): boolean {
    return this.canKick(senderId, targetId) && this.userPowerLevel(senderId) >= this.level('ban');
  }

  /** Redacting someone else's event needs the redact level as well as the right to send m.room.redaction. */
  canRedactOthersEvents(userId: string): boolean {
    return this.canSendEvent(userId, 'm.room.redaction', false) && this.userPowerLevel(userId) >= this.level('redact');
  }

  canTriggerNotification(userId: string, key: string): boolean {
    return this.userPowerLevel(userId) >= this.notificationLevel(key);
  }
}

function changedEntries(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Array<{ key: string; before: number | undefined; after: number | undefined }> {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys]
    .map((key) => ({ key, before: before.get(key), after: after.get(key) }))
    .filter((entry) => entry.before !== entry.after);
}

function formatLevel(level: number): string {
  return level === Infinity ? 'infinite (room creator)' : String(level);
}

/**
 * The "compare old and new" part of the m.room.power_levels auth rule: a
 * sender may only touch values at or below their own level, and may not
 * change other users at or above it. Returns why the change is denied, or
 * undefined when it is allowed. Added and removed values count as changes;
 * only values actually stated are compared.
 */
export function powerLevelsChangeDenial(
  senderId: string,
  senderLevel: number,
  before: PowerLevelsContent,
  after: PowerLevelsContent,
  rules: RoomVersionRules,
): string | undefined {
  const own = formatLevel(senderLevel);
  for (const key of LEVEL_KEYS) {
    const old = before.levels[key];
    const next = after.levels[key];
    if (old === next) continue;
    if (old !== undefined && old > senderLevel) {
      return `${senderId} cannot change "${key}" from ${old}: it is above their power level ${own}.`;
    }
    if (next !== undefined && next > senderLevel) {
      return `${senderId} cannot set "${key}" to ${next}: it is above their power level ${own}.`;
    }
  }
  const maps: Array<'events' | 'notifications'> = rules.limitNotificationsPowerLevels
    ? ['events', 'notifications']
    : ['events'];
  for (const map of maps) {
    for (const entry of changedEntries(before[map], after[map])) {
      if (entry.before !== undefined && entry.before > senderLevel) {
        return `${senderId} cannot change "${map}.${entry.key}" from ${entry.before}: it is above their power level ${own}.`;
      }
      if (entry.after !== undefined && entry.after > senderLevel) {
        return `${senderId} cannot set "${map}.${entry.key}" to ${entry.after}: it is above their power level ${own}.`;
      }
    }
  }
  for (const entry of changedEntries(before.users, after.users)) {
    if (entry.key !== senderId && entry.before !== undefined && entry.before >= senderLevel) {
      return `${senderId} cannot change the power level of ${entry.key} (${entry.before}): only users below their own level ${own} can be changed.`;
    }
    if (entry.after !== undefined && entry.after > senderLevel) {
      return `${senderId} cannot give ${entry.key} power level ${entry.after}: it is above their own level ${own}.`;
    }
  }
  return undefined;
}
