// Sending and reading room events and state (client-server-api/_index.md
// "Sending events to a room", "Getting events for a room", "Redactions";
// room_send.yaml, room_state.yaml, redaction.yaml, list_joined_rooms.yaml).
import type { JsonObject } from '../../core/types.js';
import type { ClientEventFormatter } from '../../services/rooms/client-events.js';
import type { RoomService } from '../../services/rooms/index.js';
import type { RoomStateReader } from '../../services/rooms/room-state-reader.js';
import type { MatrixRequest, Route } from '../types.js';
import { requireObject } from '../validate.js';

export interface RoomEventRouteDeps {
  rooms: RoomService;
  stateReader: RoomStateReader;
  formatter: ClientEventFormatter;
}

/**
 * The request's transaction key: a retransmission repeats the transaction
 * ID on the same endpoint with the same path parameters (client-server-api
 * "Transaction identifiers"), whichever API version prefix it came by.
 */
function txnOf(req: MatrixRequest, endpoint: 'send' | 'redact', ...pathParams: string[]) {
  const { userId, deviceId } = req.requester!;
  return { userId, deviceId, scope: JSON.stringify([endpoint, ...pathParams]), txnId: req.params.txnId! };
}

export function roomEventRoutes({ rooms, stateReader, formatter }: RoomEventRouteDeps): Route[] {
  // The PUT forms carry a transaction ID; Synapse's legacy POST forms none, so each POST sends.
  const sendEvent = async (req: MatrixRequest) => {
    const content = requireObject(req.body, 'event content');
    const { roomId, eventType } = req.params as { roomId: string; eventType: string };
    const txn = req.params.txnId === undefined ? undefined : txnOf(req, 'send', roomId, eventType);
    const sent = await rooms.sendMessage(req.requester!.userId, roomId, eventType, content, txn);
    return { body: { event_id: sent.event.event_id } };
  };
  const redactEvent = async (req: MatrixRequest) => {
    const content = requireObject(req.body ?? {});
    const { roomId, eventId } = req.params as { roomId: string; eventId: string };
    const txn = req.params.txnId === undefined ? undefined : txnOf(req, 'redact', roomId, eventId);
    const sent = await rooms.redact(req.requester!.userId, roomId, eventId, content, txn);
    return { body: { event_id: sent.event.event_id } };
  };
  const putState = async (req: MatrixRequest) => {
    const content = requireObject(req.body, 'state event content');
    const { userId, isGuest } = req.requester!;
    const sent = await rooms.sendState(userId, req.params.roomId!, req.params.eventType!, req.params.stateKey ?? '', content, isGuest);
    return { body: { event_id: sent.event.event_id } };
  };
  const getState = async (req: MatrixRequest) => {
    const { roomId, eventType } = req.params;
    const event = await stateReader.visibleStateEvent(req.requester!.userId, roomId!, eventType!, req.params.stateKey ?? '');
    const formatted = await formatter.formatOne(event);
    // format=event returns the whole event instead of its content (room_state.yaml).
    return { body: req.query.get('format') === 'event' ? formatted : (formatted.content as JsonObject) };
  };

  return [
    /** # PUT /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId} */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}',
      auth: 'required',
      guests: true,
      body: 'json',
      rateLimit: 'message',
      handler: sendEvent,
    },
    /**
     * POST /rooms/{roomId}/send/{eventType}: not in the spec, which has only
     * the PUT with a transaction ID, but Synapse keeps it from r0 and older
     * clients and scripts still use it. No transaction: each POST sends.
     */
    {
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/send/{eventType}',
      auth: 'required',
      guests: true,
      body: 'json',
      rateLimit: 'message',
      handler: sendEvent,
    },
    /** # PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey} */
    { method: 'PUT', path: '/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}', auth: 'required', body: 'json', guests: true, handler: putState },
    /** # PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType} (empty state key) */
    { method: 'PUT', path: '/_matrix/client/v3/rooms/{roomId}/state/{eventType}', auth: 'required', body: 'json', guests: true, handler: putState },
    /** # GET /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey} */
    { method: 'GET', path: '/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}', auth: 'required', guests: true, handler: getState },
    /** # GET /_matrix/client/v3/rooms/{roomId}/state/{eventType} (empty state key) */
    { method: 'GET', path: '/_matrix/client/v3/rooms/{roomId}/state/{eventType}', auth: 'required', guests: true, handler: getState },
    /** # GET /_matrix/client/v3/rooms/{roomId}/state */
    {
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/state',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const events = await stateReader.visibleState(req.requester!.userId, req.params.roomId!);
        return { body: await formatter.format(events) };
      },
    },
    /** # PUT /_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId} */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}',
      auth: 'required',
      body: 'json',
      rateLimit: 'message',
      handler: redactEvent,
    },
    /** POST /rooms/{roomId}/redact/{eventId}: Synapse's legacy form of the PUT above, without a transaction ID. */
    {
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/redact/{eventId}',
      auth: 'required',
      body: 'json',
      rateLimit: 'message',
      handler: redactEvent,
    },
    /** # GET /_matrix/client/v3/joined_rooms */
    {
      method: 'GET',
      path: '/_matrix/client/v3/joined_rooms',
      auth: 'required',
      handler: async (req) => {
        return { body: { joined_rooms: await rooms.joinedRooms(req.requester!.userId) } };
      },
    },
  ];
}
