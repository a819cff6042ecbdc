// Simplified sliding sync (MSC4186):
// POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync.
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { ListFilters, ListRequest, RoomConfig, SlidingSyncService } from '../../services/sync/sliding-sync.js';
import { badJson } from '../../core/errors.js';
import type { Route } from '../types.js';
import { isJsonObject, optionalBoolean, optionalInteger, optionalObject, optionalString, queryInteger, queryString, requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export const SLIDING_SYNC_UNSTABLE_FEATURE = 'org.matrix.simplified_msc3575';
const DEFAULT_TIMELINE_LIMIT = 10;

export function slidingSyncRoutes(slidingSync: SlidingSyncService): Route[] {
  return [
    /** # POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync */
    {
      method: 'POST',
      path: `/_matrix/client/unstable/${SLIDING_SYNC_UNSTABLE_FEATURE}/sync`,
      auth: 'required',
      handler: async (req) => {
        const { userId, deviceId } = requesterOf(req);
        const body = requireObject(req.body ?? {});
        const extensions = optionalObject(body, 'extensions') ?? {};
        const enabled = (name: string) => {
          const ext = optionalObject(extensions, name);
          return ext !== undefined && optionalBoolean(ext, 'enabled') === true;
        };
        const result = await slidingSync.sync({
          userId,
          deviceId,
          connId: optionalString(body, 'conn_id') ?? '',
          pos: queryString(req.query, 'pos') || undefined,
          timeoutMs: queryInteger(req.query, 'timeout', { min: 0 }) ?? 0,
          lists: parseLists(optionalObject(body, 'lists') ?? {}),
          roomSubscriptions: parseSubscriptions(optionalObject(body, 'room_subscriptions') ?? {}),
          extensions: {
            accountData: enabled('account_data'),
            receipts: enabled('receipts'),
            typing: enabled('typing'),
            toDevice: toDeviceExtension(optionalObject(extensions, 'to_device')),
            e2ee: enabled('e2ee'),
          },
          signal: req.signal,
        });
        return { body: result };
      },
    },
  ];
}

function parseLists(lists: JsonObject): Map<string, ListRequest> {
  const out = new Map<string, ListRequest>();
  for (const [name, value] of Object.entries(lists)) {
    if (!isJsonObject(value)) throw badJson(`'lists.${name}' must be an object`);
    out.set(name, {
      ...roomConfig(value, `lists.${name}`),
      ranges: parseRanges(value.ranges, `lists.${name}.ranges`),
      filters: parseFilters(optionalObject(value, 'filters') ?? {}, `lists.${name}.filters`),
    });
  }
  return out;
}

/** MSC4186 list filters; `null` for a field means the filter is absent, as for every optional field. */
function parseFilters(filters: JsonObject, at: string): ListFilters {
  return {
    isDm: optionalBoolean(filters, 'is_dm'),
    isInvite: optionalBoolean(filters, 'is_invite'),
    isEncrypted: optionalBoolean(filters, 'is_encrypted'),
    roomTypes: roomTypeList(filters, 'room_types', at),
    notRoomTypes: roomTypeList(filters, 'not_room_types', at),
    spaces: stringList(filters, 'spaces', at),
    tags: stringList(filters, 'tags', at),
    notTags: stringList(filters, 'not_tags', at),
  };
}

function stringList(filters: JsonObject, field: string, at: string): string[] | undefined {
  const value = filters[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw badJson(`'${at}.${field}' must be a list of strings`);
  return value as string[];
}

/** Room types are strings, or null for rooms without a type. */
function roomTypeList(filters: JsonObject, field: string, at: string): Array<string | null> | undefined {
  const value = filters[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => v === null || typeof v === 'string')) {
    throw badJson(`'${at}.${field}' must be a list of room types (strings, or null for rooms without a type)`);
  }
  return value as Array<string | null>;
}

function parseSubscriptions(subscriptions: JsonObject): Map<string, RoomConfig> {
  const out = new Map<string, RoomConfig>();
  for (const [roomId, value] of Object.entries(subscriptions)) {
    if (!isJsonObject(value)) throw badJson(`'room_subscriptions.${roomId}' must be an object`);
    out.set(roomId, roomConfig(value, `room_subscriptions.${roomId}`));
  }
  return out;
}

function roomConfig(obj: JsonObject, at: string): RoomConfig {
  const required = obj.required_state ?? [];
  if (!Array.isArray(required) || !required.every(isPair)) throw badJson(`'${at}.required_state' must be a list of [event type, state key] pairs`);
  return {
    requiredState: required as [string, string][],
    timelineLimit: optionalInteger(obj, 'timeline_limit', { min: 0 }) ?? DEFAULT_TIMELINE_LIMIT,
  };
}

function isPair(value: JsonValue): boolean {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string';
}

function parseRanges(value: JsonValue | undefined, at: string): [number, number][] {
  if (value === undefined) return [[0, Number.MAX_SAFE_INTEGER]];
  const ok =
    Array.isArray(value) &&
    value.every((r) => Array.isArray(r) && r.length === 2 && r.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) && (r[0] as number) <= (r[1] as number));
  if (!ok) throw badJson(`'${at}' must be a list of [start, end] index pairs with start <= end`);
  return value as [number, number][];
}

/** The to_device extension: `since` is the next_batch it last returned, `limit` caps the batch. */
function toDeviceExtension(ext: JsonObject | undefined): { since?: string; limit: number } | undefined {
  if (ext === undefined || optionalBoolean(ext, 'enabled') !== true) return undefined;
  return { since: optionalString(ext, 'since'), limit: optionalInteger(ext, 'limit', { min: 1, max: 1000 }) ?? 100 };
}
