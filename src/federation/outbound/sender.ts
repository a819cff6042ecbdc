// Delivery of PDUs and EDUs to other servers (server-server-api
// "Transactions"): a persistent queue per destination, drained in order in
// transactions of at most 50 PDUs and 100 EDUs, one transaction in flight per
// destination. A failure backs the destination off exponentially; nothing is
// dropped, and the queue resumes where it was after a restart. A peer that
// contacts us is taken to be back and is retried at once.
import { serverNameOfUserId } from '../../core/identifiers.js';
import type { Event, JsonObject, JsonValue } from '../../core/types.js';
import type { LoadedRoom } from '../../services/rooms/room-state.js';
import type { Database } from '../../storage/database.js';
import type { DestinationHealth, FederationOutboxStore, OutboxKind } from '../../storage/federation-outbox.js';
import type { EventStore } from '../../storage/rooms/events.js';
import { MAX_EDUS_PER_TRANSACTION, MAX_PDUS_PER_TRANSACTION } from '../inbound/transactions.js';
import type { FederationRequester } from '../requester.js';

export interface SenderDeps {
  db: Database;
  client: FederationRequester;
  outbox: FederationOutboxStore;
  events: EventStore;
  serverName: string;
  clock: () => number;
  /** federation_domain_whitelist: destinations it leaves out are never queued for. */
  isAllowed: (serverName: string) => boolean;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** First back-off after a failure; doubles with each failure in a row. Default 5 s. */
  minBackoffMs?: number;
  /** Longest back-off. Default one hour. */
  maxBackoffMs?: number;
}

export interface Edu {
  edu_type: string;
  content: JsonObject;
}

const DEFAULT_MIN_BACKOFF_MS = 5_000;
const DEFAULT_MAX_BACKOFF_MS = 60 * 60 * 1000;

export class FederationSender {
  private readonly draining = new Map<string, Promise<void>>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** Set when a destination is woken while it drains: drain again afterwards. */
  private readonly wokenWhileDraining = new Set<string>();
  private txnCounter = 0;
  private stopped = false;
  /** Cuts transactions in flight short at shutdown: a server that does not answer must not hold it up for the request timeout. */
  private readonly stopping = new AbortController();

  constructor(private readonly deps: SenderDeps) {}

  /** Resumes every destination that has something queued (at start-up). */
  async start(): Promise<void> {
    for (const destination of await this.deps.outbox.destinationsWithBacklog()) this.wake(destination);
  }

  /**
   * Stops retries and abandons transactions in flight. Nothing is lost: an
   * item leaves the queue only once the destination has accepted it, so an
   * abandoned transaction is sent again after the restart (receivers
   * deduplicate PDUs by event ID).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    await Promise.allSettled([...this.draining.values()]);
  }

  /**
   * Queues a room event for the servers in the room (those with a member
   * joined after it, and the server of a member it removes), except
   * `except` (the server that gave it to us). Call inside the event's
   * transaction: the queue entry commits with the event. Delivery starts
   * after the commit.
   */
  async queueRoomEvent(event: Event, room: LoadedRoom, except?: string): Promise<void> {
    const destinations = this.roomDestinations(event, room).filter((d) => d !== except);
    if (destinations.length === 0) return;
    await this.deps.outbox.enqueue(destinations, 'pdu', event.event_id, this.deps.clock());
    this.deps.db.afterCommit(() => destinations.forEach((d) => this.wake(d)));
  }

  /** Queues an EDU for `destinations` (other than ourselves and those the whitelist leaves out). */
  async queueEdu(edu: Edu, destinations: Iterable<string>): Promise<void> {
    const targets = [...new Set(destinations)].filter((d) => d !== this.deps.serverName && this.deps.isAllowed(d));
    if (targets.length === 0) return;
    await this.deps.outbox.enqueue(targets, 'edu', JSON.stringify(edu), this.deps.clock());
    this.deps.db.afterCommit(() => targets.forEach((d) => this.wake(d)));
  }

  /** `destination` contacted us: it is up, so its back-off ends and its queue is sent now. */
  async peerIsUp(destination: string): Promise<void> {
    const health = await this.deps.outbox.health(destination);
    if (!health || health.retryAfterTs === 0) return;
    await this.deps.outbox.clearBackoff(destination);
    const timer = this.retryTimers.get(destination);
    if (timer) clearTimeout(timer);
    this.retryTimers.delete(destination);
    this.wake(destination);
  }

  /** Each known destination's delivery health and queue length, for operators. */
  async destinations(): Promise<Array<DestinationHealth & { queued: number }>> {
    const all = await this.deps.outbox.allHealth();
    return Promise.all(all.map(async (h) => ({ ...h, queued: await this.deps.outbox.backlog(h.destination) })));
  }

  /** How many PDUs and EDUs wait to be sent, over all destinations. */
  queued(): Promise<Record<OutboxKind, number>> {
    return this.deps.outbox.pendingByKind();
  }

  /** Starts draining a destination's queue unless that is under way or it is backing off. */
  wake(destination: string): void {
    if (this.stopped) return;
    if (this.draining.has(destination)) {
      this.wokenWhileDraining.add(destination);
      return;
    }
    const run = this.drain(destination)
      .catch((err: unknown) => this.deps.log('federation queue failed', { destination, error: String(err) }))
      .finally(() => {
        this.draining.delete(destination);
        if (this.wokenWhileDraining.delete(destination)) this.wake(destination);
      });
    this.draining.set(destination, run);
  }

  private roomDestinations(event: Event, room: LoadedRoom): string[] {
    const servers = new Set<string>();
    for (const member of room.state.values()) {
      if (member.type === 'm.room.member' && member.content['membership'] === 'join') servers.add(serverNameOfUserId(member.state_key ?? '') ?? '');
    }
    // The server of a member who was just kicked, banned or left is no longer joined, but must learn of it.
    // (An invitee's server learns of its invite through /invite, not here.)
    const membership = event.content['membership'];
    if (event.type === 'm.room.member' && event.state_key && (membership === 'leave' || membership === 'ban')) {
      servers.add(serverNameOfUserId(event.state_key) ?? '');
    }
    servers.delete('');
    servers.delete(this.deps.serverName);
    return [...servers].filter((s) => this.deps.isAllowed(s));
  }

  private async drain(destination: string): Promise<void> {
    const { outbox, clock } = this.deps;
    for (;;) {
      if (this.stopped) return;
      const health = await outbox.health(destination);
      if (health && health.retryAfterTs > clock()) {
        this.retryAt(destination, health.retryAfterTs);
        return;
      }
      const items = await outbox.next(destination, MAX_PDUS_PER_TRANSACTION, MAX_EDUS_PER_TRANSACTION);
      if (items.length === 0) return;
      const pdus = await this.pdusOf(items.filter((i) => i.kind === 'pdu').map((i) => i.payload));
      const edus = items.filter((i) => i.kind === 'edu').map((i) => JSON.parse(i.payload) as JsonValue);
      const txnId = `${clock()}.${++this.txnCounter}`;
      try {
        await this.deps.client.request(destination, 'PUT', `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`, {
          body: { origin: this.deps.serverName, origin_server_ts: clock(), pdus, ...(edus.length > 0 ? { edus } : {}) },
          signal: this.stopping.signal,
        });
      } catch (err) {
        // Abandoned at shutdown: the destination is not to blame, so no back-off is recorded.
        if (this.stopped) return;
        await this.backOff(destination, err as Error);
        return;
      }
      await outbox.remove(items.map((i) => i.id));
      await outbox.recordSuccess(destination, clock());
    }
  }

  /** The stored PDUs of events, in the order given (events since purged are skipped). */
  private async pdusOf(eventIds: string[]): Promise<JsonValue[]> {
    const stored = await this.deps.events.getEvents(eventIds);
    return eventIds.flatMap((id) => {
      const event = stored.get(id);
      return event ? [JSON.parse(event.json) as JsonValue] : [];
    });
  }

  private async backOff(destination: string, err: Error): Promise<void> {
    const { clock, outbox } = this.deps;
    const now = clock();
    const previous = (await outbox.health(destination))?.failures ?? 0;
    const min = this.deps.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS;
    const delay = Math.min(this.deps.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, min * 2 ** Math.min(previous, 30));
    await outbox.recordFailure(destination, now, now + delay, err.message);
    this.deps.log('could not deliver to a server; will retry', { destination, retryInMs: delay, error: err.message });
    this.retryAt(destination, now + delay);
  }

  private retryAt(destination: string, at: number): void {
    if (this.stopped || this.retryTimers.has(destination)) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(destination);
      this.wake(destination);
    }, Math.max(0, at - this.deps.clock()));
    timer.unref();
    this.retryTimers.set(destination, timer);
  }
}
