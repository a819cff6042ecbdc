// The authorisation rules of room versions 1–12 (rooms/fragments/v1-auth-rules.md,
// v3-auth-rules.md, v8-auth-rules.md, and the rules listed on rooms/v6, v7,
// v10, v11 and v12). One function serves every version: the differences are
// read from RoomVersionRules flags. The step numbers in comments are those of
// room version 10's list unless said otherwise.

import type { Event, JsonObject, JsonValue } from './types.js';
import { tryDecodeBase64 } from './base64.js';
import { roomVersion, type RoomVersionRules } from './room-versions.js';
import { verifyJsonSignature } from './signing.js';
import {
  ALLOWED,
  createEventRoomId,
  deny,
  referencedEventIds,
  type AuthDecision,
  type AuthStateLookup,
} from './auth-events.js';
import {
  RoomPowerLevels,
  isValidUserIdForAuth,
  parsePowerLevelsContent,
  powerLevelsChangeDenial,
  roomCreators,
} from './power-levels.js';

export {
  authEventKeys,
  authStateFromEvents,
  checkAuthEventsList,
  type AuthDecision,
  type AuthEventsListOptions,
  type AuthStateLookup,
} from './auth-events.js';

/** Checks the core cannot do itself because they need keys and signatures. */
export interface AuthCheckOptions {
  /**
   * Whether the `signed` object of a third-party invite carries a valid
   * ed25519 signature by `publicKey` (unpadded base64, as found in the
   * m.room.third_party_invite event). Default: `isSignedByPublicKey`.
   */
  verifyThirdPartyInviteSignature?: (signed: JsonObject, publicKey: string) => boolean;
  /**
   * Whether `event` is validly signed by `serverName` — the server of
   * `join_authorised_via_users_server` (v8+). Without it, that signature is
   * taken to have been verified with the event's other signatures on receipt.
   */
  isSignedByServer?: (event: Event, serverName: string) => boolean;
}

/**
 * Checks `event` against the room state given by `authState` (the event's
 * auth events, or the state before it, or the current state for soft-fail
 * checks, or partially resolved state during state resolution). The lookup
 * must only return accepted (not rejected) events, and must return the
 * room's create event — in v12 too, where auth_events no longer list it
 * because the room ID names it. `reason` is a sentence a person understands.
 */
export function checkEventAuth(
  event: Event,
  rules: RoomVersionRules,
  authState: AuthStateLookup,
  options: AuthCheckOptions = {},
): AuthDecision {
  if (event.type === 'm.room.create') return checkCreate(event, rules);

  const create = authState('m.room.create', '');
  if (!create) return deny(`There is no m.room.create event in the state ${event.event_id} is checked against.`);
  const roomMismatch = checkSameRoom(event, create, rules);
  if (roomMismatch) return roomMismatch;

  if (create.content['m.federate'] === false && serverName(event.sender) !== serverName(create.sender)) {
    return deny(`This room does not federate, so ${event.sender} (from another server than its creator) cannot send to it.`);
  }

  if (rules.specialCaseAliasesAuth && event.type === 'm.room.aliases') return checkAliases(event);

  const ctx: Context = {
    event,
    rules,
    authState,
    options,
    create,
    powerLevels: RoomPowerLevels.fromEvents(authState('m.room.power_levels', ''), create, rules),
  };

  if (event.type === 'm.room.member') return checkMember(ctx);

  if (membershipOf(ctx, event.sender) !== 'join') {
    return deny(`${event.sender} is not joined to the room, so cannot send events to it.`);
  }

  const senderLevel = ctx.powerLevels.userPowerLevel(event.sender);
  if (event.type === 'm.room.third_party_invite') {
    return senderLevel >= ctx.powerLevels.level('invite')
      ? ALLOWED
      : deny(`${event.sender} needs power level ${ctx.powerLevels.level('invite')} to invite, but has ${levelText(senderLevel)}.`);
  }

  const isState = event.state_key !== undefined;
  const required = ctx.powerLevels.requiredPowerForEvent(event.type, isState);
  if (required > senderLevel) {
    return deny(`${event.sender} needs power level ${required} to send ${event.type} events, but has ${levelText(senderLevel)}.`);
  }

  if (event.state_key !== undefined && event.state_key.startsWith('@') && event.state_key !== event.sender) {
    return deny(`The state key ${event.state_key} is a user ID other than the sender's; only that user can set it.`);
  }

  if (event.type === 'm.room.power_levels') return checkPowerLevels(ctx, senderLevel);

  // v1–2 only; the redaction rule was dropped when event IDs lost their server
  // part (rooms/v3.md), which is what the rule compares.
  if (event.type === 'm.room.redaction' && rules.eventIdFormat === 'server') return checkRedactionV1(ctx, senderLevel);

  return ALLOWED;
}

interface Context {
  event: Event;
  rules: RoomVersionRules;
  authState: AuthStateLookup;
  options: AuthCheckOptions;
  create: Event;
  powerLevels: RoomPowerLevels;
}

/** The server name part of a user, room (v1–11) or event (v1–2) ID. */
function serverName(id: string): string {
  const colon = id.indexOf(':');
  return colon === -1 ? '' : id.slice(colon + 1);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function levelText(level: number): string {
  return level === Infinity ? 'infinite power (room creator)' : `power level ${level}`;
}

function membershipOf(ctx: Context, userId: string): string | undefined {
  const membership = ctx.authState('m.room.member', userId)?.content['membership'];
  return typeof membership === 'string' ? membership : undefined;
}

// Rule 1: the create event is checked on its own.
function checkCreate(event: Event, rules: RoomVersionRules): AuthDecision {
  if (event.prev_events.length > 0) return deny('The m.room.create event must not have prev_events.');
  if (rules.roomIdIsCreateEventHash) {
    // v12 rule 1.2. A PDU must not carry room_id; the core's Event fills it in
    // from the event ID, so only a differing room_id can be told apart here.
    // The PDU format check must reject a carried room_id.
    if (event.room_id && event.room_id !== createEventRoomId(event)) {
      return deny(`The m.room.create event must not have a room_id in room version ${rules.id}; its room ID is derived from its event ID.`);
    }
  } else if (serverName(event.room_id) !== serverName(event.sender)) {
    return deny(`The room ID ${event.room_id} is not on the server of its creator ${event.sender}.`);
  }
  const version = event.content['room_version'];
  if (version !== undefined && (typeof version !== 'string' || !roomVersion(version))) {
    return deny(`The m.room.create event names room version ${JSON.stringify(version)}, which is not recognised.`);
  }
  if (rules.privilegedCreators) {
    const additional = event.content['additional_creators'];
    if (additional !== undefined && !(Array.isArray(additional) && additional.every(isUserId))) {
      return deny('additional_creators in the m.room.create event must be an array of valid user IDs.');
    }
  }
  if (!rules.implicitRoomCreator && event.content['creator'] === undefined) {
    return deny(`The m.room.create event has no "creator", which room version ${rules.id} requires.`);
  }
  return ALLOWED;
}

function isUserId(value: JsonValue): boolean {
  return typeof value === 'string' && isValidUserIdForAuth(value);
}

// v1–11 rule 2.5 compares room IDs; v12 rule 2: the room ID must name the create event.
function checkSameRoom(event: Event, create: Event, rules: RoomVersionRules): AuthDecision | undefined {
  if (rules.roomIdIsCreateEventHash) {
    if (event.room_id !== createEventRoomId(create)) {
      return deny(`The room ID ${event.room_id} does not name the room's create event ${create.event_id}.`);
    }
  } else if (create.room_id !== event.room_id) {
    return deny(`The m.room.create event belongs to room ${create.room_id}, not ${event.room_id}.`);
  }
  return undefined;
}

// v1–5 rule 4: a server may always publish its own aliases, even without being in the room.
function checkAliases(event: Event): AuthDecision {
  if (event.state_key === undefined) return deny('An m.room.aliases event must have a state key.');
  const domain = serverName(event.sender);
  return event.state_key === domain
    ? ALLOWED
    : deny(`${event.sender} may only set m.room.aliases for their own server ${domain}, not ${event.state_key}.`);
}

function checkMember(ctx: Context): AuthDecision {
  const { event, rules } = ctx;
  const membership = event.content['membership'];
  if (event.state_key === undefined) return deny('An m.room.member event must have a state key.');
  if (typeof membership !== 'string') return deny('An m.room.member event must have a "membership" in its content.');

  const authoriser = event.content['join_authorised_via_users_server'];
  if (rules.restrictedJoinRule && authoriser !== undefined && ctx.options.isSignedByServer) {
    const server = typeof authoriser === 'string' ? serverName(authoriser) : '';
    if (!server || !ctx.options.isSignedByServer(event, server)) {
      return deny(`The membership event is not signed by the server of join_authorised_via_users_server (${JSON.stringify(authoriser)}).`);
    }
  }

  switch (membership) {
    case 'join':
      return checkJoin(ctx, event.state_key);
    case 'invite':
      return checkInvite(ctx, event.state_key);
    case 'leave':
      return checkLeave(ctx, event.state_key);
    case 'ban':
      return checkBan(ctx, event.state_key);
    case 'knock':
      if (rules.knockJoinRule) return checkKnock(ctx, event.state_key);
      return deny(`Knocking is not supported in room version ${rules.id}.`);
    default:
      return deny(`Unknown membership ${JSON.stringify(membership)}.`);
  }
}

function joinRuleOf(ctx: Context): string {
  const rule = ctx.authState('m.room.join_rules', '')?.content['join_rule'];
  // Without a join rules event a room is invite-only, as in Synapse, Dendrite and ruma.
  return typeof rule === 'string' ? rule : 'invite';
}

function isCreatorFirstJoin(ctx: Context, target: string): boolean {
  const prev = referencedEventIds(ctx.event.prev_events);
  if (prev.length !== 1 || prev[0] !== ctx.create.event_id) return false;
  // v11+: "the sender of the m.room.create"; before: its content.creator.
  const creator = ctx.rules.implicitRoomCreator ? ctx.create.sender : roomCreators(ctx.create, ctx.rules)[0];
  return creator === target;
}

function checkJoin(ctx: Context, target: string): AuthDecision {
  const { event, rules } = ctx;
  if (isCreatorFirstJoin(ctx, target)) return ALLOWED;
  if (event.sender !== target) return deny(`${event.sender} cannot join the room on behalf of ${target}.`);
  const current = membershipOf(ctx, target);
  if (current === 'ban') return deny(`${target} is banned from this room.`);

  const joinRule = joinRuleOf(ctx);
  const invitedOrJoined = current === 'invite' || current === 'join';
  if (joinRule === 'invite' || (joinRule === 'knock' && rules.knockJoinRule)) {
    return invitedOrJoined ? ALLOWED : deny(`${target} cannot join: the room is ${joinRule}-only and they have not been invited.`);
  }
  if ((joinRule === 'restricted' && rules.restrictedJoinRule) || (joinRule === 'knock_restricted' && rules.knockRestrictedJoinRule)) {
    return invitedOrJoined ? ALLOWED : checkAuthorisedJoin(ctx, target);
  }
  if (joinRule === 'public') return ALLOWED;
  return deny(`${target} cannot join: the join rule ${JSON.stringify(joinRule)} does not allow joining in room version ${rules.id}.`);
}

// v8+ restricted rooms: a resident user who may invite vouches for the join.
function checkAuthorisedJoin(ctx: Context, target: string): AuthDecision {
  const authoriser = ctx.event.content['join_authorised_via_users_server'];
  if (typeof authoriser !== 'string') {
    return deny(`${target} cannot join this restricted room without an invite or a join_authorised_via_users_server.`);
  }
  if (membershipOf(ctx, authoriser) !== 'join') {
    return deny(`${authoriser} cannot authorise ${target}'s join: they are not joined to the room.`);
  }
  if (!ctx.powerLevels.canInvite(authoriser)) {
    return deny(`${authoriser} cannot authorise ${target}'s join: they do not have the power to invite.`);
  }
  return ALLOWED;
}

function checkInvite(ctx: Context, target: string): AuthDecision {
  const { event } = ctx;
  if (event.content['third_party_invite'] !== undefined) return checkThirdPartyInvite(ctx, target);
  if (membershipOf(ctx, event.sender) !== 'join') return deny(`${event.sender} cannot invite: they are not joined to the room.`);
  const current = membershipOf(ctx, target);
  if (current === 'join') return deny(`${target} is already joined to this room.`);
  if (current === 'ban') return deny(`${target} is banned from this room.`);
  const level = ctx.powerLevels.userPowerLevel(event.sender);
  const needed = ctx.powerLevels.level('invite');
  return level >= needed ? ALLOWED : deny(`${event.sender} needs power level ${needed} to invite, but has ${levelText(level)}.`);
}

function checkThirdPartyInvite(ctx: Context, target: string): AuthDecision {
  const { event } = ctx;
  if (membershipOf(ctx, target) === 'ban') return deny(`${target} is banned from this room.`);
  const invite = event.content['third_party_invite'];
  const signed = isObject(invite) ? invite['signed'] : undefined;
  if (!isObject(signed)) return deny('third_party_invite has no "signed" object.');
  const { mxid, token } = signed;
  if (typeof mxid !== 'string' || typeof token !== 'string') {
    return deny('third_party_invite.signed must have "mxid" and "token" strings.');
  }
  if (mxid !== target) return deny(`The third-party invite was signed for ${mxid}, not ${target}.`);
  const inviteEvent = ctx.authState('m.room.third_party_invite', token);
  if (!inviteEvent) return deny(`There is no m.room.third_party_invite event for token ${JSON.stringify(token)}.`);
  if (inviteEvent.sender !== event.sender) {
    return deny(`Only ${inviteEvent.sender}, who sent the third-party invite, can turn it into an invite; not ${event.sender}.`);
  }
  if (!isObject(signed['signatures'])) return deny('third_party_invite.signed has no signatures.');
  const verify = ctx.options.verifyThirdPartyInviteSignature ?? isSignedByPublicKey;
  const keys = thirdPartyInviteKeys(inviteEvent.content);
  return keys.some((key) => verify(signed, key.publicKey))
    ? ALLOWED
    : deny(`The third-party invite for ${target} is not signed by any key of the m.room.third_party_invite event.`);
}

/**
 * Whether any ed25519 signature in `signed` (of any signing server, under
 * any key ID) verifies with `publicKey`: the identity server's key is known
 * only by its value in the m.room.third_party_invite event, not by an ID
 * (rooms/v1 auth rules: "any signature in signed matches any public key").
 */
export function isSignedByPublicKey(signed: JsonObject, publicKey: string): boolean {
  const key = tryDecodeBase64(publicKey);
  const signatures = signed['signatures'];
  if (key === null || !isObject(signatures)) return false;
  return Object.entries(signatures).some(
    ([server, byKey]) => isObject(byKey) && Object.keys(byKey).some((keyId) => verifyJsonSignature(signed, server, keyId, key)),
  );
}

/**
 * The public keys of an m.room.third_party_invite with their validity URLs:
 * `public_key` (with `key_validity_url`), then each of `public_keys`.
 */
export function thirdPartyInviteKeys(content: JsonObject): Array<{ publicKey: string; keyValidityUrl?: string }> {
  const keys: Array<{ publicKey: string; keyValidityUrl?: string }> = [];
  const add = (key: JsonValue | undefined, url: JsonValue | undefined): void => {
    if (typeof key === 'string') keys.push({ publicKey: key, ...(typeof url === 'string' ? { keyValidityUrl: url } : {}) });
  };
  add(content['public_key'], content['key_validity_url']);
  const list = content['public_keys'];
  for (const entry of Array.isArray(list) ? list : []) {
    if (isObject(entry)) add(entry['public_key'], entry['key_validity_url']);
  }
  return keys;
}

function checkLeave(ctx: Context, target: string): AuthDecision {
  const { event, rules, powerLevels } = ctx;
  const current = membershipOf(ctx, target);
  if (event.sender === target) {
    const canLeave = current === 'invite' || current === 'join' || (current === 'knock' && rules.knockJoinRule);
    return canLeave ? ALLOWED : deny(`${target} cannot leave: they are not invited to, joined to${rules.knockJoinRule ? ' or knocking on' : ''} the room.`);
  }
  if (membershipOf(ctx, event.sender) !== 'join') return deny(`${event.sender} cannot kick: they are not joined to the room.`);
  const senderLevel = powerLevels.userPowerLevel(event.sender);
  if (current === 'ban' && senderLevel < powerLevels.level('ban')) {
    return deny(`${event.sender} needs power level ${powerLevels.level('ban')} to unban ${target}, but has ${levelText(senderLevel)}.`);
  }
  if (senderLevel < powerLevels.level('kick')) {
    return deny(`${event.sender} needs power level ${powerLevels.level('kick')} to kick, but has ${levelText(senderLevel)}.`);
  }
  const targetLevel = powerLevels.userPowerLevel(target);
  return targetLevel < senderLevel
    ? ALLOWED
    : deny(`${event.sender} cannot kick ${target}, whose ${levelText(targetLevel)} is not below their own ${levelText(senderLevel)}.`);
}

function checkBan(ctx: Context, target: string): AuthDecision {
  const { event, powerLevels } = ctx;
  if (membershipOf(ctx, event.sender) !== 'join') return deny(`${event.sender} cannot ban: they are not joined to the room.`);
  const senderLevel = powerLevels.userPowerLevel(event.sender);
  if (senderLevel < powerLevels.level('ban')) {
    return deny(`${event.sender} needs power level ${powerLevels.level('ban')} to ban, but has ${levelText(senderLevel)}.`);
  }
  const targetLevel = powerLevels.userPowerLevel(target);
  return targetLevel < senderLevel
    ? ALLOWED
    : deny(`${event.sender} cannot ban ${target}, whose ${levelText(targetLevel)} is not below their own ${levelText(senderLevel)}.`);
}

function checkKnock(ctx: Context, target: string): AuthDecision {
  const { event, rules } = ctx;
  const joinRule = joinRuleOf(ctx);
  if (joinRule !== 'knock' && !(joinRule === 'knock_restricted' && rules.knockRestrictedJoinRule)) {
    return deny(`${target} cannot knock: the room's join rule is ${JSON.stringify(joinRule)}, not knock.`);
  }
  if (event.sender !== target) return deny(`${event.sender} cannot knock on behalf of ${target}.`);
  const current = membershipOf(ctx, target);
  if (current === 'ban') return deny(`${target} is banned from this room.`);
  if (current === 'invite' || current === 'join') return deny(`${target} cannot knock: they are already ${current === 'join' ? 'joined' : 'invited'}.`);
  return ALLOWED;
}

function checkPowerLevels(ctx: Context, senderLevel: number): AuthDecision {
  const { event, rules } = ctx;
  const parsed = parsePowerLevelsContent(event.content, rules);
  const [problem] = parsed.problems;
  if (problem !== undefined) return deny(`Invalid m.room.power_levels: ${problem}`);
  if (rules.privilegedCreators) {
    const listed = roomCreators(ctx.create, rules).find((creator) => parsed.content.users.has(creator));
    if (listed) return deny(`Room creator ${listed} cannot be listed in the power levels' users: creators have infinite power.`);
  }
  const previous = ctx.authState('m.room.power_levels', '');
  if (!previous) return ALLOWED;
  const before = parsePowerLevelsContent(previous.content, rules).content;
  const denial = powerLevelsChangeDenial(event.sender, senderLevel, before, parsed.content, rules);
  return denial === undefined ? ALLOWED : deny(denial);
}

// v1–2 rule 11: redacting needs the redact level, unless the redacted event
// comes from the redacting server (both event IDs name the same server).
function checkRedactionV1(ctx: Context, senderLevel: number): AuthDecision {
  const { event, powerLevels } = ctx;
  if (senderLevel >= powerLevels.level('redact')) return ALLOWED;
  const redacts = event.redacts;
  if (typeof redacts === 'string' && serverName(redacts) === serverName(event.event_id)) return ALLOWED;
  return deny(`${event.sender} needs power level ${powerLevels.level('redact')} to redact events from other servers, but has ${levelText(senderLevel)}.`);
}
