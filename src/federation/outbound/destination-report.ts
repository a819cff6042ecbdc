// What operators see of each server we send to, in the shape of Synapse's
// federation admin API (docs/admin_api/federation.md): when delivery last
// failed and how long we wait before the next try, plus Axon's own
// last_success_ts, last_error (the reason, as the transport words it) and
// queue_length. A server federates with at most thousands of others, so the
// list is sorted and paged in memory.
import { invalidParam, MatrixError, notFound } from '../../core/errors.js';
import { parseServerName } from '../../core/identifiers.js';
import type { DestinationHealth } from '../../storage/federation-outbox.js';
import type { MembershipStore } from '../../storage/rooms/memberships.js';
import type { FederationSender } from './sender.js';

export const DESTINATION_ORDERS = ['destination', 'retry_last_ts', 'retry_interval', 'failure_ts', 'last_successful_stream_ordering'] as const;
export type DestinationOrder = (typeof DESTINATION_ORDERS)[number];

export interface DestinationSummary {
  destination: string;
  /** When delivery last failed; 0 unless it is failing now (Synapse's meaning). */
  retry_last_ts: number;
  /** How long after retry_last_ts the next try is; 0 unless backing off. */
  retry_interval: number;
  /** When the current run of failures began; null while healthy. */
  failure_ts: number | null;
  last_successful_stream_ordering: number | null;
  last_success_ts: number | null;
  /** Why the last failure happened (kept after recovery, as history). */
  last_error: string | null;
  queue_length: number;
}

export interface Page {
  from: number;
  limit: number;
  direction: 'f' | 'b';
}

export class DestinationReports {
  constructor(
    private readonly sender: FederationSender,
    private readonly memberships: MembershipStore,
  ) {}

  /** GET /_synapse/admin/v1/federation/destinations: `filter` keeps names containing it (any case). */
  async list(page: Page & { orderBy: DestinationOrder; filter?: string }): Promise<{ destinations: DestinationSummary[]; total: number }> {
    const needle = page.filter?.toLowerCase();
    const all = (await this.sender.destinations()).map(summary).filter((d) => needle === undefined || d.destination.toLowerCase().includes(needle));
    all.sort((a, b) => compare(a[page.orderBy], b[page.orderBy]) || compare(a.destination, b.destination));
    if (page.direction === 'b') all.reverse();
    return { destinations: all.slice(page.from, page.from + page.limit), total: all.length };
  }

  /** GET /_synapse/admin/v1/federation/destinations/{destination} */
  async get(destination: string): Promise<DestinationSummary> {
    const found = await this.sender.destination(destination);
    if (found === undefined) throw notFound(`Unknown destination ${destination}: this server has never sent to it`);
    return summary(found);
  }

  /** GET /_synapse/admin/v1/federation/destinations/{destination}/rooms: the rooms where one of its users is joined. */
  async rooms(destination: string, page: Page): Promise<{ rooms: Array<{ room_id: string; stream_ordering: number }>; total: number }> {
    await this.get(destination);
    const rooms = await this.memberships.roomsWithJoinedServer(destination);
    if (page.direction === 'b') rooms.reverse();
    return { rooms: rooms.slice(page.from, page.from + page.limit).map((r) => ({ room_id: r.roomId, stream_ordering: r.streamOrdering })), total: rooms.length };
  }

  /** POST /_synapse/admin/v1/federation/destinations/{destination}/reset_connection */
  async resetConnection(destination: string): Promise<void> {
    await this.get(destination);
    if (!(await this.sender.resetConnection(destination))) {
      throw new MatrixError(400, 'M_UNKNOWN', `The retry timing does not need to be reset for ${destination}: delivery to it is not failing`);
    }
  }
}

/** A path's destination, checked with the server name grammar (which also keeps LIKE wildcards out of queries). */
export function requireDestination(destination: string): string {
  if (parseServerName(destination) === null) throw invalidParam(`${JSON.stringify(destination)} is not a server name`);
  return destination;
}

function summary(h: DestinationHealth & { queued: number }): DestinationSummary {
  const failing = h.failures > 0 && h.lastFailureTs !== null;
  return {
    destination: h.destination,
    retry_last_ts: failing ? h.lastFailureTs! : 0,
    retry_interval: failing && h.retryAfterTs > 0 ? Math.max(0, h.retryAfterTs - h.lastFailureTs!) : 0,
    failure_ts: h.failureTs,
    last_successful_stream_ordering: h.lastSuccessfulStreamOrdering,
    last_success_ts: h.lastSuccessTs,
    last_error: h.lastError,
    queue_length: h.queued,
  };
}

/** Null (never happened) sorts below any value. */
function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
