// Federation for operators: Synapse's federation admin API (docs/admin_api/
// federation.md: the destinations we send to, their rooms, resetting a
// destination's back-off) and Axon's federation doctor, which the web
// console calls. Server admins only.
import { invalidParam } from '../../core/errors.js';
import type { JsonObject } from '../../core/types.js';
import { diagnoseFederation } from '../../federation/doctor.js';
import type { FederationTransport } from '../../federation/index.js';
import { DESTINATION_ORDERS, requireDestination, type DestinationOrder, type DestinationReports, type Page } from '../../federation/outbound/destination-report.js';
import type { MatrixRequest, Route } from '../types.js';
import { queryInteger, queryString } from '../validate.js';
import { requireAdmin } from './admin-route.js';

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
    {
      method: 'GET',
      path: BASE,
      auth: 'required',
      handler: async (req) => {
        requireAdmin(req);
        const page = pageOf(req);
        const orderBy = orderOf(req);
        const { destinations: list, total } = await destinations.list({ ...page, orderBy, filter: queryString(req.query, 'destination') });
        return { body: paged({ destinations: list as unknown as JsonObject[] }, page, list.length, total) };
      },
    },
    /** # GET /_synapse/admin/v1/federation/destinations/{destination} */
    {
      method: 'GET',
      path: `${BASE}/{destination}`,
      auth: 'required',
      handler: async (req) => {
        requireAdmin(req);
        return { body: (await destinations.get(requireDestination(req.params.destination!))) as unknown as JsonObject };
      },
    },
    /** # GET /_synapse/admin/v1/federation/destinations/{destination}/rooms */
    {
      method: 'GET',
      path: `${BASE}/{destination}/rooms`,
      auth: 'required',
      handler: async (req) => {
        requireAdmin(req);
        const page = pageOf(req);
        const { rooms, total } = await destinations.rooms(requireDestination(req.params.destination!), page);
        return { body: paged({ rooms }, page, rooms.length, total) };
      },
    },
    /** # POST /_synapse/admin/v1/federation/destinations/{destination}/reset_connection */
    {
      method: 'POST',
      path: `${BASE}/{destination}/reset_connection`,
      auth: 'required',
      handler: async (req) => {
        requireAdmin(req);
        await destinations.resetConnection(requireDestination(req.params.destination!));
        return { body: {} };
      },
    },
    /** # POST /_axon/admin/v1/doctor/federation/{serverName} */
    {
      method: 'POST',
      path: '/_axon/admin/v1/doctor/federation/{serverName}',
      auth: 'required',
      handler: async (req) => {
        requireAdmin(req);
        const server = requireDestination(req.params.serverName!);
        const report = await diagnoseFederation({ serverName: deps.serverName, transport: deps.transport, clock: deps.clock }, server);
        return { body: report as unknown as JsonObject };
      },
    },
  ];
}

function pageOf(req: MatrixRequest): Page {
  const dir = queryString(req.query, 'dir') ?? 'f';
  if (dir !== 'f' && dir !== 'b') throw invalidParam(`Query parameter 'dir' must be 'f' or 'b', not '${dir}'`);
  return {
    from: queryInteger(req.query, 'from', { min: 0 }) ?? 0,
    limit: queryInteger(req.query, 'limit', { min: 0 }) ?? DEFAULT_LIMIT,
    dir,
  };
}

function orderOf(req: MatrixRequest): DestinationOrder {
  const orderBy = queryString(req.query, 'order_by') ?? 'destination';
  if (!(DESTINATION_ORDERS as readonly string[]).includes(orderBy)) {
    throw invalidParam(`Query parameter 'order_by' must be one of ${DESTINATION_ORDERS.join(', ')}, not '${orderBy}'`);
  }
  return orderBy as DestinationOrder;
}

/** Synapse's paging: `next_token` (the next `from`, as a string) only when more follow. */
function paged(body: JsonObject, page: Page, count: number, total: number): JsonObject {
  const next = page.from + count;
  return { ...body, total, ...(next < total ? { next_token: String(next) } : {}) };
}
