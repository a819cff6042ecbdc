// Federation for operators: Synapse's federation admin API (docs/admin_api/
// federation.md: the destinations we send to, their rooms, resetting a
// destination's back-off) and Axon's federation doctor, which the web
// console calls. Server admins only.
import type { JsonObject } from '../../core/types.js';
import { diagnoseFederation } from '../../federation/doctor.js';
import type { FederationTransport } from '../../federation/index.js';
import { DESTINATION_ORDERS, requireDestination, type DestinationOrder, type DestinationReports, type Page } from '../../federation/outbound/destination-report.js';
import type { Route } from '../types.js';
import { queryString } from '../validate.js';
import { adminRoute } from './admin-route.js';
import { listPage, listPaging } from './listing.js';

const BASE = '/_synapse/admin/v1/federation/destinations';
/** Synapse's default page size for these lists. */
const DEFAULT_LIMIT = 100;

export interface FederationAdminDeps {
  serverName: string;
  destinations: DestinationReports;
  transport: FederationTransport;
  clock: () => number;
}

export function federationAdminRoutes(deps: FederationAdminDeps): Route[] {
  const { destinations } = deps;
  return [
    /** # GET /_synapse/admin/v1/federation/destinations */
    adminRoute('GET', BASE, async (req) => {
      const { orderBy, ...page } = listPaging(req.query, ORDERS, 'destination', DEFAULT_LIMIT);
      const { destinations: list, total } = await destinations.list({ ...page, orderBy, filter: queryString(req.query, 'destination') });
      return { body: paged({ destinations: list as unknown as JsonObject[] }, page, list.length, total) };
    }),
    /** # GET /_synapse/admin/v1/federation/destinations/{destination} */
    adminRoute('GET', `${BASE}/{destination}`, async (req) => ({
      body: (await destinations.get(requireDestination(req.params.destination!))) as unknown as JsonObject,
    })),
    /** # GET /_synapse/admin/v1/federation/destinations/{destination}/rooms */
    adminRoute('GET', `${BASE}/{destination}/rooms`, async (req) => {
      const page = listPage(req.query, DEFAULT_LIMIT);
      const { rooms, total } = await destinations.rooms(requireDestination(req.params.destination!), page);
      return { body: paged({ rooms }, page, rooms.length, total) };
    }),
    /** # POST /_synapse/admin/v1/federation/destinations/{destination}/reset_connection */
    adminRoute('POST', `${BASE}/{destination}/reset_connection`, async (req) => {
      await destinations.resetConnection(requireDestination(req.params.destination!));
      return { body: {} };
    }),
    /** # POST /_axon/admin/v1/doctor/federation/{serverName} */
    adminRoute('POST', '/_axon/admin/v1/doctor/federation/{serverName}', async (req) => {
      const server = requireDestination(req.params.serverName!);
      const report = await diagnoseFederation({ serverName: deps.serverName, transport: deps.transport, clock: deps.clock }, server);
      return { body: report as unknown as JsonObject };
    }),
  ];
}

/** DESTINATION_ORDERS as listPaging takes them. */
const ORDERS = Object.fromEntries(DESTINATION_ORDERS.map((order) => [order, true])) as Record<DestinationOrder, true>;

/** Synapse's paging: `next_token` (the next `from`, as a string) only when more follow. */
function paged(body: JsonObject, page: Page, count: number, total: number): JsonObject {
  const next = page.from + count;
  return { ...body, total, ...(next < total ? { next_token: String(next) } : {}) };
}
