// Server-side search (client-server-api/modules/search.md; search.yaml).
import type { JsonObject } from '../../core/types.js';
import { parseRoomEventFilter } from '../../services/filters/index.js';
import { SEARCH_KEYS, type RoomEventsCriteria, type SearchService } from '../../services/search/index.js';
import type { SearchKey } from '../../storage/search.js';
import { badJson, invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import {
  optionalArray,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalStringArray,
  queryString,
  requireObject,
  requireObjectField,
  requireString,
} from '../validate.js';

/** search.yaml: before_limit and after_limit default to 5. */
const DEFAULT_CONTEXT_LIMIT = 5;
/** Synapse's cap on context around each result. */
const MAX_CONTEXT_LIMIT = 100;

export function searchRoutes(search: SearchService): Route[] {
  return [
    /** # POST /_matrix/client/v3/search */
    {
      method: 'POST',
      path: '/_matrix/client/v3/search',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const categories = requireObjectField(requireObject(req.body), 'search_categories');
        const roomEvents = optionalObject(categories, 'room_events');
        const reader = { userId: req.requester!.userId, deviceId: req.requester!.deviceId };
        const results: JsonObject = {};
        if (roomEvents) results.room_events = await search.searchRoomEvents(reader, parseCriteria(roomEvents), queryString(req.query, 'next_batch'));
        return { body: { search_categories: results } };
      },
    },
  ];
}

function parseCriteria(body: JsonObject): RoomEventsCriteria {
  const keys = optionalStringArray(body, 'keys') ?? (Object.keys(SEARCH_KEYS) as SearchKey[]);
  for (const key of keys) {
    if (!(key in SEARCH_KEYS)) throw invalidParam(`'keys' may contain only ${Object.keys(SEARCH_KEYS).join(', ')}, not '${key}'`);
  }
  const context = optionalObject(body, 'event_context');
  return {
    searchTerm: requireString(body, 'search_term'),
    keys: keys as SearchKey[],
    filter: parseRoomEventFilter(body.filter ?? undefined),
    orderBy: optionalEnum(body, 'order_by', ['rank', 'recent']) ?? 'rank',
    eventContext: context && {
      beforeLimit: optionalInteger(context, 'before_limit', { min: 0, max: MAX_CONTEXT_LIMIT }) ?? DEFAULT_CONTEXT_LIMIT,
      afterLimit: optionalInteger(context, 'after_limit', { min: 0, max: MAX_CONTEXT_LIMIT }) ?? DEFAULT_CONTEXT_LIMIT,
      includeProfile: optionalBoolean(context, 'include_profile') ?? false,
    },
    includeState: optionalBoolean(body, 'include_state') ?? false,
    groupBy: groupBy(optionalObject(body, 'groupings')),
  };
}

function groupBy(groupings: JsonObject | undefined): Array<'room_id' | 'sender'> {
  const list = groupings ? (optionalArray(groupings, 'group_by') ?? []) : [];
  return list.map((group, i) => {
    if (typeof group !== 'object' || group === null || Array.isArray(group)) throw badJson(`'groupings.group_by[${i}]' must be an object`);
    const key = optionalEnum(group, 'key', ['room_id', 'sender']);
    if (key === undefined) throw invalidParam(`'groupings.group_by[${i}].key' must be 'room_id' or 'sender'`);
    return key;
  });
}
