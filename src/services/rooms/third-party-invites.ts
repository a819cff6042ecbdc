// Third-party invites (client-server-api "Third-party invites",
// third_party_membership.yaml; server-server-api "Third-party invites").
//
// Inviting: the identity server is asked who the address is bound to; a
// bound address is an ordinary invite of that user, an unbound one is
// stored on the identity server and announced with an
// m.room.third_party_invite event whose state key is the identity server's
// token. Completing: once the address is bound, the identity server sends
// the invitee's server signed proof (/3pid/onbind); that server, or one in
// the room if it is not (/exchange_third_party_invite), turns the
// m.room.third_party_invite into an m.room.member invite carrying the proof,
// after checking the signature against the event's public keys and asking
// the identity server that the key is still valid (key_validity_url). A
// /join with third_party_signed does the same first, as Synapse.
import { isSignedByPublicKey, thirdPartyInviteKeys } from '../../core/auth-rules.js';
import { badJson, forbidden, MatrixError, notFound } from '../../core/errors.js';
import { isValidUserId, parseRoomId, serverNameOfUserId } from '../../core/identifiers.js';
import type { Event, JsonObject, JsonValue } from '../../core/types.js';
import type { InviteDetails, StoredInvite } from '../identity-servers.js';
import type { EventPipeline } from './event-pipeline.js';
import type { RemoteRooms, RoomService } from './index.js';
import type { LoadedRoom } from './room-state.js';

/** What third-party invites need of identity servers (services/identity-servers.ts implements it). */
export interface IdentityInvites {
  lookup(idServer: string, idAccessToken: string, medium: string, address: string): Promise<string | undefined>;
  storeInvite(idServer: string, idAccessToken: string, medium: string, address: string, details: InviteDetails): Promise<StoredInvite>;
  isKeyValid(keyValidityUrl: string, publicKey: string): Promise<boolean>;
}

/** invite_3pid.yaml: who to invite, and the identity server to ask. */
export interface ThirdPartyInviteRequest {
  idServer: string;
  idAccessToken: string;
  medium: string;
  address: string;
}

export interface ThirdPartyInviteDeps {
  serverName: string;
  rooms: RoomService;
  pipeline: EventPipeline;
  identity: IdentityInvites;
  /** Absent: rooms are local to this server. */
  remote?: Pick<RemoteRooms, 'exchangeThirdPartyInvite'>;
  /** Throws (429) when `userId` has sent too many 3PID invites lately (rc_third_party_invite). */
  throttle?: (userId: string) => void;
}

export class ThirdPartyInviteService {
  constructor(private readonly deps: ThirdPartyInviteDeps) {}

  /** POST /rooms/{roomId}/invite with id_server, id_access_token, medium and address; createRoom's invite_3pid. */
  async invite(sender: string, roomId: string, request: ThirdPartyInviteRequest): Promise<void> {
    const { rooms, identity, pipeline } = this.deps;
    await rooms.refuseIfBlocked(roomId);
    const room = await this.residentRoom(roomId);
    // Checked before the identity server is asked to store anything on the sender's behalf.
    if (room.membership(sender) !== 'join') throw forbidden(`${sender} cannot invite: they are not joined to ${roomId}`);
    const powers = rooms.powerLevels(room);
    if (!powers.canInvite(sender)) throw forbidden(`${sender} needs power level ${powers.level('invite')} to invite`);
    // As Synapse: each invite may make the identity server send an e-mail, so a user cannot send them in bulk.
    this.deps.throttle?.(sender);
    const mxid = await identity.lookup(request.idServer, request.idAccessToken, request.medium, request.address);
    if (mxid !== undefined) {
      if (!isValidUserId(mxid)) throw new MatrixError(502, 'M_UNKNOWN', `The identity server ${request.idServer} mapped the address to '${mxid}', which is not a user ID`);
      await rooms.invite(sender, roomId, mxid);
      return;
    }
    const stored = await identity.storeInvite(request.idServer, request.idAccessToken, request.medium, request.address, inviteDetails(room, sender));
    await pipeline.send(roomId, {
      type: 'm.room.third_party_invite',
      sender,
      stateKey: stored.token,
      content: {
        display_name: stored.displayName,
        public_keys: stored.publicKeys,
        // The single key of older servers, which m.room.third_party_invite still describes.
        key_validity_url: stored.fallback.key_validity_url,
        public_key: stored.fallback.public_key,
      },
    });
  }

  /**
   * Turns the m.room.third_party_invite named by `signed.token` into an
   * invite of `target` sent by `sender` (who sent the m.room.third_party_invite):
   * here when this server is in the room, else by asking the sender's
   * server (and, before v12, the room's) to do it. Nothing is done when
   * the target is joined already.
   */
  async exchange(sender: string, target: string, roomId: string, signed: JsonValue | undefined): Promise<void> {
    const proof = signedProof(signed, target);
    const room = await this.deps.pipeline.room(roomId);
    if (room && this.deps.rooms.isResident(room)) {
      await this.exchangeHere(room, sender, target, proof);
      return;
    }
    if (!this.deps.remote) throw notFound(`${roomId} is not on this server, and this server does not federate`);
    const servers = [serverNameOfUserId(sender), parseRoomId(roomId)?.serverName].filter((s): s is string => typeof s === 'string');
    // The display name is the m.room.third_party_invite's, which only a server in the room knows; it fills it in.
    await this.deps.remote.exchangeThirdPartyInvite(roomId, servers, {
      type: 'm.room.member',
      room_id: roomId,
      sender,
      state_key: target,
      content: { membership: 'invite', third_party_invite: { signed: proof } },
    });
  }

  /**
   * PUT /_matrix/federation/v1/3pid/onbind from an identity server: an
   * address was bound to one of our users, and these are the invites it
   * held for it. Each is exchanged; one failing does not stop the others,
   * and the last failure is the answer (as Synapse), so the identity
   * server knows to try again.
   */
  async onBind(body: JsonValue | undefined): Promise<void> {
    if (!isObject(body)) throw badJson('The body must be an object with medium, address, mxid and invites');
    const invites = body['invites'];
    if (invites === undefined) return;
    if (!Array.isArray(invites)) throw badJson('invites must be a list');
    let failure: unknown;
    for (const [i, invite] of invites.entries()) {
      try {
        if (!isObject(invite)) throw badJson(`invites[${i}] must be an object`);
        const { mxid, sender, room_id: roomId, signed } = invite;
        if (typeof mxid !== 'string' || serverNameOfUserId(mxid) !== this.deps.serverName) {
          throw badJson(`invites[${i}].mxid must be a user of this server (${this.deps.serverName}), not ${JSON.stringify(mxid)}`);
        }
        if (typeof sender !== 'string' || !isValidUserId(sender)) throw badJson(`invites[${i}].sender must be the inviter's user ID`);
        if (typeof roomId !== 'string' || parseRoomId(roomId) === null) throw badJson(`invites[${i}].room_id must be a room ID`);
        await this.exchange(sender, mxid, roomId, signed);
      } catch (err) {
        failure = err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * PUT /exchange_third_party_invite/{roomId} from another server: the
   * partial m.room.member invite it sends (third_party_invite.yaml),
   * exchanged here. 404 when this server is not in the room.
   */
  async exchangeForServer(roomId: string, event: JsonValue | undefined): Promise<void> {
    if (!isObject(event)) throw badJson('The body must be the partial m.room.member event');
    const { type, room_id: eventRoomId, sender, state_key: target, content } = event;
    if (type !== 'm.room.member') throw badJson(`The event must be an m.room.member, not ${JSON.stringify(type)}`);
    if (eventRoomId !== roomId) throw badJson(`The event's room_id ${JSON.stringify(eventRoomId)} is not ${roomId}, the room in the path`);
    if (typeof sender !== 'string' || !isValidUserId(sender)) throw badJson('The event needs a sender: the user ID who sent the m.room.third_party_invite');
    if (typeof target !== 'string' || !isValidUserId(target)) throw badJson('The event needs a state_key: the user ID of the invitee');
    if (!isObject(content) || content['membership'] !== 'invite') throw badJson('The event content must have membership "invite"');
    const thirdPartyInvite = content['third_party_invite'];
    if (!isObject(thirdPartyInvite)) throw badJson('The event content needs a third_party_invite object');
    const room = await this.deps.pipeline.room(roomId);
    if (!room || !this.deps.rooms.isResident(room)) throw notFound(`This server is not in ${roomId}`);
    await this.exchangeHere(room, sender, target, signedProof(thirdPartyInvite['signed'], target));
  }

  private async exchangeHere(room: LoadedRoom, sender: string, target: string, signed: JsonObject): Promise<void> {
    if (room.membership(target) === 'join') return;
    const token = signed['token'] as string;
    const announced = room.stateEvent('m.room.third_party_invite', token);
    if (!announced) throw forbidden(`${room.roomId} has no third-party invite with token ${JSON.stringify(token)}`);
    await this.checkStillVouchedFor(announced, signed);
    const content: JsonObject = { membership: 'invite', third_party_invite: { display_name: announced.content['display_name'] ?? '', signed } };
    // The authorisation rules check the signature again, and that `sender` sent the m.room.third_party_invite.
    await this.deps.pipeline.withRoom(room.roomId, async (loaded) => {
      if (!loaded) throw notFound(`Unknown room ${room.roomId}`);
      await this.deps.rooms.sendInvite(loaded, sender, target, content);
    });
  }

  /**
   * client-server-api "Third-party invites", server behaviour: the server
   * in the room MUST check with key_validity_url that the key that signed
   * the proof is still valid. The first public key of the event that
   * verifies the signature is the one asked about (as Synapse).
   */
  private async checkStillVouchedFor(announced: Event, signed: JsonObject): Promise<void> {
    const keys = thirdPartyInviteKeys(announced.content);
    const signer = keys.find((key) => isSignedByPublicKey(signed, key.publicKey));
    if (!signer) throw forbidden('The third-party invite proof is not signed by any key of the m.room.third_party_invite event');
    if (signer.keyValidityUrl === undefined) return;
    if (!(await this.deps.identity.isKeyValid(signer.keyValidityUrl, signer.publicKey))) {
      throw forbidden('The identity server no longer vouches for the key that signed this third-party invite');
    }
  }

  private async residentRoom(roomId: string): Promise<LoadedRoom> {
    const room = await this.deps.pipeline.room(roomId);
    if (!room || !this.deps.rooms.isResident(room)) throw notFound(`Unknown room ${roomId}: no such room on this server`);
    return room;
  }
}

/** third_party_signed.yaml / signed_third_party_invite.yaml: mxid (the target), token and signatures. */
function signedProof(signed: JsonValue | undefined, target: string): JsonObject {
  if (!isObject(signed)) throw badJson('third_party_signed must be an object with mxid, token and signatures');
  if (typeof signed['token'] !== 'string') throw badJson('third_party_signed needs the token of the m.room.third_party_invite');
  if (!isObject(signed['signatures'])) throw badJson("third_party_signed needs the identity server's signatures");
  if (signed['mxid'] !== target) throw forbidden(`The third-party invite proof is for ${JSON.stringify(signed['mxid'])}, not ${target}`);
  return signed;
}

/** What the identity server may show the invitee (identity-service-api "Invitation storage"), as Synapse sends it. */
function inviteDetails(room: LoadedRoom, sender: string): InviteDetails {
  const text = (type: string, key: string): string => {
    const value = room.stateEvent(type)?.content[key];
    return typeof value === 'string' ? value : '';
  };
  const member = room.stateEvent('m.room.member', sender)?.content ?? {};
  const roomType = room.stateEvent('m.room.create')?.content['type'];
  return {
    room_id: room.roomId,
    sender,
    room_alias: text('m.room.canonical_alias', 'alias'),
    room_avatar_url: text('m.room.avatar', 'url'),
    room_join_rules: text('m.room.join_rules', 'join_rule'),
    room_name: text('m.room.name', 'name'),
    ...(typeof roomType === 'string' ? { room_type: roomType } : {}),
    sender_display_name: typeof member['displayname'] === 'string' && member['displayname'] !== '' ? member['displayname'] : sender,
    sender_avatar_url: typeof member['avatar_url'] === 'string' ? member['avatar_url'] : '',
  };
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
