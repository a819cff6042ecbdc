// The typing and receipts streams (Dendrite's stream_typing.go and
// stream_receipt.go): m.typing and m.receipt in each joined room's
// `ephemeral` (typing_notifications.md, receipts.md).
import type { JsonObject } from '../../../core/types.js';
import { eventMatchesFilter } from '../../filters/index.js';
import type { ReceiptService, TypingService } from '../../user-data/index.js';
import { followedRoomIds, isInitial, sinceOf, type SyncContext } from '../context.js';
import type { SyncResponseBuilder } from '../response.js';
import type { StreamProvider } from './provider.js';

function addEphemeral(ctx: SyncContext, out: SyncResponseBuilder, roomId: string, event: JsonObject & { type: string }): void {
  if (!eventMatchesFilter({ type: event.type, room_id: roomId }, ctx.filter.room.ephemeral)) return;
  out.joined(roomId).ephemeral.events.push(event);
}

/** Sends a room's whole list of typists whenever it changed: clients replace theirs with it. */
export class TypingStreamProvider implements StreamProvider {
  constructor(private readonly typing: TypingService) {}

  async apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const followed = followedRoomIds(ctx);
    const rooms = isInitial(ctx) ? this.typing.recentlyChangedRooms(followed) : this.typing.changedRoomsSince(sinceOf(ctx, 'typing'), followed);
    for (const roomId of rooms) {
      const userIds = this.typing.typingSnapshot(roomId).filter((u) => !ctx.ignoredUsers.has(u));
      addEphemeral(ctx, out, roomId, { type: 'm.typing', content: { user_ids: userIds } });
    }
  }
}

export class ReceiptsStreamProvider implements StreamProvider {
  constructor(private readonly receipts: ReceiptService) {}

  async apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const followed = followedRoomIds(ctx);
    if (followed.length === 0) return;
    const since = sinceOf(ctx, 'receipts');
    if (!isInitial(ctx) && since >= ctx.to.receipts) return;
    const byRoom = await this.receipts.receiptsSince(followed, since, ctx.userId);
    for (const [roomId, content] of byRoom) {
      addEphemeral(ctx, out, roomId, { type: 'm.receipt', content: content as unknown as JsonObject });
    }
  }
}
