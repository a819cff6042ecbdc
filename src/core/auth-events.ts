// Which state an event's `auth_events` must come from (server-server-api
// "Auth events selection") and the auth rule that examines the auth_events
// list itself (rule 2 of rooms/v1–v11, rule 3 of rooms/v12).

import type { Event, EventReferenceV1, JsonObject, JsonValue } from './types.js';
import type { RoomVersionRules } from './room-versions.js';

/** The room state an event is checked against: its auth events, the state before it, or the current state. */
export type AuthStateLookup = (type: string, stateKey: string) => Event | undefined;

export type AuthDecision = { allowed: true } | { allowed: false; reason: string };

export const ALLOWED: AuthDecision = { allowed: true };

export function deny(reason: string): AuthDecision {
  return { allowed: false, reason };
}

/** The IDs referenced by `prev_events` or `auth_events`, in either event format. */
export function referencedEventIds(refs: string[] | EventReferenceV1[]): string[] {
  return refs.map((ref) => (typeof ref === 'string' ? ref : ref[0]));
}

/** An AuthStateLookup over a list of events, e.g. an event's auth events. Later events win. */
export function authStateFromEvents(events: Iterable<Event>): AuthStateLookup {
  const byKey = new Map<string, Event>();
  for (const event of events) {
    if (event.state_key !== undefined) byKey.set(`${event.type}\u0000${event.state_key}`, event);
  }
  return (type, stateKey) => byKey.get(`${type}\u0000${stateKey}`);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `content.third_party_invite.signed.token` of an invite, when it is a string. */
export function thirdPartyInviteToken(content: JsonObject): string | undefined {
  const invite = content['third_party_invite'];
  if (!isObject(invite)) return undefined;
  const signed = invite['signed'];
  if (!isObject(signed)) return undefined;
  const token = signed['token'];
  return typeof token === 'string' ? token : undefined;
}

/**
 * The (type, state_key) pairs an event's auth_events should be selected from.
 * The create event has none; from v12 on the create event is never selected,
 * because the room ID names it.
 */
export function authEventKeys(
  event: Pick<Event, 'type' | 'sender' | 'state_key' | 'content'>,
  rules: RoomVersionRules,
): Array<[string, string]> {
  if (event.type === 'm.room.create') return [];
  const keys: Array<[string, string]> = [];
  const add = (type: string, stateKey: string): void => {
    if (!keys.some(([t, s]) => t === type && s === stateKey)) keys.push([type, stateKey]);
  };
  if (!rules.roomIdIsCreateEventHash) add('m.room.create', '');
  add('m.room.power_levels', '');
  add('m.room.member', event.sender);
  if (event.type === 'm.room.member' && event.state_key !== undefined) {
    add('m.room.member', event.state_key);
    const membership = event.content['membership'];
    if (membership === 'join' || membership === 'invite' || membership === 'knock') {
      add('m.room.join_rules', '');
    }
    const token = membership === 'invite' ? thirdPartyInviteToken(event.content) : undefined;
    if (token !== undefined) add('m.room.third_party_invite', token);
    const authoriser = event.content['join_authorised_via_users_server'];
    if (membership === 'join' && rules.restrictedJoinRule && typeof authoriser === 'string') {
      add('m.room.member', authoriser);
    }
  }
  return keys;
}

export interface AuthEventsListOptions {
  /** Whether an event was itself rejected (server-server-api "Rejection"). Without it, none are taken to be. */
  isRejected?: (eventId: string) => boolean;
}

/**
 * The auth rule that examines the auth_events list itself: no duplicate
 * (type, state_key) pairs, nothing outside the selection, nothing rejected,
 * the create event present (v1–11) and every entry from the same room.
 * `authEvents` must be exactly the events that `event.auth_events` references.
 */
export function checkAuthEventsList(
  event: Event,
  authEvents: Event[],
  rules: RoomVersionRules,
  options: AuthEventsListOptions = {},
): AuthDecision {
  // The create event's auth_events are not examined: rule 1 decides it alone.
  if (event.type === 'm.room.create') return ALLOWED;

  const referenced = new Set(referencedEventIds(event.auth_events));
  for (const authEvent of authEvents) {
    if (!referenced.has(authEvent.event_id)) {
      return deny(`${authEvent.event_id} was given as an auth event but ${event.event_id} does not reference it.`);
    }
  }
  const supplied = new Set(authEvents.map((e) => e.event_id));
  for (const id of referenced) {
    if (!supplied.has(id)) return deny(`Auth event ${id} of ${event.event_id} is missing.`);
  }

  const seen = new Set<string>();
  const expected = authEventKeys(event, rules);
  for (const authEvent of authEvents) {
    const stateKey = authEvent.state_key;
    const label = `${authEvent.type} (state_key ${JSON.stringify(stateKey ?? null)})`;
    const key = `${authEvent.type}\u0000${stateKey}`;
    if (seen.has(key)) return deny(`auth_events has more than one ${label} event.`);
    seen.add(key);
    if (stateKey === undefined || !expected.some(([t, s]) => t === authEvent.type && s === stateKey)) {
      const why = authEvent.type === 'm.room.create' && rules.roomIdIsCreateEventHash
        ? ` In room version ${rules.id} the room ID stands for the create event, which must not be listed.`
        : '';
      return deny(`auth_events lists ${label}, which does not give ${event.sender} permission for this event.${why}`);
    }
    if (options.isRejected?.(authEvent.event_id)) {
      return deny(`Auth event ${authEvent.event_id} (${authEvent.type}) was itself rejected.`);
    }
    if (authEvent.room_id !== event.room_id) {
      return deny(`Auth event ${authEvent.event_id} belongs to room ${authEvent.room_id}, not ${event.room_id}.`);
    }
  }
  if (!rules.roomIdIsCreateEventHash && !seen.has('m.room.create\u0000')) {
    return deny('auth_events does not include the m.room.create event.');
  }
  return ALLOWED;
}

/** v12: the room ID of a room is its create event's ID with the sigil `!` instead of `$`. */
export function createEventRoomId(createEvent: Pick<Event, 'event_id'>): string {
  return `!${createEvent.event_id.slice(1)}`;
}
