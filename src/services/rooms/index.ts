// Rooms as a local user sees them: creating rooms, membership changes,
// sending messages and state, redactions and upgrades. Every event goes
// through the EventPipeline, so the authorisation rules decide; this layer
// turns requests into events and gives refusals a reason a person can act on.
import { randomInt } from 'node:crypto';
import { canonicalJson } from '../../core/canonical-json.js';
import { RoomPowerLevels } from '../../core/power-levels.js';
import { DEFAULT_ROOM_VERSION, roomVersion, type RoomVersionRules } from '../../core/room-versions.js';
import { isJsonObject, type Event, type JsonObject } from '../../core/types.js';
import { isValidRoomAlias, isValidRoomId, isValidUserId, parseRoomAlias, parseRoomId, serverNameOfUserId } from '../../core/identifiers.js';
import { badJson, forbidden, invalidParam, MatrixError, notFound } from '../../core/errors.js';
import type { RoomStore, TxnKey } from '../../storage/rooms/index.js';
import type { ProfileService } from '../accounts/profiles.js';
import { createEventRequest, initialEventRequests, type Preset } from './create-room.js';
import { STRIPPED_STATE_TYPES } from '../sync/room-summary.js';
import type { EventPipeline, ReceivedEvent, SentEvent } from './event-pipeline.js';
import { isRestricted, restrictedAllowedRooms } from './join-rules.js';
import type { LoadedRoom } from './room-state.js';

export interface CreateRoomRequest {
  visibility?: 'public' | 'private';
  roomAliasName?: string;
  name?: string;
  topic?: string;
  invite: string[];
  roomVersion?: string;
  creationContent: JsonObject;
  initialState: Array<{ type: string; stateKey: string; content: JsonObject }>;
  preset?: Preset;
  isDirect: boolean;
  powerLevelContentOverride?: JsonObject;
  /** Before v12 (where the server chooses it): an ID from `newRoomId`, already named elsewhere (a room upgrade's tombstone). */
  roomId?: string;
}

/**
 * What rooms need of federation (src/federation implements it): rooms this
 * server is not in are joined, knocked on and left through other servers,
 * and invites of other servers' users are signed by those servers.
 */
export interface RemoteRooms {
  /** A room alias of another server: the room it names and servers to join through. */
  resolveAlias(alias: string): Promise<{ roomId: string; servers: string[] }>;
  join(userId: string, roomId: string, servers: readonly string[], content: JsonObject): Promise<string>;
  knock(userId: string, roomId: string, servers: readonly string[], content: JsonObject): Promise<string>;
  /** Rejects an invite or retracts a knock in a room this server is not in. */
  leave(userId: string, roomId: string, servers: readonly string[], content: JsonObject): Promise<string>;
  /** The invite as the invitee's server signed it. */
  signInvite(event: Event, rules: RoomVersionRules, pdu: JsonObject, inviteRoomState: JsonObject[]): Promise<ReceivedEvent>;
  /** Asks a server in the room to turn a third-party invite into an invite (the partial m.room.member `event`). */
  exchangeThirdPartyInvite(roomId: string, servers: readonly string[], event: JsonObject): Promise<void>;
}

export interface RoomServiceDeps {
  serverName: string;
  defaultRoomVersion: string;
  store: RoomStore;
  pipeline: EventPipeline;
  profiles: ProfileService;
  clock: () => number;
  /** Synapse's allow_per_room_profiles: false gives member events the global profile, whatever the client sent. */
  allowPerRoomProfiles: boolean;
  /** Whether a local user has a guest account (modules/guest_access.md). */
  isGuest: (userId: string) => Promise<boolean>;
  /** Absent: rooms are local to this server. */
  remote?: RemoteRooms;
  /** Rooms an admin blocked (Synapse's block API): local users may not join, knock or be invited there. Absent: none. */
  isBlocked?: (roomId: string) => Promise<boolean>;
}

/** Memberships whose events carry the member's profile (as Synapse adds it). */
const PROFILE_MEMBERSHIPS: ReadonlySet<string> = new Set(['join', 'knock', 'invite']);

/**
 * Keys of a join that belong to the membership change it made, not to the
 * member: a re-sent join (a profile change) does not repeat them.
 */
const JOIN_TRANSITION_KEYS: readonly string[] = ['reason', 'join_authorised_via_users_server'];

const ROOM_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export class RoomService {
  private readonly remoteJoinHooks: Array<(roomId: string) => Promise<void>> = [];

  constructor(private readonly deps: RoomServiceDeps) {}

  /** Work after this server joined a room through another server (the join has succeeded; errors are the hook's). */
  afterRemoteJoin(hook: (roomId: string) => Promise<void>): void {
    this.remoteJoinHooks.push(hook);
  }

  get pipeline(): EventPipeline {
    return this.deps.pipeline;
  }

  async createRoom(creator: string, request: CreateRoomRequest): Promise<string> {
    const { store, serverName } = this.deps;
    const versionId = request.roomVersion ?? this.deps.defaultRoomVersion ?? DEFAULT_ROOM_VERSION;
    const rules = roomVersion(versionId);
    if (!rules) {
      throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version '${versionId}' is not supported; this server supports versions 1 to 12`);
    }
    for (const userId of request.invite) {
      if (!isValidUserId(userId)) throw invalidParam(`'${userId}' in invite is not a valid user ID`);
    }
    const alias = request.roomAliasName === undefined ? undefined : `#${request.roomAliasName}:${serverName}`;
    if (alias !== undefined) {
      if (!isValidRoomAlias(alias) || /[:\s#]/.test(request.roomAliasName!)) {
        throw new MatrixError(400, 'M_INVALID_PARAM', `room_alias_name '${request.roomAliasName}' may not contain ':', '#' or spaces`);
      }
      if (await store.aliases.getAlias(alias)) throw new MatrixError(400, 'M_ROOM_IN_USE', `The alias ${alias} is already taken`);
    }
    const preset = request.preset ?? (request.visibility === 'public' ? 'public_chat' : 'private_chat');
    const remoteInvitees = request.invite.filter((userId) => serverNameOfUserId(userId) !== serverName);
    const options = {
      creator,
      creatorProfile: await this.memberProfile(creator),
      rules,
      preset,
      creationContent: request.creationContent,
      powerLevelOverride: request.powerLevelContentOverride,
      canonicalAlias: alias,
      initialState: request.initialState,
      name: request.name,
      topic: request.topic,
      invites: await Promise.all(request.invite.map(async (userId) => ({ userId, profile: await this.memberProfile(userId) }))),
      // Other servers' users are invited once the room exists: their servers must sign each invite.
      invitedLater: new Set(remoteInvitees),
      isDirect: request.isDirect,
    };
    const { roomId } = await this.deps.pipeline.createRoom(
      rules,
      createEventRequest(options),
      () => request.roomId ?? this.newRoomId(),
      () => initialEventRequests(options),
      async (id) => {
        await store.rooms.createRoom({ roomId: id, roomVersion: rules.id, creator, isPublic: request.visibility === 'public', createdTs: this.deps.clock() });
        if (alias !== undefined) {
          const created = await store.aliases.createAlias({ alias, roomId: id, creator, servers: [serverName], createdTs: this.deps.clock() });
          if (!created) throw new MatrixError(400, 'M_ROOM_IN_USE', `The alias ${alias} is already taken`);
        }
      },
    );
    // As Synapse: an invitee's server that refuses or cannot be reached fails the request, with its reason.
    for (const userId of remoteInvitees) await this.invite(creator, roomId, userId, undefined, request.isDirect);
    return roomId;
  }

  /** Resolves a room ID or a local alias to a room ID. */
  async resolveRoom(roomIdOrAlias: string): Promise<string> {
    return (await this.locate(roomIdOrAlias, [])).roomId;
  }

  /** The room ID a room ID or alias names, and servers that may help join it (`via` first). */
  private async locate(roomIdOrAlias: string, via: readonly string[]): Promise<{ roomId: string; servers: string[] }> {
    if (isValidRoomId(roomIdOrAlias)) return { roomId: roomIdOrAlias, servers: [...via] };
    const alias = parseRoomAlias(roomIdOrAlias);
    if (!alias || !isValidRoomAlias(roomIdOrAlias)) {
      throw invalidParam(`'${roomIdOrAlias}' is neither a room ID (!opaque:server, or !hash from room version 12) nor a room alias (#name:server)`);
    }
    if (alias.serverName !== this.deps.serverName && this.deps.remote) {
      const found = await this.deps.remote.resolveAlias(roomIdOrAlias);
      return { roomId: found.roomId, servers: [...via, ...found.servers] };
    }
    const record = await this.deps.store.aliases.getAlias(roomIdOrAlias);
    if (!record) throw notFound(`Room alias ${roomIdOrAlias} not found`);
    return { roomId: record.roomId, servers: [...via, ...record.servers] };
  }

  /**
   * Whether this server builds the room's events itself: one of its users
   * is joined (the state is current), or no other server's is (there is
   * nobody else to ask, e.g. a local room everyone has left). A room known
   * only from an invite or knock has no state here at all.
   */
  isResident(room: LoadedRoom): boolean {
    if (room.state.size === 0) return false;
    return room.hasJoinedMemberOf(this.deps.serverName) || !room.hasJoinedMemberElsewhere(this.deps.serverName);
  }

  /**
   * Servers to reach a room this server is not in through: those given,
   * the server that invited the user, and (before v12) the server the room
   * ID names. Ours is never one of them.
   */
  private async serversFor(roomId: string, userId: string, given: readonly string[]): Promise<string[]> {
    const servers = [...given];
    const membership = await this.deps.store.memberships.getMembership(roomId, userId);
    if (membership && (membership.membership === 'invite' || membership.membership === 'knock')) {
      const event = await this.deps.store.events.getEvent(membership.eventId);
      const inviter = event && serverNameOfUserId(event.sender);
      if (inviter) servers.push(inviter);
    }
    const roomServer = parseRoomId(roomId)?.serverName;
    if (roomServer) servers.push(roomServer);
    return [...new Set(servers)].filter((s) => s !== this.deps.serverName);
  }

  /** The user's invite or knock in a room this server is not in, if that is where they stand. */
  private async outOfRoomMembership(userId: string, roomId: string): Promise<boolean> {
    const membership = await this.deps.store.memberships.getMembership(roomId, userId);
    if (!membership || (membership.membership !== 'invite' && membership.membership !== 'knock')) return false;
    const room = await this.deps.pipeline.room(roomId);
    return !room || !this.isResident(room);
  }

  /** The room's stripped-state events (and the inviter's membership) as PDUs, sent along with an invite. */
  private async inviteRoomState(roomId: string, inviter: string): Promise<JsonObject[]> {
    const events = await this.deps.store.currentState.getCurrentStateEvents(roomId, { types: STRIPPED_STATE_TYPES });
    const member = await this.deps.store.currentState.getCurrentStateEvent(roomId, 'm.room.member', inviter);
    return [...events, ...(member ? [member] : [])].map((e) => JSON.parse(e.json) as JsonObject);
  }

  private async memberContent(userId: string, membership: string, reason: string | undefined): Promise<JsonObject> {
    const content: JsonObject = { ...(await this.memberProfile(userId)), membership };
    if (reason !== undefined) content.reason = reason;
    return content;
  }

  private remote(): RemoteRooms {
    if (!this.deps.remote) throw notFound('This room is not on this server, and this server does not federate');
    return this.deps.remote;
  }

  /**
   * Joins `userId` to a room: here if this server is in it, otherwise
   * through another server (`via`, the alias's servers, the inviter's).
   */
  async join(userId: string, roomIdOrAlias: string, reason?: string, isGuest = false, via: readonly string[] = []): Promise<string> {
    const { roomId, servers } = await this.locate(roomIdOrAlias, via);
    await this.refuseIfBlocked(roomId);
    const joinedHere = await this.deps.pipeline.withRoom(roomId, async (room) => {
      if (!room || !this.isResident(room)) return false;
      if (room.membership(userId) === 'join') return true;
      await this.joinInRoom(room, userId, reason === undefined ? {} : { reason }, isGuest);
      return true;
    });
    if (!joinedHere) {
      // guest_access.md: a guest joins only a room whose m.room.guest_access is
      // can_join, and as other servers cannot tell guests apart ("Security
      // considerations"), the guest's own server enforces it. Of a room it is
      // not in, this server knows only the stripped state of the guest's
      // invite, from a server in the room (trusted to enforce the rules, as
      // the spec says): without can_join there, the join is refused (Synapse
      // refuses every guest join through another server).
      if (isGuest && !(await this.invitedAsGuest(userId, roomId))) {
        throw guestAccessForbidden(`${roomId} is on another server, and the invite does not show that it admits guests`);
      }
      await this.remote().join(userId, roomId, await this.serversFor(roomId, userId, servers), await this.memberContent(userId, 'join', reason));
      for (const hook of this.remoteJoinHooks) await hook(roomId);
    }
    return roomId;
  }

  /** Whether the stripped state of the user's invite to a room of another server has guest_access can_join. */
  private async invitedAsGuest(userId: string, roomId: string): Promise<boolean> {
    const stripped = (await this.deps.store.memberships.strippedStates(userId, [roomId])).get(roomId) ?? [];
    const guestAccess = stripped.find((e) => e.type === 'm.room.guest_access' && e.state_key === '');
    return isJsonObject(guestAccess?.content) && guestAccess.content.guest_access === 'can_join';
  }

  /**
   * Joins a user who is not joined yet. `requested` is content the client
   * chose (a reason, or a per-room display name given with PUT state); it
   * wins over the global profile.
   */
  private async joinInRoom(room: LoadedRoom, userId: string, requested: JsonObject, isGuest: boolean): Promise<SentEvent> {
    // guest_access.md: guests join only rooms whose m.room.guest_access is can_join.
    if (isGuest && !admitsGuests(room)) throw guestAccessForbidden(`${room.roomId} does not admit guests`);
    const content: JsonObject = { ...(await this.memberProfile(userId)), ...requested, membership: 'join' };
    const authoriser = await this.restrictedJoinAuthoriser(room, userId);
    if (authoriser) content.join_authorised_via_users_server = authoriser;
    return this.deps.pipeline.sendInRoom(room, { type: 'm.room.member', stateKey: userId, sender: userId, content });
  }

  async knock(userId: string, roomIdOrAlias: string, reason?: string, via: readonly string[] = []): Promise<string> {
    const { roomId, servers } = await this.locate(roomIdOrAlias, via);
    await this.refuseIfBlocked(roomId);
    const room = await this.deps.pipeline.room(roomId);
    if (room && this.isResident(room)) await this.setMembership(roomId, userId, userId, 'knock', reason);
    else await this.remote().knock(userId, roomId, await this.serversFor(roomId, userId, servers), await this.memberContent(userId, 'knock', reason));
    return roomId;
  }

  /** 403 when an admin blocked the room: also for invites arriving from other servers (as Synapse refuses them). */
  async refuseIfBlocked(roomId: string): Promise<void> {
    if (await this.deps.isBlocked?.(roomId)) throw forbidden(`${roomId} has been blocked on this server by its administrators`);
  }

  async leave(userId: string, roomId: string, reason?: string): Promise<void> {
    const outside = await this.outOfRoomMembership(userId, roomId);
    if (outside) {
      const content: JsonObject = { membership: 'leave', ...(reason !== undefined ? { reason } : {}) };
      await this.remote().leave(userId, roomId, await this.serversFor(roomId, userId, []), content);
      return;
    }
    await this.deps.pipeline.withRoom(roomId, async (room) => {
      const loaded = this.requireRoom(room, roomId);
      const current = loaded.membership(userId);
      if (current === undefined || current === 'leave') {
        // Leaving a room one is not in is a no-op for clients (Synapse answers 200 too).
        if (current === 'leave') return;
        throw forbidden(`${userId} is not in ${roomId}`);
      }
      await this.sendMembership(loaded, userId, userId, 'leave', reason);
    });
  }

  async invite(sender: string, roomId: string, target: string, reason?: string, isDirect = false): Promise<void> {
    if (!isValidUserId(target)) throw invalidParam(`'${target}' is not a valid user ID`);
    await this.refuseIfBlocked(roomId);
    await this.deps.pipeline.withRoom(roomId, async (room) => {
      const loaded = this.requireRoom(room, roomId);
      const current = loaded.membership(target);
      if (current === 'join') throw forbidden(`${target} is already in the room`);
      if (current === 'ban') throw forbidden(`${target} is banned from the room`);
      const content: JsonObject = { ...(await this.memberProfile(target)), membership: 'invite' };
      if (isDirect) content.is_direct = true;
      if (reason !== undefined) content.reason = reason;
      await this.sendInvite(loaded, sender, target, content);
    });
  }

  /**
   * Sends an invite in a room loaded by `withRoom`. An invitee on another
   * server has their server sign it first (server-server-api "Inviting to
   * a room").
   */
  async sendInvite(room: LoadedRoom, sender: string, target: string, content: JsonObject): Promise<SentEvent> {
    const request = { type: 'm.room.member', stateKey: target, sender, content };
    if (this.isLocalUser(target)) return this.deps.pipeline.sendInRoom(room, request);
    const inviteRoomState = await this.inviteRoomState(room.roomId, sender);
    return this.deps.pipeline.sendInRoomCountersigned(room, request, (event, pdu) => this.remote().signInvite(event, room.rules, pdu, inviteRoomState));
  }

  async kick(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
    await this.deps.pipeline.withRoom(roomId, async (room) => {
      const loaded = this.requireRoom(room, roomId);
      const current = loaded.membership(target);
      if (current !== 'join' && current !== 'invite' && current !== 'knock') {
        throw forbidden(`${target} cannot be kicked: they are not in the room`);
      }
      await this.sendMembership(loaded, sender, target, 'leave', reason);
    });
  }

  async ban(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
    if (!isValidUserId(target)) throw invalidParam(`'${target}' is not a valid user ID`);
    await this.setMembership(roomId, sender, target, 'ban', reason);
  }

  async unban(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
    await this.deps.pipeline.withRoom(roomId, async (room) => {
      const loaded = this.requireRoom(room, roomId);
      if (loaded.membership(target) !== 'ban') throw forbidden(`${target} is not banned from the room`);
      await this.sendMembership(loaded, sender, target, 'leave', reason);
    });
  }

  /**
   * Re-sends a user's join with their global profile (`profile`, from
   * `memberProfile`) after it changed, as Synapse's profile handler does:
   * the membership stays, displayname and avatar_url are replaced — a
   * per-room name too, as Synapse overwrites it — and other keys are kept.
   * Nothing is sent when the user is no longer joined (they left or were
   * banned since) or the content would not change.
   */
  async refreshMemberProfile(userId: string, roomId: string, profile: JsonObject): Promise<void> {
    await this.deps.pipeline.withRoom(roomId, async (room) => {
      const current = room?.stateEvent('m.room.member', userId);
      if (!room || current?.content.membership !== 'join') return;
      const kept = Object.entries(current.content).filter(([key]) => key !== 'displayname' && key !== 'avatar_url' && !JOIN_TRANSITION_KEYS.includes(key));
      const content: JsonObject = { ...Object.fromEntries(kept), ...profile, membership: 'join' };
      if (canonicalJson(content) === canonicalJson(current.content)) return;
      await this.deps.pipeline.sendInRoom(room, { type: 'm.room.member', stateKey: userId, sender: userId, content });
    });
  }

  /**
   * After m.room.guest_access stopped being can_join: this server's guests
   * who are joined or invited leave, each as themselves (Synapse's
   * kick_guest_users: no power level is needed, and guests stay a matter of
   * their own server). Checked again in the room's queue, in case access was
   * given back meanwhile.
   */
  async evictGuests(roomId: string): Promise<void> {
    await this.deps.pipeline.withRoom(roomId, async (room) => {
      if (!room || admitsGuests(room)) return;
      const present = [...room.state.values()].filter(
        (e) => e.type === 'm.room.member' && this.isLocalUser(e.state_key!) && (e.content.membership === 'join' || e.content.membership === 'invite'),
      );
      for (const { state_key: userId } of present) {
        if (await this.deps.isGuest(userId!)) await this.sendMembership(room, userId!, userId!, 'leave');
      }
    });
  }

  /** GET /joined_rooms */
  async joinedRooms(userId: string): Promise<string[]> {
    return (await this.deps.store.memberships.roomsForUser(userId, ['join'])).map((m) => m.roomId);
  }

  async forget(userId: string, roomId: string): Promise<void> {
    const membership = await this.deps.store.memberships.getMembership(roomId, userId);
    if (membership && membership.membership !== 'leave' && membership.membership !== 'ban') {
      throw new MatrixError(400, 'M_UNKNOWN', `${userId} is still in ${roomId} (${membership.membership}); leave it before forgetting it`);
    }
    if (membership) await this.deps.store.memberships.forget(roomId, userId);
  }

  /** PUT /rooms/{roomId}/send/{eventType}/{txnId}; without `txn`, Synapse's legacy POST, which is never deduplicated. */
  async sendMessage(sender: string, roomId: string, type: string, content: JsonObject, txn?: TxnKey): Promise<SentEvent> {
    if (type === 'm.room.redaction') {
      const redacts = content.redacts;
      if (typeof redacts !== 'string') throw badJson('m.room.redaction needs content.redacts naming the event to redact');
      return this.redact(sender, roomId, redacts, content, txn);
    }
    // The authorisation rules refuse senders who are not joined, with the reason.
    return this.deps.pipeline.send(roomId, { type, sender, content }, txn);
  }

  /** PUT /rooms/{roomId}/state/{eventType}/{stateKey} */
  async sendState(sender: string, roomId: string, type: string, stateKey: string, content: JsonObject, isGuest = false): Promise<SentEvent> {
    if (type === 'm.room.create') throw forbidden('m.room.create cannot be changed; upgrade the room instead');
    return this.deps.pipeline.withRoom(roomId, async (room) => {
      const loaded = this.requireRoom(room, roomId);
      if (type === 'm.room.member') {
        const member = await this.memberStateContent(loaded, sender, stateKey, content);
        if (member.joins) return this.joinInRoom(loaded, stateKey, member.content, isGuest);
        content = member.content;
      }
      if (type === 'm.room.canonical_alias') await this.checkCanonicalAlias(roomId, content);
      const existing = loaded.stateEvent(type, stateKey);
      // Setting state to what it already is sends nothing (as Synapse does).
      if (existing && existing.sender === sender && JSON.stringify(existing.content) === JSON.stringify(content)) {
        const stored = await this.deps.store.events.getEvent(existing.event_id);
        return { event: existing, streamOrdering: stored?.streamOrdering ?? 0, existing: true };
      }
      return this.deps.pipeline.sendInRoom(loaded, { type, sender, content, stateKey });
    });
  }

  /**
   * m.room.member sent as state is a membership change with the client's
   * content, as Synapse treats it (synapse/rest/client/room.py → update_membership):
   * Element's /myroomnick re-sends the member's `join` with a per-room
   * `displayname`/`avatar_url`, which the auth rules allow. Joins,
   * knocks and invites get the global profile where the client gave none
   * (always, with allow_per_room_profiles off);
   * the restricted-join authoriser is always the server's choice. `joins`:
   * the sender joins now, which goes through the join path (guest access,
   * restricted rooms).
   */
  private async memberStateContent(room: LoadedRoom, sender: string, target: string, content: JsonObject): Promise<{ content: JsonObject; joins: boolean }> {
    const { membership, join_authorised_via_users_server: _chosenByServer, ...requested } = content;
    if (typeof membership !== 'string') throw badJson("m.room.member content needs 'membership', a string such as 'join' or 'leave'");
    if (!this.deps.allowPerRoomProfiles && PROFILE_MEMBERSHIPS.has(membership)) {
      // As Synapse's update_membership: the global profile is filled in below instead.
      delete requested.displayname;
      delete requested.avatar_url;
    }
    if (!isValidUserId(target)) throw invalidParam(`The state key of m.room.member must be a user ID, not '${target}'`);
    if (membership === 'join' && target === sender && room.membership(target) !== 'join') return { content: requested, joins: true };
    const profile = PROFILE_MEMBERSHIPS.has(membership) ? await this.memberProfile(target) : {};
    return { content: { ...profile, ...requested, membership }, joins: false };
  }

  /** PUT /rooms/{roomId}/redact/{eventId}/{txnId} (or Synapse's legacy POST, without `txn`) */
  async redact(sender: string, roomId: string, eventId: string, content: JsonObject, txn?: TxnKey): Promise<SentEvent> {
    const target = await this.deps.store.events.getEvent(eventId);
    if (!target || target.roomId !== roomId) throw notFound(`Event ${eventId} not found in ${roomId}`);
    return this.deps.pipeline.withRoom(roomId, async (room) => {
      const loaded = this.requireRoom(room, roomId);
      const powers = this.powerLevels(loaded);
      if (target.sender !== sender && !powers.canRedactOthersEvents(sender)) {
        throw forbidden(`You need power level ${powers.level('redact')} to redact other people's events`);
      }
      const { redacts: _ignored, ...rest } = content;
      // The pipeline applies the redaction to its target with the event (services/rooms/redactions.ts).
      return this.deps.pipeline.sendInRoom(loaded, { type: 'm.room.redaction', sender, content: rest, redacts: eventId }, txn);
    });
  }

  powerLevels(room: LoadedRoom): RoomPowerLevels {
    return RoomPowerLevels.fromEvents(room.stateEvent('m.room.power_levels'), room.stateEvent('m.room.create'), room.rules);
  }

  private async setMembership(roomId: string, sender: string, target: string, membership: string, reason?: string): Promise<void> {
    await this.deps.pipeline.withRoom(roomId, async (room) => {
      await this.sendMembership(this.requireRoom(room, roomId), sender, target, membership, reason);
    });
  }

  private async sendMembership(room: LoadedRoom, sender: string, target: string, membership: string, reason?: string) {
    const content: JsonObject = { membership };
    if (reason !== undefined) content.reason = reason;
    return this.deps.pipeline.sendInRoom(room, { type: 'm.room.member', stateKey: target, sender, content });
  }

  private requireRoom(room: LoadedRoom | undefined, roomId: string): LoadedRoom {
    if (!room) throw notFound(`Unknown room ${roomId}: no such room on this server`);
    return room;
  }

  /**
   * For a restricted room (v8+) that the user is not invited to: a local
   * member who may invite, vouching for a user who is in one of the rooms
   * the join rule allows. Undefined when the join does not need one.
   */
  async restrictedJoinAuthoriser(room: LoadedRoom, userId: string): Promise<string | undefined> {
    if (!isRestricted(room) || room.membership(userId) === 'invite' || room.membership(userId) === 'join') return undefined;
    const allowedRooms = restrictedAllowedRooms(room);
    const memberships = await Promise.all(allowedRooms.map((id) => this.deps.store.memberships.getMembership(id, userId)));
    const inAllowedRoom = memberships.some((m) => m?.membership === 'join');
    if (!inAllowedRoom) {
      throw forbidden(
        allowedRooms.length === 0
          ? 'This room is restricted and lists no rooms whose members may join; ask for an invite'
          : `This room only admits members of ${allowedRooms.join(', ')}; join one of them first or ask for an invite`,
      );
    }
    const powers = this.powerLevels(room);
    const authoriser = [...room.state.values()].find(
      (e) => e.type === 'm.room.member' && e.content.membership === 'join' && this.isLocalUser(e.state_key!) && powers.canInvite(e.state_key!),
    );
    if (!authoriser) throw forbidden('No member of this room on this server may invite you, so the restricted join cannot be authorised');
    return authoriser.state_key;
  }

  private async checkCanonicalAlias(roomId: string, content: JsonObject): Promise<void> {
    const aliases = [content.alias, ...(Array.isArray(content.alt_aliases) ? content.alt_aliases : [])].filter((a) => a !== undefined && a !== null);
    for (const alias of aliases) {
      // room_state.yaml: M_INVALID_PARAM or M_BAD_ALIAS; as Synapse, the first for bad grammar, the second for an alias elsewhere.
      if (typeof alias !== 'string' || !isValidRoomAlias(alias)) throw invalidParam(`'${String(alias)}' is not a valid room alias`);
      if (parseRoomAlias(alias)!.serverName === this.deps.serverName) {
        const record = await this.deps.store.aliases.getAlias(alias);
        if (record?.roomId !== roomId) throw new MatrixError(400, 'M_BAD_ALIAS', `The alias ${alias} does not point to this room`);
      }
    }
  }

  /** A local user's global displayname and avatar_url as member event content (empty for other servers' users). */
  async memberProfile(userId: string): Promise<JsonObject> {
    if (!this.isLocalUser(userId)) return {};
    const profile = await this.deps.profiles.get(userId).catch(() => undefined);
    const content: JsonObject = {};
    if (profile?.displayname) content.displayname = profile.displayname;
    if (profile?.avatarUrl) content.avatar_url = profile.avatarUrl;
    return content;
  }

  private isLocalUser(userId: string): boolean {
    return serverNameOfUserId(userId) === this.deps.serverName;
  }

  /** A fresh room ID of this server, for room versions before 12. */
  newRoomId(): string {
    const opaque = Array.from({ length: 18 }, () => ROOM_ID_ALPHABET[randomInt(ROOM_ID_ALPHABET.length)]).join('');
    return `!${opaque}:${this.deps.serverName}`;
  }
}

/** guest_access.md: guests may join (and stay in) only rooms whose m.room.guest_access is can_join. */
export function admitsGuests(room: LoadedRoom): boolean {
  return room.stateEvent('m.room.guest_access')?.content.guest_access === 'can_join';
}

function guestAccessForbidden(why: string): MatrixError {
  return new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', `${why}; register a full account to join it`);
}
