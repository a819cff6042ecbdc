// The to-device inbox (client-server-api/modules/send_to_device.md): messages
// queued per recipient device, each at its own position in the to_device
// stream, deleted once the device's /sync has moved past them.
import type { JsonObject } from '../../core/types.js';
import type { Database, Queryable } from '../database.js';
import { insertRows, placeholders } from '../rooms/sql.js';
import { currentPosition, reservePositions } from './counters.js';

export interface ToDeviceMessage {
  type: string;
  sender: string;
  content: JsonObject;
}

export interface QueuedMessage {
  userId: string;
  deviceId: string;
  message: ToDeviceMessage;
}

export class ToDeviceStore {
  constructor(private readonly db: Database) {}

  currentPosition(): Promise<number> {
    return currentPosition(this.db, 'to_device_stream');
  }

  /** Records the transaction; false when (user, device, txnId) was already used. */
  async claimTxn(q: Queryable, userId: string, deviceId: string, txnId: string, ts: number): Promise<boolean> {
    const { changes } = await q.execute(
      `INSERT INTO e2e_to_device_txns (user_id, device_id, txn_id, created_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, device_id, txn_id) DO NOTHING`,
      [userId, deviceId, txnId, ts],
    );
    return changes === 1;
  }

  /**
   * Records an m.direct_to_device EDU's message_id (inside the caller's
   * transaction); false when `origin` already delivered that one.
   */
  async claimRemoteMessage(q: Queryable, origin: string, messageId: string, ts: number): Promise<boolean> {
    const { changes } = await q.execute(
      'INSERT INTO e2e_to_device_received (origin, message_id, received_ts) VALUES (?, ?, ?) ON CONFLICT (origin, message_id) DO NOTHING',
      [origin, messageId, ts],
    );
    return changes === 1;
  }

  /** Forgets message IDs received before `before`: a server retries for hours, not days. */
  async pruneRemoteMessageIds(before: number): Promise<void> {
    await this.db.execute('DELETE FROM e2e_to_device_received WHERE received_ts < ?', [before]);
  }

  /** Queues the messages; returns the stream position of the last (0 when there were none). */
  async enqueue(q: Queryable, messages: readonly QueuedMessage[]): Promise<number> {
    if (messages.length === 0) return 0;
    const last = await reservePositions(q, 'to_device_stream', messages.length);
    const first = last - messages.length + 1;
    await insertRows(
      q,
      'e2e_to_device_inbox',
      ['user_id', 'device_id', 'stream_id', 'message_json'],
      messages.map((m, i) => [m.userId, m.deviceId, first + i, JSON.stringify(m.message)]),
    );
    return last;
  }

  async messagesFor(userId: string, deviceId: string, fromExclusive: number, toInclusive: number, limit: number): Promise<Array<{ streamId: number; message: ToDeviceMessage }>> {
    const rows = await this.db.query<{ stream_id: number; message_json: string }>(
      `SELECT stream_id, message_json FROM e2e_to_device_inbox
       WHERE user_id = ? AND device_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id LIMIT ?`,
      [userId, deviceId, fromExclusive, toInclusive, limit],
    );
    return rows.map((r) => ({ streamId: Number(r.stream_id), message: JSON.parse(r.message_json) as ToDeviceMessage }));
  }

  async deleteUpTo(userId: string, deviceId: string, toInclusive: number): Promise<number> {
    const { changes } = await this.db.execute('DELETE FROM e2e_to_device_inbox WHERE user_id = ? AND device_id = ? AND stream_id <= ?', [
      userId,
      deviceId,
      toInclusive,
    ]);
    return changes;
  }

  async deleteDevices(q: Queryable, userId: string, deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const ids = placeholders(deviceIds.length);
    await q.execute(`DELETE FROM e2e_to_device_inbox WHERE user_id = ? AND device_id IN (${ids})`, [userId, ...deviceIds]);
    await q.execute(`DELETE FROM e2e_to_device_txns WHERE user_id = ? AND device_id IN (${ids})`, [userId, ...deviceIds]);
  }
}
