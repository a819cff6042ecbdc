// Membership handshakes other servers start with us as a resident of the
// room (server-server-api "Joining Rooms", "Knocking upon a room", "Leaving
// Rooms (Rejecting Invites)") or as the invitee's server ("Inviting to a
// room"): make_* templates, send_* acceptance, and signing invites.
import { badJson, forbidden, MatrixError, notFound } from '../../core/errors.js';
import { computeEventId } from '../../core/event-id.js';
import { finaliseEvent, type UnsignedPdu } from '../../core/event-signing.js';
import { parseUserId, serverNameOfUserId } from '../../core/identifiers.js';
import { roomVersion, type RoomVersionRules } from '../../core/room-versions.js';
import { serverAclAllows } from '../../core/server-acl.js';
import type { SigningKey } from '../../core/signing.js';
import type { Event, JsonObject, JsonValue } from '../../core/types.js';
import type { EventPipeline, ReceivedEvent } from '../../services/rooms/event-pipeline.js';
import type { RoomService } from '../../services/rooms/index.js';
import type { LoadedRoom } from '../../services/rooms/room-state.js';
import { UnknownStateError } from '../../services/rooms/room-dag.js';
import { STRIPPED_STATE_TYPES } from '../../services/sync/room-summary.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import { DroppedPduError, type FederatedEventHandler } from './event-handler.js';
import type { FederationRoomQueries } from './room-queries.js';

type Handshake = 'join' | 'leave' | 'knock';

export interface MembershipServerDeps {
  pipeline: EventPipeline;
  rooms: RoomService;
  store: RoomStore;
  events: FederatedEventHandler;
  queries: FederationRoomQueries;
  serverName: string;
  signingKey: SigningKey;
  /**
   * A membership event another server had us accept (send_join, send_leave,
   * send_knock): as its resident, we pass it on to the room's other servers.
   */
  relay: (event: Event) => void;
}

export class MembershipServer {
  constructor(private readonly deps: MembershipServerDeps) {}

  /** GET /make_join, /make_knock, /make_leave: a template for `userId`, a user of `origin`. */
  async make(kind: Handshake, origin: string, roomId: string, userId: string, versions: readonly string[]): Promise<JsonObject> {
    if (serverNameOfUserId(userId) !== origin) throw forbidden(`${origin} cannot ${kind} on behalf of ${userId}, a user of another server`);
    const room = await this.residentRoom(origin, roomId);
    // make_leave has no `ver`; for join and knock a server that lists none speaks only version 1.
    const offered = versions.length > 0 ? versions : ['1'];
    if (kind !== 'leave' && !offered.includes(room.rules.id)) {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `${roomId} has room version ${room.rules.id}, which ${origin} does not support`, {
        room_version: room.rules.id,
      });
    }
    if (kind === 'knock' && !room.rules.knockJoinRule) {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${room.rules.id} does not allow knocking`, { room_version: room.rules.id });
    }
    const content: JsonObject = { membership: kind };
    if (kind === 'join') {
      const authoriser = await this.deps.rooms.restrictedJoinAuthoriser(room, userId);
      if (authoriser) content['join_authorised_via_users_server'] = authoriser;
    }
    const { pdu } = await this.deps.pipeline.template(roomId, { type: 'm.room.member', sender: userId, stateKey: userId, content });
    return { room_version: room.rules.id, event: pdu };
  }

  /**
   * PUT /send_join, /send_knock, /send_leave: takes the signed event into
   * the room and relays it. A join is answered with the state before it and
   * the auth chain (and the event, signed by us too when we authorised a
   * restricted join); a knock with the room's stripped state.
   */
  async send(kind: Handshake, origin: string, roomId: string, eventId: string, body: JsonValue | undefined): Promise<JsonObject> {
    const room = await this.residentRoom(origin, roomId);
    const received = await this.checked(room.rules, roomId, body);
    const { event } = received;
    if (event.event_id !== eventId) throw badJson(`The event's ID is ${event.event_id}, not ${eventId} as the path says`);
    if (event.type !== 'm.room.member' || event.state_key !== event.sender || event.content['membership'] !== kind) {
      throw badJson(`send_${kind} takes an m.room.member event of ${kind} membership whose state_key is its sender`);
    }
    if (serverNameOfUserId(event.sender) !== origin) throw forbidden(`${origin} cannot send a ${kind} for ${event.sender}, a user of another server`);
    const accepted = await this.accept(room, kind === 'join' ? this.countersignRestrictedJoin(room.rules, received) : received);
    this.deps.relay(accepted.event);
    if (kind === 'leave') return {};
    if (kind === 'knock') return { knock_room_state: await this.strippedStatePdus(roomId) };
    const { pdus, authChain } = await this.deps.queries.stateAndAuthChainBefore(roomId, eventId, room.rules);
    return { origin: this.deps.serverName, state: pdus, auth_chain: authChain, event: JSON.parse(accepted.json) as JsonObject, members_omitted: false };
  }

  /**
   * PUT /v2/invite (and v1, for room versions 1 and 2): checks and signs an
   * invite of one of our users. If this server is not in the room, the
   * invite is recorded for the user with the stripped state sent along;
   * otherwise it arrives in the room through /send like any event.
   */
  async invite(origin: string, roomId: string, eventId: string, versionId: string, pdu: JsonValue | undefined, inviteRoomState: JsonValue | undefined): Promise<JsonObject> {
    const rules = roomVersion(versionId);
    if (!rules) throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${versionId} is not supported by this server`, { room_version: versionId });
    const received = await this.checked(rules, roomId, pdu);
    const { event } = received;
    const invalid = (message: string) => new MatrixError(400, 'M_INVALID_PARAM', message);
    if (event.event_id !== eventId) throw invalid(`The event's ID is ${event.event_id}, not ${eventId} as the path says`);
    if (event.type !== 'm.room.member' || event.content['membership'] !== 'invite') throw invalid('Only m.room.member events of invite membership are signed here');
    if (serverNameOfUserId(event.sender) !== origin) throw invalid(`${event.sender} is not a user of ${origin}`);
    if (parseUserId(event.state_key ?? '')?.serverName !== this.deps.serverName) throw invalid(`${event.state_key} is not a user of this server`);
    const known = await this.deps.pipeline.room(roomId);
    const acl = known?.stateEvent('m.room.server_acl')?.content;
    if (!serverAclAllows(acl, origin)) throw forbidden(`The room's server ACL denies ${origin}`);
    await this.deps.rooms.refuseIfBlocked(roomId);
    const stripped = strippedStateOf(rules, roomId, inviteRoomState);
    const signed = finaliseEvent(JSON.parse(received.json) as UnsignedPdu, this.deps.serverName, this.deps.signingKey, rules);
    const signedJson = signed as unknown as JsonObject;
    if (!(await this.serverIsIn(known))) {
      const create = stripped.find((s) => s['type'] === 'm.room.create');
      await this.deps.pipeline.recordOutOfRoomMembership(
        { roomId, roomVersion: rules.id, creator: typeof create?.['sender'] === 'string' ? create['sender'] : event.sender },
        { event: { ...event, signatures: signed.signatures }, json: JSON.stringify(signedJson) },
        stripped,
      );
    }
    return { event: signedJson };
  }

  /** The room, if we are in it and `origin` may take part in it. */
  private async residentRoom(origin: string, roomId: string): Promise<LoadedRoom> {
    const room = await this.deps.pipeline.room(roomId);
    if (!room || !(await this.serverIsIn(room))) throw notFound(`This server is not in room ${roomId}`);
    if (!serverAclAllows(room.stateEvent('m.room.server_acl')?.content, origin)) throw forbidden(`The room's server ACL denies ${origin}`);
    return room;
  }

  /** Whether one of our users is joined to the room (we can vouch for its state). */
  private async serverIsIn(room: LoadedRoom | undefined): Promise<boolean> {
    if (!room) return false;
    return [...room.state.values()].some(
      (e) => e.type === 'm.room.member' && e.content['membership'] === 'join' && serverNameOfUserId(e.state_key ?? '') === this.deps.serverName,
    );
  }

  /**
   * The checks on receipt that drop an event, as the HTTP error they mean
   * here: an unsigned or badly signed event is 403 M_FORBIDDEN (as Synapse,
   * which SyTest checks), a malformed one 400 M_BAD_JSON (as Synapse).
   */
  private async checked(rules: RoomVersionRules, roomId: string, pdu: JsonValue | undefined): Promise<ReceivedEvent> {
    try {
      return await this.deps.events.checkPdu(rules, roomId, pdu ?? null);
    } catch (err) {
      if (err instanceof DroppedPduError) throw err.reason === 'signature' ? forbidden(err.message) : badJson(err.message);
      throw err;
    }
  }

  /** Accepts the event into the room, or refuses it with the reason the auth rules give. */
  private async accept(room: LoadedRoom, received: ReceivedEvent): Promise<ReceivedEvent> {
    try {
      const outcome = await this.deps.pipeline.receive(room.roomId, received);
      if (outcome.status === 'rejected' || outcome.status === 'soft_failed') throw forbidden(outcome.reason);
      return received;
    } catch (err) {
      if (err instanceof UnknownStateError) throw badJson(`The event builds on events this server does not have (${err.eventIds.join(', ')}); ask make_* again`);
      throw err;
    }
  }

  /** A join we authorised (join_authorised_via_users_server is ours) carries our signature too. */
  private countersignRestrictedJoin(rules: RoomVersionRules, received: ReceivedEvent): ReceivedEvent {
    const via = received.event.content['join_authorised_via_users_server'];
    if (typeof via !== 'string' || serverNameOfUserId(via) !== this.deps.serverName) return received;
    const signed = finaliseEvent(JSON.parse(received.json) as UnsignedPdu, this.deps.serverName, this.deps.signingKey, rules);
    return { event: { ...received.event, signatures: signed.signatures }, json: JSON.stringify(signed) };
  }

  /** The room's stripped-state events as full PDUs (knock_room_state, invite_room_state from v1.16). */
  private async strippedStatePdus(roomId: string): Promise<JsonObject[]> {
    const events = await this.deps.store.currentState.getCurrentStateEvents(roomId, { types: STRIPPED_STATE_TYPES });
    return events.map((e) => JSON.parse(e.json) as JsonObject);
  }
}

/**
 * invite_room_state as the invitee's client sees it: stripped events
 * (type, state_key, content, sender). From v12 the m.room.create event must
 * be there and be the room's (its ID is the room ID); older versions take
 * what they are given, as the spec allows during the migration.
 */
function strippedStateOf(rules: RoomVersionRules, roomId: string, state: JsonValue | undefined): JsonObject[] {
  const entries = Array.isArray(state) ? state.filter((e): e is JsonObject => typeof e === 'object' && e !== null && !Array.isArray(e)) : [];
  const stripped = entries
    .filter((e) => typeof e['type'] === 'string' && typeof e['state_key'] === 'string')
    .map((e) => ({ type: e['type']!, state_key: e['state_key']!, content: e['content'] ?? {}, sender: e['sender'] ?? '' }) as JsonObject);
  if (rules.roomIdIsCreateEventHash) {
    const create = entries.find((e) => e['type'] === 'm.room.create' && e['state_key'] === '');
    if (!create) throw new MatrixError(400, 'M_MISSING_PARAM', `invite_room_state must include the room's m.room.create event in room version ${rules.id}`);
    if (!isCreateOfRoom(create, rules, roomId)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `The m.room.create event in invite_room_state is not the create event of ${roomId}`);
    }
  }
  return stripped;
}

/** From v12 a room ID is its create event's reference hash: a full create PDU proves which room it is. */
function isCreateOfRoom(create: JsonObject, rules: RoomVersionRules, roomId: string): boolean {
  try {
    return `!${computeEventId(create, rules).slice(1)}` === roomId;
  } catch {
    return false;
  }
}
