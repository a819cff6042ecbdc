// Sending notifications to HTTP pushers' push gateways (push-gateway-api.md,
// "POST /_matrix/push/v1/notify"). Delivery runs in the background, one
// queue per pusher so a device gets its notifications in order, with retries
// and exponential backoff; it never delays the event send that caused it.
import type { PushEvaluation } from '../../core/push-rules/index.js';
import type { Event, JsonObject, JsonValue } from '../../core/types.js';
import type { NotificationStore, Pusher, PusherStore } from '../../storage/push/index.js';
import type { JsonResponse } from '../outbound-http.js';

/** Facts about the room the gateway shows alongside the event. */
export interface RoomDisplay {
  roomName?: string;
  roomAlias?: string;
  /** The display name of each user by user ID, as the room's member events say. */
  displayName(userId: string): string | undefined;
}

export interface Notified {
  userId: string;
  evaluation: PushEvaluation;
}

export interface DeliveryOptions {
  /** First retry after this long; each later one waits twice as long. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Attempts per notification before it is dropped. */
  maxAttempts: number;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  initialBackoffMs: 1000,
  maxBackoffMs: 10 * 60 * 1000,
  // 1 s doubling to 10 min, then every 10 min: about 1.5 hours of trying.
  maxAttempts: 18,
};

/** How a notification reaches a gateway; tests may substitute it. */
export type JsonPoster = (url: string, body: JsonValue) => Promise<JsonResponse>;

export interface DeliveryDeps {
  pushers: PusherStore;
  notifications: NotificationStore;
  post: JsonPoster;
  onError: (err: unknown, context: string) => void;
  options?: Partial<DeliveryOptions>;
}

/** The gateway's answer to one attempt. */
type Outcome = 'delivered' | 'retry' | 'give-up';

export class PusherDelivery {
  private readonly queues = new Map<number, Promise<void>>();
  /** The unread count each pusher's gateway last heard, so a badge update is sent only on a change. */
  private readonly lastBadge = new Map<number, number>();
  /** Pusher look-ups not yet turned into queue entries. */
  private readonly lookups = new Set<Promise<void>>();
  private readonly options: DeliveryOptions;
  private readonly stopping = new AbortController();

  constructor(private readonly deps: DeliveryDeps) {
    this.options = { ...DEFAULT_DELIVERY_OPTIONS, ...deps.options };
  }

  /** Queues the notifications of one event for every HTTP pusher of the notified users; returns at once. */
  enqueue(event: Event, room: RoomDisplay, notified: readonly Notified[]): void {
    if (notified.length === 0 || this.stopping.signal.aborted) return;
    const run = async (): Promise<void> => {
      const byUser = new Map(notified.map((n) => [n.userId, n.evaluation]));
      const pushers = (await this.deps.pushers.forUsers([...byUser.keys()])).filter((p) => p.kind === 'http');
      for (const pusher of pushers) this.schedule(pusher, event, room, byUser.get(pusher.userId)!);
    };
    const lookup: Promise<void> = run()
      .catch((err: unknown) => this.deps.onError(err, `finding pushers for ${event.event_id}`))
      .finally(() => this.lookups.delete(lookup));
    this.lookups.add(lookup);
  }

  /**
   * After the user read something (a read receipt): tells each of their
   * HTTP pushers' gateways the new unread count, so the app's badge clears
   * on every device, as Synapse's HttpPusher does on new receipts. Only a
   * count that differs from the last one the gateway heard is sent.
   */
  updateBadge(userId: string): void {
    if (this.stopping.signal.aborted) return;
    const run = async (): Promise<void> => {
      const pushers = (await this.deps.pushers.forUsers([userId])).filter((p) => p.kind === 'http');
      for (const pusher of pushers) this.queue(pusher, `the badge of ${userId}`, () => this.deliverBadge(pusher));
    };
    const lookup: Promise<void> = run()
      .catch((err: unknown) => this.deps.onError(err, `finding pushers of ${userId}`))
      .finally(() => this.lookups.delete(lookup));
    this.lookups.add(lookup);
  }

  /** Resolves when every queued notification has been delivered or dropped (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.lookups.size > 0 || this.queues.size > 0) await Promise.all([...this.lookups, ...this.queues.values()]);
  }

  /** Stops retrying; notifications still queued are dropped. */
  stop(): void {
    this.stopping.abort();
  }

  private schedule(pusher: Pusher, event: Event, room: RoomDisplay, evaluation: PushEvaluation): void {
    this.queue(pusher, event.event_id, async () => {
      const unread = await this.deps.notifications.totalUnread(pusher.userId);
      await this.deliver(pusher, gatewayNotification(event, pusher, room, evaluation, unread), event.event_id);
      this.lastBadge.set(pusher.id, unread);
    });
  }

  /** Runs `task` after everything already queued for the pusher: a device gets its notifications in order. */
  private queue(pusher: Pusher, what: string, task: () => Promise<void>): void {
    const previous = this.queues.get(pusher.id) ?? Promise.resolve();
    const next = previous
      .then(task)
      .catch((err: unknown) => this.deps.onError(err, `pushing ${what} to ${pusher.data['url']}`))
      .finally(() => {
        if (this.queues.get(pusher.id) === next) this.queues.delete(pusher.id);
      });
    this.queues.set(pusher.id, next);
  }

  private async deliverBadge(pusher: Pusher): Promise<void> {
    const unread = await this.deps.notifications.totalUnread(pusher.userId);
    if (this.lastBadge.get(pusher.id) === unread) return;
    await this.deliver(pusher, badgeNotification(pusher, unread), 'a badge update');
    this.lastBadge.set(pusher.id, unread);
  }

  private async deliver(pusher: Pusher, body: JsonObject, what: string): Promise<void> {
    let delay = this.options.initialBackoffMs;
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      if (this.stopping.signal.aborted) return;
      const outcome = await this.attempt(pusher, body);
      if (outcome !== 'retry') return;
      if (attempt < this.options.maxAttempts) await sleep(delay, this.stopping.signal);
      delay = Math.min(delay * 2, this.options.maxBackoffMs);
    }
    this.deps.onError(new Error(`gave up after ${this.options.maxAttempts} attempts`), `pushing ${what} to ${pusher.data['url']}`);
  }

  private async attempt(pusher: Pusher, body: JsonObject): Promise<Outcome> {
    let response;
    try {
      response = await this.deps.post(String(pusher.data['url']), body);
    } catch (err) {
      if ((err as { code?: string }).code === 'EADDRREFUSED_BY_POLICY') {
        this.deps.onError(err, `pusher ${pusher.appId} of ${pusher.userId}`);
        return 'give-up';
      }
      return 'retry';
    }
    const { status } = response;
    if (status >= 200 && status < 300) {
      await this.dropRejected(pusher, response.body);
      return 'delivered';
    }
    // 4xx other than rate limiting will not succeed on a retry.
    return status === 429 || status >= 500 ? 'retry' : 'give-up';
  }

  /** "The homeserver should remove the pushkeys the gateway rejected" (push-gateway-api.md, `rejected`). */
  private async dropRejected(pusher: Pusher, body: unknown): Promise<void> {
    const rejected = (body as { rejected?: unknown } | undefined)?.rejected;
    if (Array.isArray(rejected) && rejected.includes(pusher.pushkey)) {
      await this.deps.pushers.remove(pusher.userId, pusher.appId, pusher.pushkey);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The body of POST /_matrix/push/v1/notify for one pusher. With
 * `format: "event_id_only"` the gateway gets no event details: the app then
 * fetches the event itself, so content never passes through the gateway.
 */
export function gatewayNotification(
  event: Event,
  pusher: Pusher,
  room: RoomDisplay,
  evaluation: PushEvaluation,
  unread: number,
): JsonObject {
  const device: JsonObject = { ...gatewayDevice(pusher), tweaks: evaluation.tweaks };
  const base: JsonObject = {
    event_id: event.event_id,
    // Synapse still sends the event ID as `id` too, for gateways written before `event_id`.
    id: event.event_id,
    room_id: event.room_id,
    counts: { unread },
    prio: priority(event, evaluation),
    devices: [device],
  };
  if (pusher.data['format'] === 'event_id_only') return { notification: base };
  const notification: JsonObject = { ...base, type: event.type, sender: event.sender, content: event.content };
  const senderName = room.displayName(event.sender);
  if (senderName !== undefined) notification.sender_display_name = senderName;
  if (room.roomName !== undefined) notification.room_name = room.roomName;
  if (room.roomAlias !== undefined) notification.room_alias = room.roomAlias;
  if (event.type === 'm.room.member') {
    notification.user_is_target = event.state_key === pusher.userId;
    const membership = event.content['membership'];
    if (typeof membership === 'string') notification.membership = membership;
  }
  return { notification };
}

/**
 * A notification carrying only the new unread count (push-gateway-api.md:
 * every field but `devices` is optional). Shaped as Synapse's badge updates
 * (empty `id` and `sender`, null `type`), which gateways such as Sygnal
 * recognise as "update the badge, show nothing".
 */
export function badgeNotification(pusher: Pusher, unread: number): JsonObject {
  return { notification: { id: '', type: null, sender: '', counts: { unread }, devices: [gatewayDevice(pusher)] } };
}

/** The pusher as the gateway knows it; its `url` is ours, not the gateway's business. */
function gatewayDevice(pusher: Pusher): JsonObject {
  const { url: _url, ...data } = pusher.data;
  return { app_id: pusher.appId, pushkey: pusher.pushkey, pushkey_ts: Math.floor(pusher.pushkeyTs / 1000), data };
}

/**
 * "high" wakes the device at once. As Synapse does, that is for highlights,
 * notifications with a sound, and encrypted events (whose importance the
 * server cannot see).
 */
function priority(event: Event, evaluation: PushEvaluation): 'high' | 'low' {
  const urgent = evaluation.highlight || evaluation.sound !== undefined || event.type === 'm.room.encrypted';
  return urgent ? 'high' : 'low';
}
