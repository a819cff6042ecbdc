// The account data stream (Dendrite's stream_accountdata.go): global account
// data at the top level, room account data (m.tag, m.fully_read, …) in each
// room (account_data.md). Only the latest value of each type is stored, so an
// incremental sync sends each changed type once.
import type { JsonObject } from '../../../core/types.js';
import type { AccountDataStore } from '../../../storage/accounts/account-data.js';
import { eventMatchesFilter } from '../../filters/index.js';
import { isInitial, sinceOf, type SyncContext } from '../context.js';
import type { SyncResponseBuilder } from '../response.js';
import type { StreamProvider } from './provider.js';

export class AccountDataStreamProvider implements StreamProvider {
  constructor(private readonly store: AccountDataStore) {}

  async apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const since = sinceOf(ctx, 'account_data');
    if (!isInitial(ctx) && !ctx.fullState && since >= ctx.to.account_data) return;
    const changes = await this.store.changesSince(ctx.userId, isInitial(ctx) || ctx.fullState ? 0 : since, ctx.to.account_data);
    const joined = new Set(ctx.joinedRoomIds);
    for (const change of changes) {
      const event: JsonObject = { type: change.type, content: change.content };
      if (change.roomId === null) {
        if (eventMatchesFilter({ type: change.type }, ctx.filter.accountData)) out.accountData.push(event);
        continue;
      }
      if (!eventMatchesFilter({ type: change.type, room_id: change.roomId }, ctx.filter.room.accountData)) continue;
      const left = out.leave.get(change.roomId);
      if (left) left.account_data.events.push(event);
      else if (joined.has(change.roomId)) out.joined(change.roomId).account_data.events.push(event);
    }
  }
}
