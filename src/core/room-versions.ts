// What differs between room versions 1–12, as data. Each algorithm in the core
// reads the flags it cares about instead of comparing version numbers, so a
// new room version is a new row here (spec: rooms/_index.md and rooms/v*.md).

export interface RoomVersionRules {
  id: string;
  /** 1: event_id carried in the PDU, references as [id, hashes]; 3: string references, IDs are hashes. */
  eventFormat: 1 | 3;
  /** How event IDs look: `$random:server` (v1–2), `$`+base64 (v3), `$`+URL-safe base64 (v4+). */
  eventIdFormat: 'server' | 'base64' | 'urlsafe';
  stateResolution: 1 | 2;
  /** v5+: a signing key must be valid at the event's origin_server_ts. */
  enforceKeyValidity: boolean;
  /** v6+: m.room.aliases has no special auth rule and its content is not kept by redaction. */
  specialCaseAliasesAuth: boolean;
  /** v6+: integers outside ±(2^53−1) and floats are rejected in events. */
  strictCanonicalJson: boolean;
  /** v6+: power_levels.notifications is checked like the other keys. */
  limitNotificationsPowerLevels: boolean;
  /** v7+ */
  knockJoinRule: boolean;
  /** v8+: join_rule `restricted` with `allow`. */
  restrictedJoinRule: boolean;
  /** v9+: redaction keeps content.join_authorised_via_users_server of m.room.member. */
  restrictedJoinRuleFix: boolean;
  /** v10+ */
  knockRestrictedJoinRule: boolean;
  /** v10+: power level values must be JSON integers, never strings. */
  integerPowerLevels: boolean;
  /** v11+: the redaction algorithm of rooms/v11.md (content of create kept whole, etc.). */
  updatedRedactionRules: boolean;
  /** v11+: `redacts` lives in content, not at top level. */
  redactsInContent: boolean;
  /** v11+: the creator is the create event's sender; content.creator is not required. */
  implicitRoomCreator: boolean;
  /** v12: room IDs are `!` + the create event's reference hash; create has no room_id. */
  roomIdIsCreateEventHash: boolean;
  /** v12: creators (sender + additional_creators) have infinite power. */
  privilegedCreators: boolean;
  /** v12: state resolution v2.1 (start from unconflicted state, conflicted subgraph). */
  stateResolutionV21: boolean;
}

const V1: RoomVersionRules = {
  id: '1',
  eventFormat: 1,
  eventIdFormat: 'server',
  stateResolution: 1,
  enforceKeyValidity: false,
  specialCaseAliasesAuth: true,
  strictCanonicalJson: false,
  limitNotificationsPowerLevels: false,
  knockJoinRule: false,
  restrictedJoinRule: false,
  restrictedJoinRuleFix: false,
  knockRestrictedJoinRule: false,
  integerPowerLevels: false,
  updatedRedactionRules: false,
  redactsInContent: false,
  implicitRoomCreator: false,
  roomIdIsCreateEventHash: false,
  privilegedCreators: false,
  stateResolutionV21: false,
};

const V2: RoomVersionRules = { ...V1, id: '2', stateResolution: 2 };
const V3: RoomVersionRules = { ...V2, id: '3', eventFormat: 3, eventIdFormat: 'base64' };
const V4: RoomVersionRules = { ...V3, id: '4', eventIdFormat: 'urlsafe' };
const V5: RoomVersionRules = { ...V4, id: '5', enforceKeyValidity: true };
const V6: RoomVersionRules = {
  ...V5,
  id: '6',
  specialCaseAliasesAuth: false,
  strictCanonicalJson: true,
  limitNotificationsPowerLevels: true,
};
const V7: RoomVersionRules = { ...V6, id: '7', knockJoinRule: true };
const V8: RoomVersionRules = { ...V7, id: '8', restrictedJoinRule: true };
const V9: RoomVersionRules = { ...V8, id: '9', restrictedJoinRuleFix: true };
const V10: RoomVersionRules = { ...V9, id: '10', knockRestrictedJoinRule: true, integerPowerLevels: true };
const V11: RoomVersionRules = {
  ...V10,
  id: '11',
  updatedRedactionRules: true,
  redactsInContent: true,
  implicitRoomCreator: true,
};
const V12: RoomVersionRules = {
  ...V11,
  id: '12',
  roomIdIsCreateEventHash: true,
  privilegedCreators: true,
  stateResolutionV21: true,
};

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersionRules> = new Map(
  [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12].map((v) => [v.id, v]),
);

/** Servers SHOULD use room version 12 for new rooms (rooms/_index.md). */
export const DEFAULT_ROOM_VERSION = '12';

export function roomVersion(id: string): RoomVersionRules | undefined {
  return ROOM_VERSIONS.get(id);
}

/** Room version grammar: 1–32 codepoints of [a-z0-9.-] (rooms/_index.md). */
export function isValidRoomVersionId(id: string): boolean {
  return /^[a-z0-9.-]{1,32}$/.test(id);
}
