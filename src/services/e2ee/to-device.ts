// Send-to-device messaging (client-server-api/modules/send_to_device.md).
// Messages wait in a per-device inbox until the device's /sync (or, for a
// dehydrated device, its events endpoint) moves past them.
import type { JsonObject } from '../../core/types.js';
import { badJson } from '../../core/errors.js';
import { serverNameOfUserId } from '../../core/identifiers.js';
import type { DeviceStore } from '../../storage/accounts/index.js';
import type { Database } from '../../storage/database.js';
import type { QueuedMessage, ToDeviceMessage, ToDeviceStore } from '../../storage/e2ee/index.js';
import type { Notifier } from '../notifier.js';
import { isObject } from './common.js';

export interface ToDeviceBatch {
  events: ToDeviceMessage[];
  /** Where the next read starts; the `upTo` given unless `limit` cut the batch short. */
  nextPosition: number;
}

export type E2eeLog = (message: string, fields: Record<string, unknown>) => void;

/** Messages for users of one server: user ID → device ID (or '*') → content. */
export type DeviceMessages = Record<string, Record<string, JsonObject>>;

/**
 * Hands messages for other servers' users to federation, inside the
 * transaction that claims the sender's txnId (so a retried request sends
 * nothing twice): server name → its users' messages.
 */
export type RemoteToDeviceSink = (sender: string, type: string, byServer: ReadonlyMap<string, DeviceMessages>) => Promise<void>;

/** An m.direct_to_device EDU whose sender the caller has checked belongs to `origin`. */
export interface ReceivedToDevice {
  origin: string;
  messageId: string;
  sender: string;
  type: string;
  messages: DeviceMessages;
}

function inboxKey(userId: string, deviceId: string): string {
  return `${userId}\u0000${deviceId}`;
}

export class ToDeviceService {
  private position: number;
  /**
   * Per device, the newest message handed to it and not yet deleted (0:
   * none). A device absent here (since a restart) may have some, so its
   * first acknowledgement deletes unconditionally; after that, the DELETE
   * every /sync would otherwise run happens only when there is something to
   * delete.
   */
  private readonly unacknowledged = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly store: ToDeviceStore,
    private readonly devices: Pick<DeviceStore, 'list' | 'get'>,
    private readonly notifier: Notifier,
    private readonly serverName: string,
    private readonly clock: () => number,
    private readonly log: E2eeLog,
    private readonly remote: RemoteToDeviceSink,
    startPosition: number,
  ) {
    this.position = startPosition;
    notifier.setPosition('to_device', startPosition);
  }

  /** The newest committed position of the to_device stream. */
  currentPosition(): number {
    return this.position;
  }

  /**
   * # PUT /sendToDevice/{eventType}/{txnId}
   * `messages`: user ID → device ID (or '*' for all their devices) → content.
   * A repeated txnId from the same device is accepted and ignored.
   */
  async send(sender: string, senderDevice: string, type: string, txnId: string, messages: JsonObject): Promise<void> {
    const queued: QueuedMessage[] = [];
    const remote = new Map<string, DeviceMessages>();
    for (const [userId, byDevice] of Object.entries(messages)) {
      if (!isObject(byDevice)) throw badJson(`'messages.${userId}' must map device IDs to message contents`);
      for (const [deviceId, content] of Object.entries(byDevice)) {
        if (!isObject(content)) throw badJson(`'messages.${userId}.${deviceId}' must be an object`);
      }
      const server = serverNameOfUserId(userId);
      if (server === null) {
        // Synapse ignores them too: one bad recipient must not stop the others' messages.
        this.log('ignoring to-device messages for an invalid user ID', { sender, userId, type });
      } else if (server === this.serverName) {
        queued.push(...(await this.expand(userId, byDevice as Record<string, JsonObject>, { type, sender })));
      } else {
        const forServer = remote.get(server) ?? {};
        forServer[userId] = byDevice as Record<string, JsonObject>;
        remote.set(server, forServer);
      }
    }
    const position = await this.db.transaction(async (tx) => {
      if (!(await this.store.claimTxn(tx, sender, senderDevice, txnId, this.clock()))) return 0;
      if (remote.size > 0) await this.remote(sender, type, remote);
      return this.store.enqueue(tx, queued);
    });
    if (position > 0) this.advance(position, [...new Set(queued.map((m) => m.userId))]);
  }

  /**
   * Delivers an m.direct_to_device EDU to local devices ('*': every device
   * of the user). A message_id the origin already delivered is ignored, as
   * is a recipient of another server.
   */
  async receive(edu: ReceivedToDevice): Promise<void> {
    const queued: QueuedMessage[] = [];
    for (const [userId, byDevice] of Object.entries(edu.messages)) {
      if (serverNameOfUserId(userId) !== this.serverName) continue;
      queued.push(...(await this.expand(userId, byDevice, { type: edu.type, sender: edu.sender })));
    }
    const position = await this.db.transaction(async (tx) => {
      if (!(await this.store.claimRemoteMessage(tx, edu.origin, edu.messageId, this.clock()))) return 0;
      return this.store.enqueue(tx, queued);
    });
    if (position > 0) this.advance(position, [...new Set(queued.map((m) => m.userId))]);
  }

  /** Forgets the message IDs of EDUs received before `before`. */
  pruneReceivedMessageIds(before: number): Promise<void> {
    return this.store.pruneRemoteMessageIds(before);
  }

  /**
   * For /sync: messages for the device in (sinceExclusive, upTo], oldest
   * first, at most `limit`. Pass `nextPosition` as the next `since`.
   */
  async messagesFor(userId: string, deviceId: string, sinceExclusive: number, upTo: number, limit: number): Promise<ToDeviceBatch> {
    // Nothing was sent to anyone since the client's position.
    if (upTo <= sinceExclusive) return { events: [], nextPosition: upTo };
    const rows = await this.store.messagesFor(userId, deviceId, sinceExclusive, upTo, limit);
    if (rows.length > 0) {
      const key = inboxKey(userId, deviceId);
      this.unacknowledged.set(key, Math.max(this.unacknowledged.get(key) ?? 0, rows[rows.length - 1]!.streamId));
    }
    const nextPosition = rows.length === limit && rows.length > 0 ? rows[rows.length - 1]!.streamId : upTo;
    return { events: rows.map((r) => ({ type: r.message.type, sender: r.message.sender, content: r.message.content })), nextPosition };
  }

  /**
   * Deletes the device's messages up to `upToInclusive`: call once the client
   * shows it received them by syncing with a later `since`.
   */
  async acknowledge(userId: string, deviceId: string, upToInclusive: number): Promise<void> {
    const key = inboxKey(userId, deviceId);
    const pending = this.unacknowledged.get(key);
    if (pending === 0) return;
    await this.store.deleteUpTo(userId, deviceId, upToInclusive);
    // Messages handed out meanwhile (a concurrent /sync) keep theirs.
    const now = this.unacknowledged.get(key);
    if (now === undefined || now <= upToInclusive) this.unacknowledged.set(key, 0);
  }

  /** A deleted device's inbox and transaction IDs go with it (inside the caller's transaction). */
  deleteDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    for (const deviceId of deviceIds) this.unacknowledged.delete(inboxKey(userId, deviceId));
    return this.store.deleteDevices(this.db, userId, deviceIds);
  }

  /** One queued message per existing recipient device; unknown device IDs are dropped, as Synapse does. */
  private async expand(userId: string, byDevice: Record<string, JsonObject>, base: { type: string; sender: string }): Promise<QueuedMessage[]> {
    const out: QueuedMessage[] = [];
    for (const [deviceId, content] of Object.entries(byDevice)) {
      const targets = deviceId === '*' ? (await this.devices.list(userId)).map((d) => d.deviceId) : (await this.devices.get(userId, deviceId)) ? [deviceId] : [];
      for (const target of targets) out.push({ userId, deviceId: target, message: { ...base, content } });
    }
    return out;
  }

  private advance(position: number, userIds: string[]): void {
    if (position > this.position) this.position = position;
    this.notifier.notify('to_device', position, { userIds });
  }
}
