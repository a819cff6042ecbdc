// Rooms across servers, built on the transport (index.ts): received PDUs
// into the event pipeline, what other servers may read of our rooms, the
// membership handshakes both ways, /send transactions, and the outbound
// queue that delivers our events. The composition root wires it in two
// steps because RoomService and the membership server need each other:
// `createRoomFederation` before RoomService, `serveMemberships` after.
import { referencedEventIds } from '../core/auth-events.js';
import { serverNameOfUserId } from '../core/identifiers.js';
import type { SigningKey } from '../core/signing.js';
import type { JsonObject } from '../core/types.js';
import type { EventPipeline } from '../services/rooms/event-pipeline.js';
import type { RoomService } from '../services/rooms/index.js';
import type { Database } from '../storage/database.js';
import { FederationOutboxStore } from '../storage/federation-outbox.js';
import { ReceivedTransactionStore } from '../storage/received-transactions.js';
import type { RoomStore } from '../storage/rooms/index.js';
import type { FederationServices } from './index.js';
import { FederatedEventHandler, type RemoteRoomFetcher } from './inbound/event-handler.js';
import { MembershipServer } from './inbound/membership.js';
import { FederationRoomQueries } from './inbound/room-queries.js';
import { TransactionReceiver } from './inbound/transactions.js';
import { RemoteMembership } from './membership.js';
import { DestinationReports } from './outbound/destination-report.js';
import { FederationSender } from './outbound/sender.js';
import { PduCheckPool } from './pdu-check-pool.js';
import { federationPath } from './requester.js';

export interface RoomFederationSetup {
  transport: FederationServices;
  db: Database;
  store: RoomStore;
  pipeline: EventPipeline;
  serverName: string;
  signingKey: SigningKey;
  clock: () => number;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** Which of these users asked for their data to be erased. */
  erasedAmong: (userIds: Iterable<string>) => Promise<ReadonlySet<string>>;
}

export interface RoomFederation {
  events: FederatedEventHandler;
  /**
   * Fetches the room's history from before its earliest events here, from
   * a server in the room; true if events were added (/messages reached the
   * start of what this server had).
   */
  backfill: (roomId: string) => Promise<boolean>;
  queries: FederationRoomQueries;
  /** Joins, knocks, leaves and invites through other servers (RoomService's RemoteRooms). */
  remote: RemoteMembership;
  transactions: TransactionReceiver;
  sender: FederationSender;
  /** Each destination's delivery health, for the federation admin API. */
  destinations: DestinationReports;
  /** Stops the workers that check large batches of received events (at shutdown). */
  stopWorkers: () => Promise<void>;
}

const V1 = '/_matrix/federation/v1';

export function createRoomFederation(setup: RoomFederationSetup): RoomFederation {
  const { transport, db, store, pipeline, serverName, clock, log } = setup;
  const checkPool = new PduCheckPool();
  const events = new FederatedEventHandler({
    pipeline,
    fetcher: remoteFetcher(transport),
    signingKeys: (pdus, rules) => transport.keyRing.keysForEvents(pdus, rules),
    checkPool,
    log,
  });
  const sender = new FederationSender({
    db,
    client: transport.client,
    outbox: new FederationOutboxStore(db),
    events: store.events,
    serverName,
    clock,
    isAllowed: (server) => transport.client.isAllowed(server),
    log,
  });
  // Our own events go out to the room's other servers, queued in the event's own transaction;
  // so do those we built for another server's user (a third-party invite we turned into an
  // invite: Synapse's send_on_behalf_of).
  pipeline.onPersisting(async (event, room, _streamOrdering, builtHere) => {
    if (builtHere || serverNameOfUserId(event.sender) === serverName) await sender.queueRoomEvent(event, room);
  });
  return {
    events,
    backfill: (roomId) => backfillRoom(events, pipeline, store, serverName, roomId, log),
    queries: new FederationRoomQueries({ store, serverName, clock, erasedAmong: setup.erasedAmong }),
    remote: new RemoteMembership({ client: transport.client, pipeline, events, serverName, signingKey: setup.signingKey, clock, log }),
    transactions: new TransactionReceiver({ events, store, transactions: new ReceivedTransactionStore(db), clock, log }),
    sender,
    destinations: new DestinationReports(sender, store.memberships),
    stopWorkers: () => checkPool.close(),
  };
}

/** The resident side of membership handshakes, once RoomService exists. */
export function serveMemberships(federation: RoomFederation, setup: RoomFederationSetup, rooms: RoomService): MembershipServer {
  const { pipeline, store, serverName, signingKey } = setup;
  return new MembershipServer({
    pipeline,
    rooms,
    store,
    events: federation.events,
    queries: federation.queries,
    serverName,
    signingKey,
    relay: (event) => {
      void pipeline.withRoom(event.room_id, async (room) => {
        if (room) await federation.sender.queueRoomEvent(event, room, serverNameOfUserId(event.sender) ?? undefined);
      });
    },
  });
}

/** Events asked for per backfill request (Synapse asks for 100). */
const BACKFILL_LIMIT = 100;

/**
 * The room's backward extremities are the prev_events of its earliest
 * timeline events that this server lacks in its timeline (a purge may have
 * kept them as outliers): if there are any, they are asked
 * of the room's other servers in turn until one gives history.
 */
async function backfillRoom(
  events: FederatedEventHandler,
  pipeline: EventPipeline,
  store: RoomStore,
  serverName: string,
  roomId: string,
  log: RoomFederationSetup['log'],
): Promise<boolean> {
  const room = await pipeline.room(roomId);
  if (!room) return false;
  const earliest = await store.events.earliestTimelineEvents(roomId, 20);
  const prevIds = [...new Set(earliest.flatMap((e) => referencedEventIds((JSON.parse(e.json) as { prev_events?: [] }).prev_events ?? [])))];
  const known = await pipeline.dag.inTimeline(prevIds);
  const missing = prevIds.filter((id) => !known.has(id));
  if (missing.length === 0) return false;
  for (const server of room.joinedServers()) {
    if (server === serverName) continue;
    try {
      if ((await events.backfill(server, room, missing, BACKFILL_LIMIT)) > 0) return true;
    } catch (err) {
      log('backfill from a server failed', { roomId, server, error: (err as Error).message });
    }
  }
  return false;
}

/** The requests the event handler makes, over the signed client. */
function remoteFetcher(transport: FederationServices): RemoteRoomFetcher {
  const { client } = transport;
  return {
    getMissingEvents: async (destination, roomId, req) => {
      const body = { earliest_events: req.earliest, latest_events: req.latest, limit: req.limit, min_depth: req.minDepth };
      const answer = await client.request<JsonObject>(destination, 'POST', federationPath(`${V1}/get_missing_events`, roomId), { body });
      return Array.isArray(answer['events']) ? answer['events'] : [];
    },
    getEvent: async (destination, eventId) => {
      const answer = await client.request<JsonObject>(destination, 'GET', federationPath(`${V1}/event`, eventId));
      const pdus = answer['pdus'];
      if (!Array.isArray(pdus) || pdus.length === 0) throw new Error(`${destination} answered /event/${eventId} without the event`);
      return pdus[0]!;
    },
    getStateIds: async (destination, roomId, eventId) => {
      const answer = await client.request<JsonObject>(destination, 'GET', federationPath(`${V1}/state_ids`, roomId), { query: { event_id: eventId } });
      const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
      return { stateIds: strings(answer['pdu_ids']), authChainIds: strings(answer['auth_chain_ids']) };
    },
    getEventAuth: async (destination, roomId, eventId) => {
      const answer = await client.request<JsonObject>(destination, 'GET', federationPath(`${V1}/event_auth`, roomId, eventId));
      return Array.isArray(answer['auth_chain']) ? answer['auth_chain'] : [];
    },
    backfill: async (destination, roomId, from, limit) => {
      const answer = await client.request<JsonObject>(destination, 'GET', federationPath(`${V1}/backfill`, roomId), { query: { v: from, limit: String(limit) } });
      return Array.isArray(answer['pdus']) ? answer['pdus'] : [];
    },
  };
}
