// Receipts across servers (server-server-api "Receipts"): a local user's
// public read receipts go to the other servers in the room as m.receipt
// EDUs (m.read.private never leaves this server), and other servers' users'
// receipts are stored like local ones.
import { serverNameOfUserId } from '../../core/identifiers.js';
import { isJsonObject, type JsonObject } from '../../core/types.js';
import type { PublicReceipt, ReceiptService } from '../../services/user-data/index.js';
import type { Edu } from '../outbound/sender.js';
import type { BackgroundTasks } from '../../services/background-tasks.js';
import type { RoomPeers } from './room-peers.js';

/** The receipt types other servers may send us: the public ones. */
const PUBLIC_RECEIPT_TYPES: readonly string[] = ['m.read'];

export interface ReceiptFederationDeps {
  receipts: ReceiptService;
  peers: RoomPeers;
  queueEdu: (edu: Edu, destinations: readonly string[]) => Promise<void>;
  background: BackgroundTasks;
  clock: () => number;
}

export class ReceiptFederation {
  constructor(private readonly deps: ReceiptFederationDeps) {
    deps.receipts.onPublicReceipt((receipt) => this.onLocalReceipt(receipt));
  }

  /**
   * The m.receipt EDU handler: room ID → receipt type → user ID →
   * {event_ids, data}. A room whose ACL denies the origin is skipped whole;
   * a receipt of a user who is not the origin's or not joined is skipped.
   */
  async receive(origin: string, content: JsonObject): Promise<void> {
    const problems: string[] = [];
    for (const [roomId, byType] of Object.entries(content)) {
      if (!isJsonObject(byType) || !(await this.deps.peers.admitsServer(roomId, origin))) continue;
      for (const [receiptType, byUser] of Object.entries(byType)) {
        if (!PUBLIC_RECEIPT_TYPES.includes(receiptType) || !isJsonObject(byUser)) continue;
        for (const [userId, receipt] of Object.entries(byUser)) {
          const parsed = isJsonObject(receipt) ? this.parseReceipt(roomId, receiptType, userId, receipt) : undefined;
          if (!parsed) problems.push(`the receipt in ${roomId} for ${userId} needs 'event_ids' with an event ID and a 'data' object`);
          else if (serverNameOfUserId(userId) !== origin) problems.push(`${userId} is not a user of ${origin}`);
          else if (await this.deps.peers.isJoined(roomId, userId)) await this.deps.receipts.applyRemote(parsed);
        }
      }
    }
    // The good receipts are kept; the bad ones are reported for the log.
    if (problems.length > 0) throw new Error(`m.receipt: ${problems.join('; ')}`);
  }

  private parseReceipt(roomId: string, receiptType: string, userId: string, receipt: JsonObject): PublicReceipt | undefined {
    const eventIds = receipt['event_ids'];
    const data = receipt['data'];
    const eventId = Array.isArray(eventIds) ? eventIds[0] : undefined;
    if (typeof eventId !== 'string' || !isJsonObject(data)) return undefined;
    const ts = data['ts'];
    const threadId = data['thread_id'];
    return {
      roomId,
      receiptType,
      userId,
      eventId,
      // Synapse takes an invalid thread ID as none.
      threadId: typeof threadId === 'string' && threadId !== '' ? threadId : undefined,
      ts: typeof ts === 'number' && Number.isSafeInteger(ts) ? ts : this.deps.clock(),
    };
  }

  private onLocalReceipt(receipt: PublicReceipt): void {
    this.deps.background.run('telling other servers of a receipt', async () => {
      const servers = await this.deps.peers.serversInRoom(receipt.roomId);
      if (servers.length === 0) return;
      const data: JsonObject = receipt.threadId === undefined ? { ts: receipt.ts } : { ts: receipt.ts, thread_id: receipt.threadId };
      const content: JsonObject = { [receipt.roomId]: { [receipt.receiptType]: { [receipt.userId]: { event_ids: [receipt.eventId], data } } } };
      await this.deps.queueEdu({ edu_type: 'm.receipt', content }, servers);
    });
  }
}
