// Joining, knocking, leaving and inviting over federation (server-server-api
// "Joining Rooms", "Knocking upon a room", "Inviting to a room", "Leaving
// Rooms"; data/api/server-server/joins-v1.yaml, joins-v2.yaml, knocks.yaml,
// invites-v1.yaml, invites-v2.yaml, leaving-v1.yaml, leaving-v2.yaml).
import type { MembershipServer } from '../../federation/inbound/membership.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { MatrixRequest, Route } from '../types.js';
import { requireObject } from '../validate.js';

const V1 = '/_matrix/federation/v1';
const V2 = '/_matrix/federation/v2';

export function federationMembershipRoutes(membership: MembershipServer): Route[] {
  const origin = (req: MatrixRequest): string => req.origin!;
  // The v1 send_join, send_leave and invite answer `[200, body]`, a historical quirk the spec keeps.
  const v1Shape = (body: JsonObject): JsonValue => [200, body];
  const routes: Route[] = [];
  for (const kind of ['join', 'leave', 'knock'] as const) {
    /** # GET /_matrix/federation/v1/make_{join,leave,knock}/{roomId}/{userId} */
    routes.push({
      method: 'GET',
      path: `${V1}/make_${kind}/{roomId}/{userId}`,
      auth: 'federation',
      handler: async (req) => ({ body: await membership.make(kind, origin(req), req.params.roomId!, req.params.userId!, req.query.getAll('ver')) }),
    });
  }
  const send = (kind: 'join' | 'leave' | 'knock', req: MatrixRequest) => membership.send(kind, origin(req), req.params.roomId!, req.params.eventId!, req.body);
  routes.push(
    /** # PUT /_matrix/federation/v2/send_join/{roomId}/{eventId} */
    { method: 'PUT', path: `${V2}/send_join/{roomId}/{eventId}`, auth: 'federation', handler: async (req) => ({ body: await send('join', req) }) },
    /** # PUT /_matrix/federation/v1/send_join/{roomId}/{eventId} (deprecated) */
    { method: 'PUT', path: `${V1}/send_join/{roomId}/{eventId}`, auth: 'federation', handler: async (req) => ({ body: v1Shape(await send('join', req)) }) },
    /** # PUT /_matrix/federation/v2/send_leave/{roomId}/{eventId} */
    { method: 'PUT', path: `${V2}/send_leave/{roomId}/{eventId}`, auth: 'federation', handler: async (req) => ({ body: await send('leave', req) }) },
    /** # PUT /_matrix/federation/v1/send_leave/{roomId}/{eventId} (deprecated) */
    { method: 'PUT', path: `${V1}/send_leave/{roomId}/{eventId}`, auth: 'federation', handler: async (req) => ({ body: v1Shape(await send('leave', req)) }) },
    /** # PUT /_matrix/federation/v1/send_knock/{roomId}/{eventId} */
    { method: 'PUT', path: `${V1}/send_knock/{roomId}/{eventId}`, auth: 'federation', handler: async (req) => ({ body: await send('knock', req) }) },
    /** # PUT /_matrix/federation/v2/invite/{roomId}/{eventId} */
    {
      method: 'PUT',
      path: `${V2}/invite/{roomId}/{eventId}`,
      auth: 'federation',
      handler: async (req) => {
        const body = requireObject(req.body);
        const version = typeof body['room_version'] === 'string' ? body['room_version'] : '1';
        return { body: await membership.invite(origin(req), req.params.roomId!, req.params.eventId!, version, body['event'], body['invite_room_state']) };
      },
    },
    /** # PUT /_matrix/federation/v1/invite/{roomId}/{eventId} (deprecated: room versions 1 and 2) */
    {
      method: 'PUT',
      path: `${V1}/invite/{roomId}/{eventId}`,
      auth: 'federation',
      handler: async (req) => {
        const { unsigned, ...pdu } = requireObject(req.body);
        const state = typeof unsigned === 'object' && unsigned !== null && !Array.isArray(unsigned) ? unsigned['invite_room_state'] : undefined;
        return { body: v1Shape(await membership.invite(origin(req), req.params.roomId!, req.params.eventId!, '1', pdu, state)) };
      },
    },
  );
  return routes;
}
