// Receipts (client-server-api/modules/receipts.md) and the read markers
// endpoint that sets them together with m.fully_read (read_markers.md).
import type { JsonObject } from '../../core/types.js';
import { forbidden, invalidParam, notFound } from '../../core/errors.js';
import { isValidEventId } from '../../core/identifiers.js';
import type { EventStore } from '../../storage/rooms/events.js';
import type { Receipt, ReceiptStore } from '../../storage/user-data/receipts.js';
import type { Notifier } from '../notifier.js';
import type { AccountDataService } from './account-data.js';
import type { MembershipLookup } from './common.js';

export const RECEIPT_TYPES = ['m.read', 'm.read.private'] as const;
export type ReceiptType = (typeof RECEIPT_TYPES)[number];
/** Receipts only their sender may see ("Servers MUST NOT send the m.read.private receipt to any other user"). */
const PRIVATE_TYPES: readonly string[] = ['m.read.private'];

/** m.receipt content: event ID → receipt type → user ID → {ts, thread_id?}. */
export type ReceiptContent = Record<string, Record<string, Record<string, { ts: number; thread_id?: string }>>>;

type EventLookup = Pick<EventStore, 'getEvent'>;

/** Runs when a user's read position moves (unread notification counts reset up to it). */
export type ReadListener = (userId: string, roomId: string, upToStreamOrdering: number, threadId: string | undefined) => Promise<void>;

/** A receipt others may see, as stored. */
export interface PublicReceipt {
  roomId: string;
  userId: string;
  receiptType: string;
  eventId: string;
  threadId: string | undefined;
  ts: number;
}

/** Runs after a local user's public receipt is stored (other servers in the room must learn of it). */
export type PublicReceiptListener = (receipt: PublicReceipt) => void;

export class ReceiptService {
  private readonly readListeners: ReadListener[] = [];
  private readonly publicListeners: PublicReceiptListener[] = [];

  constructor(
    private readonly store: ReceiptStore,
    private readonly events: EventLookup,
    private readonly memberships: MembershipLookup,
    private readonly accountData: AccountDataService,
    private readonly notifier: Notifier,
    private readonly clock: () => number = Date.now,
  ) {}

  onRead(listener: ReadListener): void {
    this.readListeners.push(listener);
  }

  onPublicReceipt(listener: PublicReceiptListener): void {
    this.publicListeners.push(listener);
  }

  /**
   * A public receipt of another server's user (an m.receipt EDU whose sender
   * and room the caller has checked). A receipt for an event this server
   * does not have is dropped: its place in the room is unknown.
   */
  async applyRemote(receipt: PublicReceipt): Promise<void> {
    const event = await this.events.getEvent(receipt.eventId);
    if (!event || event.roomId !== receipt.roomId) return;
    const position = await this.store.upsert({ ...receipt, eventStreamOrdering: event.streamOrdering });
    if (position !== undefined) this.notifier.notify('receipts', position, { roomIds: [receipt.roomId] });
  }

  /**
   * # POST /rooms/{roomId}/receipt/{receiptType}/{eventId}
   * `m.fully_read` here is the read marker (receipts.yaml: "effectively calls
   * /read_markers internally") and takes no thread_id.
   */
  async postReceipt(userId: string, roomId: string, receiptType: string, eventId: string, threadId: string | undefined): Promise<void> {
    if (receiptType !== 'm.fully_read' && !(RECEIPT_TYPES as readonly string[]).includes(receiptType)) {
      throw invalidParam(`Receipt type must be one of m.read, m.read.private, m.fully_read, not '${receiptType}'`);
    }
    if (threadId !== undefined) {
      if (threadId === '') throw invalidParam("'thread_id' must be a non-empty string");
      if (receiptType === 'm.fully_read') throw invalidParam("'thread_id' cannot be given for m.fully_read");
    }
    await this.checkJoined(userId, roomId);
    const ordering = await this.eventOrdering(roomId, eventId, 'eventId');
    if (receiptType === 'm.fully_read') await this.moveFullyRead(userId, roomId, eventId, ordering);
    else await this.storeReceipt(userId, roomId, receiptType as ReceiptType, eventId, ordering, threadId);
  }

  /** # POST /rooms/{roomId}/read_markers — every given marker is checked before any is set. */
  async setReadMarkers(userId: string, roomId: string, markers: { fullyRead?: string; read?: string; readPrivate?: string }): Promise<void> {
    await this.checkJoined(userId, roomId);
    const fullyRead = markers.fullyRead && (await this.eventOrdering(roomId, markers.fullyRead, 'm.fully_read'));
    const read = markers.read && (await this.eventOrdering(roomId, markers.read, 'm.read'));
    const readPrivate = markers.readPrivate && (await this.eventOrdering(roomId, markers.readPrivate, 'm.read.private'));
    if (fullyRead) await this.moveFullyRead(userId, roomId, markers.fullyRead!, fullyRead);
    if (read) await this.storeReceipt(userId, roomId, 'm.read', markers.read!, read, undefined);
    if (readPrivate) await this.storeReceipt(userId, roomId, 'm.read.private', markers.readPrivate!, readPrivate, undefined);
  }

  /** The receipts stream's latest position. */
  currentPosition(): Promise<number> {
    return this.store.currentStreamId();
  }

  /**
   * For an incremental /sync: m.receipt content per room for receipts written
   * after `position` in `roomIds`, as `forUser` may see them.
   */
  async receiptsSince(roomIds: readonly string[], position: number, forUser: string): Promise<Map<string, ReceiptContent>> {
    return groupByRoom(await this.store.inRooms(roomIds, { forUser, privateTypes: PRIVATE_TYPES }, position));
  }

  /** For an initial /sync: every current receipt in `roomIds` that `forUser` may see. */
  async receiptsForRooms(roomIds: readonly string[], forUser: string): Promise<Map<string, ReceiptContent>> {
    return this.receiptsSince(roomIds, 0, forUser);
  }

  private async storeReceipt(userId: string, roomId: string, receiptType: ReceiptType, eventId: string, ordering: number, threadId: string | undefined): Promise<void> {
    const ts = this.clock();
    const position = await this.store.upsert({ roomId, receiptType, userId, threadId, eventId, eventStreamOrdering: ordering, ts });
    if (position === undefined) return;
    // Counts change before /sync wakes, so the woken sync reports them.
    for (const listener of this.readListeners) await listener(userId, roomId, ordering, threadId);
    const isPrivate = PRIVATE_TYPES.includes(receiptType);
    this.notifier.notify('receipts', position, isPrivate ? { userIds: [userId] } : { roomIds: [roomId] });
    if (!isPrivate) for (const listener of this.publicListeners) listener({ roomId, userId, receiptType, eventId, threadId, ts });
  }

  /** The fully read marker only moves forward, as Synapse's does. */
  private async moveFullyRead(userId: string, roomId: string, eventId: string, ordering: number): Promise<void> {
    const current = (await this.accountData.roomData(userId, roomId, 'm.fully_read'))?.event_id;
    if (typeof current === 'string') {
      const at = await this.events.getEvent(current);
      if (at && at.roomId === roomId && at.streamOrdering >= ordering) return;
    }
    const content: JsonObject = { event_id: eventId };
    await this.accountData.setRoom(userId, roomId, 'm.fully_read', content);
  }

  private async checkJoined(userId: string, roomId: string): Promise<void> {
    const membership = await this.memberships.getMembership(roomId, userId);
    if (membership?.membership !== 'join') throw forbidden(`You are not joined to ${roomId}`);
  }

  /** The event's position in the events stream; 404 unless it is in this room. */
  private async eventOrdering(roomId: string, eventId: string, field: string): Promise<number> {
    if (!isValidEventId(eventId)) throw invalidParam(`'${field}' must be an event ID ($…), not '${eventId}'`);
    const event = await this.events.getEvent(eventId);
    if (!event || event.roomId !== roomId) throw notFound(`Event ${eventId} is not known in ${roomId}`);
    return event.streamOrdering;
  }
}

function groupByRoom(receipts: readonly Receipt[]): Map<string, ReceiptContent> {
  const byRoom = new Map<string, ReceiptContent>();
  for (const r of receipts) {
    let content = byRoom.get(r.roomId);
    if (!content) byRoom.set(r.roomId, (content = {}));
    const byType = (content[r.eventId] ??= {});
    const byUser = (byType[r.receiptType] ??= {});
    byUser[r.userId] = r.threadId === undefined ? { ts: r.ts } : { ts: r.ts, thread_id: r.threadId };
  }
  return byRoom;
}
