// POST /createRoom's events, in the order the spec fixes (create_room.yaml):
// create, the creator's join, power levels, canonical alias, the preset's
// join rules / history visibility / guest access, initial_state, name and
// topic, then invites.
import type { RoomVersionRules } from '../../core/room-versions.js';
import type { JsonObject } from '../../core/types.js';
import type { EventRequest } from './event-pipeline.js';

export type Preset = 'private_chat' | 'trusted_private_chat' | 'public_chat';

export interface CreateRoomOptions {
  creator: string;
  creatorProfile: JsonObject;
  rules: RoomVersionRules;
  preset: Preset;
  creationContent: JsonObject;
  powerLevelOverride?: JsonObject;
  canonicalAlias?: string;
  initialState: Array<{ type: string; stateKey: string; content: JsonObject }>;
  name?: string;
  topic?: string;
  /** Every invitee (trusted_private_chat makes them all creators or moderators). */
  invites: Array<{ userId: string; profile: JsonObject }>;
  /** Invitees of other servers, whose invites are sent once the room exists (their servers sign them). */
  invitedLater: ReadonlySet<string>;
  isDirect: boolean;
}

const PRESETS: Record<Preset, { joinRule: string; historyVisibility: string; guestAccess: string }> = {
  private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestAccess: 'can_join' },
  trusted_private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestAccess: 'can_join' },
  public_chat: { joinRule: 'public', historyVisibility: 'shared', guestAccess: 'forbidden' },
};

export function createEventRequest(opts: CreateRoomOptions): EventRequest {
  const content: JsonObject = { ...opts.creationContent, room_version: opts.rules.id };
  if (!opts.rules.implicitRoomCreator) content.creator = opts.creator;
  if (opts.rules.privilegedCreators && opts.preset === 'trusted_private_chat' && opts.invites.length > 0) {
    // v12: invitees of a trusted private chat become creators rather than PL 100 users (create_room.yaml).
    const existing = Array.isArray(content.additional_creators) ? content.additional_creators : [];
    content.additional_creators = [...new Set([...existing, ...opts.invites.map((i) => i.userId)])].filter((u) => u !== opts.creator);
  }
  return { type: 'm.room.create', stateKey: '', sender: opts.creator, content };
}

/** Everything after the create event. */
export function initialEventRequests(opts: CreateRoomOptions): EventRequest[] {
  const { creator } = opts;
  const state = (type: string, content: JsonObject, stateKey = ''): EventRequest => ({ type, stateKey, sender: creator, content });
  const preset = PRESETS[opts.preset];
  const overridden = new Set(opts.initialState.map((s) => `${s.type}\u0000${s.stateKey}`));
  const unlessInitial = (request: EventRequest): EventRequest[] =>
    overridden.has(`${request.type}\u0000${request.stateKey}`) ? [] : [request];

  const requests: EventRequest[] = [
    state('m.room.member', { ...opts.creatorProfile, membership: 'join' }, creator),
    state('m.room.power_levels', { ...defaultPowerLevels(opts), ...opts.powerLevelOverride }),
  ];
  if (opts.canonicalAlias) requests.push(state('m.room.canonical_alias', { alias: opts.canonicalAlias }));
  requests.push(
    ...unlessInitial(state('m.room.join_rules', { join_rule: preset.joinRule })),
    ...unlessInitial(state('m.room.history_visibility', { history_visibility: preset.historyVisibility })),
  );
  // Like Synapse, only presets that let guests join say so; no event means forbidden.
  if (preset.guestAccess === 'can_join') {
    requests.push(...unlessInitial(state('m.room.guest_access', { guest_access: preset.guestAccess })));
  }
  for (const s of opts.initialState) requests.push(state(s.type, s.content, s.stateKey));
  if (opts.name !== undefined) requests.push(state('m.room.name', { name: opts.name }));
  if (opts.topic !== undefined) requests.push(state('m.room.topic', topicContent(opts.topic)));
  for (const invite of opts.invites) {
    if (opts.invitedLater.has(invite.userId)) continue;
    const content: JsonObject = { ...invite.profile, membership: 'invite' };
    if (opts.isDirect) content.is_direct = true;
    requests.push(state('m.room.member', content, invite.userId));
  }
  return requests;
}

/** m.room.topic with the plain body and its m.topic text/plain rendering (spec v1.15 topic format). */
export function topicContent(topic: string): JsonObject {
  return { topic, 'm.topic': { 'm.text': [{ body: topic, mimetype: 'text/plain' }] } };
}

/** Synapse-compatible defaults, so rooms behave as Element users expect. */
function defaultPowerLevels(opts: CreateRoomOptions): JsonObject {
  const { creator, rules } = opts;
  const users: JsonObject = {};
  if (!rules.privilegedCreators) {
    users[creator] = 100;
    if (opts.preset === 'trusted_private_chat') for (const invite of opts.invites) users[invite.userId] = 100;
  }
  return {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      // v12: tombstones must need more than state_default (create_room.yaml).
      'm.room.tombstone': rules.privilegedCreators ? 150 : 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    // Members of private chats may invite others, as with Synapse's presets.
    invite: opts.preset === 'public_chat' ? 50 : 0,
    historical: 100,
    notifications: { room: 50 },
  };
}
