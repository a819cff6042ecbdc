// The redaction algorithm of each room version (rooms/fragments/v1-redactions.md,
// v6-redactions.md, v9-redactions.md, v11-redactions.md; v12 keeps v11's).
// Signatures and reference hashes are computed over its output, so it must
// match the spec key for key.

import type { RoomVersionRules } from './room-versions.js';
import type { JsonObject, JsonValue } from './types.js';

/** Any event-shaped object; PDU and Event both fit. */
export interface EventLike {
  [key: string]: JsonValue | undefined;
}

type RedactionRules = Pick<
  RoomVersionRules,
  'specialCaseAliasesAuth' | 'restrictedJoinRule' | 'restrictedJoinRuleFix' | 'updatedRedactionRules'
>;

const TOP_LEVEL_KEYS = [
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'auth_events',
  'origin_server_ts',
];
/** Kept in room versions 1–10 only; v11 stopped protecting them. */
const PRE_V11_TOP_LEVEL_KEYS = ['prev_state', 'origin', 'membership'];

/**
 * Returns the redacted copy of `event`. Everything outside the version's
 * allow-list goes, `unsigned` included (it is not on any list): callers that
 * serve redacted events to clients add `unsigned.redacted_because` themselves.
 * Every key a PDU requires is on every list, so a PDU stays PDU-shaped.
 */
export function redactEvent<T extends EventLike>(event: T, rules: RedactionRules): T {
  const keep = rules.updatedRedactionRules ? TOP_LEVEL_KEYS : [...TOP_LEVEL_KEYS, ...PRE_V11_TOP_LEVEL_KEYS];
  const redacted: EventLike = {};
  for (const key of keep) {
    if (key !== 'content' && event[key] !== undefined) redacted[key] = event[key];
  }
  const content = event['content'];
  const type = event['type'];
  redacted['content'] = isObject(content) && typeof type === 'string' ? redactContent(type, content, rules) : {};
  return redacted as T;
}

function redactContent(type: string, content: JsonObject, rules: RedactionRules): JsonObject {
  if (type === 'm.room.create' && rules.updatedRedactionRules) return { ...content };
  const kept = pick(content, contentKeysKept(type, rules));
  if (type === 'm.room.member' && rules.updatedRedactionRules) {
    // v11: third_party_invite survives, reduced to its `signed` part, so
    // that the invite's proof can still be checked after redaction.
    const invite = content['third_party_invite'];
    if (isObject(invite)) kept['third_party_invite'] = pick(invite, ['signed']);
  }
  return kept;
}

function contentKeysKept(type: string, rules: RedactionRules): string[] {
  switch (type) {
    case 'm.room.member':
      return rules.restrictedJoinRuleFix ? ['membership', 'join_authorised_via_users_server'] : ['membership'];
    case 'm.room.create':
      return ['creator'];
    case 'm.room.join_rules':
      return rules.restrictedJoinRule ? ['join_rule', 'allow'] : ['join_rule'];
    case 'm.room.power_levels': {
      const keys = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];
      return rules.updatedRedactionRules ? [...keys, 'invite'] : keys;
    }
    case 'm.room.aliases':
      return rules.specialCaseAliasesAuth ? ['aliases'] : [];
    case 'm.room.history_visibility':
      return ['history_visibility'];
    case 'm.room.redaction':
      return rules.updatedRedactionRules ? ['redacts'] : [];
    default:
      return [];
  }
}

function pick(obj: JsonObject, keys: string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) {
    if (Object.prototype.hasOwnProperty.call(obj, key)) out[key] = obj[key]!;
  }
  return out;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
