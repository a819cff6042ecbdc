// Membership handshakes this server starts with others (server-server-api
// "Joining Rooms", "Knocking upon a room", "Inviting to a room", "Leaving
// Rooms (Rejecting Invites)"): joining a room through a resident server,
// knocking, rejecting an invite through the inviting server, and asking a
// remote user's server to sign our invite.
import { randomBytes } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import { forbidden, MatrixError, notFound } from '../core/errors.js';
import { computeEventId, generateServerEventId } from '../core/event-id.js';
import { finaliseEvent, type UnsignedPdu } from '../core/event-signing.js';
import { parseRoomAlias, serverNameOfUserId } from '../core/identifiers.js';
import { ROOM_VERSIONS, roomVersion, type RoomVersionRules } from '../core/room-versions.js';
import type { SigningKey } from '../core/signing.js';
import type { Event, JsonObject, JsonValue } from '../core/types.js';
import type { EventPipeline, ReceivedEvent } from '../services/rooms/event-pipeline.js';
import type { RemoteRooms } from '../services/rooms/index.js';
import { DroppedPduError, type FederatedEventHandler } from './inbound/event-handler.js';
import { federationPath, type FederationRequester } from './requester.js';

const V1 = '/_matrix/federation/v1';
const V2 = '/_matrix/federation/v2';
/** Every room version we can take part in, for make_join/make_knock's `ver`. */
const SUPPORTED_VERSIONS = [...ROOM_VERSIONS.keys()];

export interface RemoteMembershipDeps {
  client: FederationRequester;
  pipeline: EventPipeline;
  events: FederatedEventHandler;
  serverName: string;
  signingKey: SigningKey;
  clock: () => number;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

/** What is asked of the room's servers; 'invite' is a third-party invite's exchange. */
type Handshake = 'join' | 'leave' | 'knock' | 'invite';

export class RemoteMembership implements RemoteRooms {
  constructor(private readonly deps: RemoteMembershipDeps) {}

  /**
   * Joins `userId` to a room this server is not in, through the first of
   * `servers` that answers: make_join, sign, send_join, then take in the
   * room's state and auth chain (each checked) and the join. Returns the
   * join's event ID.
   */
  async join(userId: string, roomId: string, servers: readonly string[], content: JsonObject): Promise<string> {
    return this.tryServers(roomId, servers, 'join', async (server) => {
      const { pdu, rules } = await this.makeAndSign(server, 'join', roomId, userId, content);
      const eventId = computeEventId(pdu, rules);
      const response = await this.sendJoin(server, roomId, eventId, pdu);
      const signed = isObject(response['event']) ? (response['event'] as JsonObject) : (pdu as unknown as JsonObject);
      const join = await this.deps.events.checkPdu(rules, roomId, signed);
      const [state, authChain] = await this.checkAll(rules, roomId, [response['state'], response['auth_chain']]);
      const create = state.find((s) => s.event.type === 'm.room.create' && s.event.state_key === '');
      if (!create) throw new MatrixError(502, 'M_UNKNOWN', `${server} sent the room's state without its m.room.create event`);
      const outcome = await this.deps.pipeline.joinRemoteRoom(
        { roomId, roomVersion: rules.id, creator: creatorOf(create.event, rules) },
        rules,
        [...authChain, ...state],
        state.map((s) => s.event.event_id),
        join,
      );
      if (outcome.status !== 'accepted' && outcome.status !== 'duplicate') {
        throw forbidden(`The join ${server} helped build does not pass the room's rules: ${outcome.reason}`);
      }
      return eventId;
    });
  }

  /** GET /query/directory on the alias's server: the room it names and servers in it. */
  async resolveAlias(alias: string): Promise<{ roomId: string; servers: string[] }> {
    const server = parseRoomAlias(alias)?.serverName;
    if (!server) throw new MatrixError(400, 'M_INVALID_PARAM', `'${alias}' is not a room alias`);
    let answer: JsonObject;
    try {
      answer = await this.deps.client.request<JsonObject>(server, 'GET', `${V1}/query/directory`, { query: { room_alias: alias } });
    } catch (err) {
      const { status, errcode } = err as { status?: number; errcode?: string };
      if (status === 404) throw notFound(`Room alias ${alias} not found on ${server}`);
      throw new MatrixError(502, errcode ?? 'M_UNKNOWN', `Could not look up ${alias} on ${server}: ${(err as Error).message}`);
    }
    const roomId = answer['room_id'];
    if (typeof roomId !== 'string') throw new MatrixError(502, 'M_UNKNOWN', `${server} answered the alias query without a room ID`);
    const servers = Array.isArray(answer['servers']) ? answer['servers'].filter((s): s is string => typeof s === 'string') : [];
    return { roomId, servers: [server, ...servers] };
  }

  /**
   * Leaves a room this server is not in (rejecting an invite, retracting a
   * knock) through `servers`, usually the inviter's: make_leave, sign,
   * send_leave, then records the leave for the user. If no server can be
   * reached the leave is recorded here alone, as Synapse does, so the user
   * is not stuck with an invite they cannot reject.
   */
  async leave(userId: string, roomId: string, servers: readonly string[], content: JsonObject): Promise<string> {
    try {
      return await this.tryServers(roomId, servers, 'leave', async (server) => {
        const { pdu, rules } = await this.makeAndSign(server, 'leave', roomId, userId, content);
        const eventId = computeEventId(pdu, rules);
        await this.requestV2OrV1(server, 'PUT', 'send_leave', [roomId, eventId], pdu as unknown as JsonObject);
        await this.recordOutOfRoom(rules, roomId, pdu, undefined);
        return eventId;
      });
    } catch (err) {
      this.deps.log('could not leave a room through another server; recording the leave here only', { roomId, userId, error: (err as Error).message });
      return this.leaveLocally(userId, roomId, content);
    }
  }

  /** An out-of-band leave: signed by us, built on nothing, known only here. */
  private async leaveLocally(userId: string, roomId: string, content: JsonObject): Promise<string> {
    const record = await this.deps.pipeline.roomRecord(roomId);
    const rules = (record && roomVersion(record.roomVersion)) ?? roomVersion('10')!;
    const unsigned: UnsignedPdu = {
      type: 'm.room.member',
      sender: userId,
      state_key: userId,
      room_id: roomId,
      content: { ...content, membership: 'leave' },
      origin_server_ts: this.deps.clock(),
      depth: 0,
      prev_events: [],
      auth_events: [],
    };
    if (rules.eventFormat === 1) unsigned.event_id = generateServerEventId(this.deps.serverName, () => randomBytes(12).toString('base64url'));
    const pdu = finaliseEvent(unsigned, this.deps.serverName, this.deps.signingKey, rules) as unknown as JsonObject;
    await this.recordOutOfRoom(rules, roomId, pdu, undefined);
    return computeEventId(pdu, rules);
  }

  /** Knocks on a room this server is not in; the stripped state the resident returns is what the user sees. */
  async knock(userId: string, roomId: string, servers: readonly string[], content: JsonObject): Promise<string> {
    return this.tryServers(roomId, servers, 'knock', async (server) => {
      const { pdu, rules } = await this.makeAndSign(server, 'knock', roomId, userId, content);
      const eventId = computeEventId(pdu, rules);
      const response = await this.deps.client.request<JsonObject>(server, 'PUT', federationPath(`${V1}/send_knock`, roomId, eventId), { body: pdu as unknown as JsonObject });
      const stripped = Array.isArray(response['knock_room_state']) ? (response['knock_room_state'].filter(isObject) as JsonObject[]) : [];
      await this.recordOutOfRoom(rules, roomId, pdu, stripped);
      return eventId;
    });
  }

  /**
   * Has `invitee`'s server sign our invite (PUT /v2/invite, v1 for servers
   * that lack it in rooms of version 1 and 2) and returns the invite as it
   * signed it, which is what enters the room.
   */
  async signInvite(invite: Event, rules: RoomVersionRules, pdu: JsonObject, inviteRoomState: JsonObject[]): Promise<ReceivedEvent> {
    const server = serverNameOfUserId(invite.state_key!);
    if (!server) throw new MatrixError(400, 'M_INVALID_PARAM', `${invite.state_key} is not a user ID`);
    const path = [invite.room_id, invite.event_id];
    let signed: JsonValue;
    try {
      const response = await this.deps.client.request<JsonObject>(server, 'PUT', federationPath(`${V2}/invite`, ...path), {
        body: { room_version: rules.id, event: pdu, invite_room_state: inviteRoomState },
      });
      signed = response['event'] ?? null;
    } catch (err) {
      if (!isUnrecognised(err)) throw asMatrixError(err, `${server} refused the invite`);
      // Only rooms of versions 1 and 2 can be described to a server that lacks /v2/invite (as Synapse).
      if (rules.eventFormat !== 1) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `${server} does not support room version ${rules.id}`);
      const v1 = await this.deps.client
        .request<JsonValue>(server, 'PUT', federationPath(`${V1}/invite`, ...path), { body: { ...pdu, unsigned: { invite_room_state: inviteRoomState } } })
        .catch((e: unknown) => {
          throw asMatrixError(e, `${server} refused the invite`);
        });
      signed = Array.isArray(v1) && isObject(v1[1]) ? (v1[1]['event'] ?? null) : null;
    }
    if (!isObject(signed)) throw new MatrixError(502, 'M_UNKNOWN', `${server} answered the invite without the signed event`);
    let checked: ReceivedEvent;
    try {
      checked = await this.deps.events.checkPdu(rules, invite.room_id, signed);
    } catch (err) {
      throw new MatrixError(400, 'M_BAD_JSON', `${server} answered the invite with an event this server cannot accept: ${(err as Error).message}`);
    }
    if (checked.event.event_id !== invite.event_id) throw new MatrixError(502, 'M_UNKNOWN', `${server} changed the invite while signing it`);
    if (!signed['signatures'] || !isObject((signed['signatures'] as JsonObject)[server])) {
      throw new MatrixError(502, 'M_UNKNOWN', `${server} did not sign the invite`);
    }
    return checked;
  }

  /**
   * PUT /exchange_third_party_invite/{roomId} (server-server-api
   * "Third-party invites"): a server in the room turns the third-party
   * invite into an invite of `event.state_key`, through the first of
   * `servers` that accepts.
   */
  async exchangeThirdPartyInvite(roomId: string, servers: readonly string[], event: JsonObject): Promise<void> {
    await this.tryServers(roomId, servers, 'invite', async (server) => {
      await this.deps.client.request<JsonObject>(server, 'PUT', federationPath(`${V1}/exchange_third_party_invite`, roomId), { body: event });
    });
  }

  /**
   * make_{join,leave,knock} on `server`, checks the template names what we
   * asked for, and returns it completed with our content, origin and time,
   * hashed and signed.
   */
  private async makeAndSign(server: string, kind: Exclude<Handshake, 'invite'>, roomId: string, userId: string, content: JsonObject): Promise<{ pdu: UnsignedPdu & JsonObject; rules: RoomVersionRules }> {
    const query = kind === 'leave' ? undefined : { ver: SUPPORTED_VERSIONS };
    const made = await this.deps.client.request<JsonObject>(server, 'GET', federationPath(`${V1}/make_${kind}`, roomId, userId), { query });
    const versionId = typeof made['room_version'] === 'string' ? made['room_version'] : '1';
    const rules = roomVersion(versionId);
    if (!rules) throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `${roomId} has room version ${versionId}, which this server does not support`, { room_version: versionId });
    const template = made['event'];
    if (!isObject(template)) throw new MatrixError(502, 'M_UNKNOWN', `${server} answered make_${kind} without an event template`);
    const templateContent = isObject(template['content']) ? template['content'] : {};
    // The spec: check the fields we asked for before signing anything.
    if (template['type'] !== 'm.room.member' || template['room_id'] !== roomId || template['sender'] !== userId || template['state_key'] !== userId || templateContent['membership'] !== kind) {
      throw new MatrixError(502, 'M_UNKNOWN', `${server} sent a make_${kind} template for another event than the one asked for`);
    }
    const authorisedVia = templateContent['join_authorised_via_users_server'];
    const unsigned: UnsignedPdu & JsonObject = {
      ...(template as unknown as UnsignedPdu & JsonObject),
      content: { ...content, ...(typeof authorisedVia === 'string' ? { join_authorised_via_users_server: authorisedVia } : {}), membership: kind },
      origin: this.deps.serverName,
      origin_server_ts: this.deps.clock(),
    };
    delete unsigned['event_id'];
    delete unsigned['hashes'];
    delete unsigned['signatures'];
    delete unsigned['unsigned'];
    if (rules.eventFormat === 1) unsigned.event_id = generateServerEventId(this.deps.serverName, () => randomBytes(12).toString('base64url'));
    const pdu = finaliseEvent(unsigned, this.deps.serverName, this.deps.signingKey, rules) as unknown as UnsignedPdu & JsonObject;
    return { pdu, rules };
  }

  /** PUT /v2/send_join, falling back to v1 (whose answer is `[200, body]`) for servers without it. */
  private async sendJoin(server: string, roomId: string, eventId: string, pdu: JsonObject): Promise<JsonObject> {
    return this.requestV2OrV1(server, 'PUT', 'send_join', [roomId, eventId], pdu);
  }

  private async requestV2OrV1(server: string, method: 'PUT', endpoint: string, segments: string[], body: JsonObject): Promise<JsonObject> {
    try {
      return await this.deps.client.request<JsonObject>(server, method, federationPath(`${V2}/${endpoint}`, ...segments), { body });
    } catch (err) {
      if (!isUnrecognised(err)) throw err;
      const v1 = await this.deps.client.request<JsonValue>(server, method, federationPath(`${V1}/${endpoint}`, ...segments), { body });
      return Array.isArray(v1) && isObject(v1[1]) ? v1[1] : {};
    }
  }

  /**
   * Checks every PDU of a response's lists as one batch (the keys fetched
   * once, a large batch spread over the worker pool); those failing are left
   * out (and logged). Returns each list's events.
   */
  private async checkAll(rules: RoomVersionRules, roomId: string, lists: (JsonValue | undefined)[]): Promise<ReceivedEvent[][]> {
    const arrays = lists.map((list) => (Array.isArray(list) ? list : []));
    const checked = await this.deps.events.checkPdus(rules, roomId, arrays.flat());
    let start = 0;
    return arrays.map((list) => {
      const outcomes = checked.slice(start, (start += list.length));
      for (const dropped of outcomes.filter((c) => c instanceof DroppedPduError)) {
        this.deps.log('left out an event of a join response', { roomId, error: dropped.message });
      }
      return outcomes.filter((c): c is ReceivedEvent => !(c instanceof DroppedPduError));
    });
  }

  private async recordOutOfRoom(rules: RoomVersionRules, roomId: string, pdu: JsonObject, stripped: JsonObject[] | undefined): Promise<void> {
    const event = { ...pdu, event_id: computeEventId(pdu, rules), room_id: roomId } as unknown as Event;
    const known = await this.deps.pipeline.room(roomId);
    const record = { roomId, roomVersion: rules.id, creator: known?.stateEvent('m.room.create')?.sender ?? event.sender };
    await this.deps.pipeline.recordOutOfRoomMembership(record, { event, json: canonicalJson(pdu, { strict: rules.strictCanonicalJson }) }, stripped);
  }

  /** Runs `attempt` against each server in turn until one succeeds; the last failure explains them all. */
  private async tryServers<T>(roomId: string, servers: readonly string[], kind: Handshake, attempt: (server: string) => Promise<T>): Promise<T> {
    const candidates = [...new Set(servers)].filter((s) => s !== this.deps.serverName);
    if (candidates.length === 0) throw notFound(`No server to ${kind} ${roomId} through: name one with via or server_name, or be invited`);
    const failures: string[] = [];
    let refusal: MatrixError | undefined;
    for (const server of candidates) {
      try {
        return await attempt(server);
      } catch (err) {
        failures.push(`${server}: ${(err as Error).message}`);
        this.deps.log(`could not ${kind} a room through a server`, { roomId, server, error: (err as Error).message });
        // A server that understood and said no (403 not invited, 400 bad version…) is worth passing on as such.
        const { status, errcode, remoteExtra } = err as { status?: number; errcode?: string; remoteExtra?: JsonObject };
        if (refusal === undefined && err instanceof MatrixError && err.status < 500) refusal = err;
        else if (refusal === undefined && status !== undefined && status >= 400 && status < 500 && typeof errcode === 'string') {
          refusal = new MatrixError(status, errcode, `${server} refused to let ${kind === 'join' ? 'you join' : `you ${kind}`}: ${(err as Error).message}`, remoteExtra);
        }
      }
    }
    throw refusal ?? new MatrixError(502, 'M_UNKNOWN', `Could not ${kind} ${roomId} through any server (${failures.join('; ')})`);
  }
}

/** The room's creator as the rooms table records it: content.creator before v11, the sender from v11. */
function creatorOf(create: Event, rules: RoomVersionRules): string {
  const creator = create.content['creator'];
  return !rules.implicitRoomCreator && typeof creator === 'string' ? creator : create.sender;
}

/**
 * The endpoint does not exist there (an older server): 404 or 405 with
 * M_UNRECOGNIZED, or with no Matrix error at all, as Synapse also counts.
 */
function isUnrecognised(err: unknown): boolean {
  const e = err as { status?: number; errcode?: string };
  return (e.status === 404 || e.status === 405) && (e.errcode === undefined || e.errcode === 'M_UNRECOGNIZED');
}

/**
 * What a client is told when another server's answer ends its request: the
 * remote refusal with its own status and errcode when it gave one (4xx),
 * else 502 naming the server and what went wrong.
 */
function asMatrixError(err: unknown, what: string): MatrixError {
  if (err instanceof MatrixError) return err;
  const { status, errcode, remoteExtra } = err as { status?: number; errcode?: string; remoteExtra?: JsonObject };
  if (status !== undefined && status >= 400 && status < 500 && errcode) return new MatrixError(status, errcode, `${what}: ${(err as Error).message}`, remoteExtra);
  return new MatrixError(502, 'M_UNKNOWN', `${what}: ${(err as Error).message}`);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
