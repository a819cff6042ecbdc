// GET /sync (client-server-api/_index.md, "Syncing"; sync.yaml): positions
// are captured before anything is read, every stream provider adds what lies
// between the client's token and them, and an incremental sync with nothing
// to say waits on the Notifier until something concerning the user is
// committed (or the timeout passes, or the client goes away). Nothing polls.
import type { JsonObject } from '../../core/types.js';
import type { AccountDataStore } from '../../storage/accounts/account-data.js';
import type { NotificationStore } from '../../storage/push/notifications.js';
import type { RoomMembership, RoomStore, StoredEvent } from '../../storage/rooms/index.js';
import { includeRedundantMembers, lazyLoadMembers, roomIncluded, type Filter } from '../filters/index.js';
import { STREAMS, type Notifier } from '../notifier.js';
import type { ClientEventFormatter } from '../rooms/client-events.js';
import type { HistoryVisibility } from '../rooms/visibility.js';
import type { AccountDataService, PresenceService, PresenceState, ReceiptService, TypingService } from '../user-data/index.js';
import { followedRoomIds, type StateAfterKey, type SyncContext } from './context.js';
import { SyncEventSerializer } from './events.js';
import { SentMemberEvents } from './lazy-members.js';
import { SyncResponseBuilder } from './response.js';
import { AccountDataStreamProvider } from './streams/account-data.js';
import { ReceiptsStreamProvider, TypingStreamProvider } from './streams/ephemeral.js';
import { EncryptionStreamProvider, type EncryptionSources } from './streams/encryption.js';
import { NotificationCountsProvider } from './streams/notification-counts.js';
import { PresenceStreamProvider } from './streams/presence.js';
import type { StreamProvider } from './streams/provider.js';
import { RoomsStreamProvider } from './streams/rooms.js';
import { TimelineReader } from './timelines.js';
import { formatSyncToken, type StreamPositions } from './token.js';

export interface SyncServiceDeps {
  store: RoomStore;
  notifier: Notifier;
  formatter: ClientEventFormatter;
  accountDataStore: AccountDataStore;
  accountData: AccountDataService;
  typing: TypingService;
  receipts: ReceiptService;
  presence: PresenceService;
  notifications: NotificationStore;
  visibility: Pick<HistoryVisibility, 'filterVisible'>;
  encryption: EncryptionSources;
  clock: () => number;
}

export interface SyncRequest {
  userId: string;
  deviceId: string;
  since?: StreamPositions;
  /** Milliseconds to wait for news on an incremental sync. */
  timeoutMs: number;
  fullState: boolean;
  /** use_state_after (SyncContext.stateAfterKey). */
  stateAfterKey?: StateAfterKey;
  filter: Filter;
  /** world_readable rooms to follow without being in them (SyncContext.peekedRoomIds). */
  peek?: readonly string[];
  /** sync.yaml set_presence; absent means online. */
  setPresence?: PresenceState;
  signal?: AbortSignal;
}

export class SyncService {
  readonly serializer: SyncEventSerializer;
  /** Room timelines as the user may see them; sliding sync reads them too. */
  readonly timelines: TimelineReader;
  /**
   * Providers in phases: those of a phase read independently and run
   * together (on PostgreSQL, over separate connections); a later phase may
   * look at what earlier ones put in the response.
   */
  private readonly phases: StreamProvider[][];
  private readonly sentMembers = new SentMemberEvents();

  constructor(private readonly deps: SyncServiceDeps) {
    this.serializer = new SyncEventSerializer(deps.formatter);
    this.timelines = new TimelineReader(deps.store, deps.visibility);
    this.phases = [
      [
        new RoomsStreamProvider(deps.store, this.serializer, this.timelines),
        new TypingStreamProvider(deps.typing),
        new ReceiptsStreamProvider(deps.receipts),
        new PresenceStreamProvider(deps.presence, deps.store.memberships),
        new EncryptionStreamProvider(deps.encryption),
        // Reads now; annotates the joined rooms when the response is written.
        new NotificationCountsProvider(deps.notifications),
      ],
      // Room account data goes to the left rooms the rooms provider put in.
      [new AccountDataStreamProvider(deps.accountDataStore)],
    ];
  }

  /** Every stream's newest committed position, read before any data (so nothing falls between two syncs). */
  currentPositions(): StreamPositions {
    return Object.fromEntries(STREAMS.map((s) => [s, this.deps.notifier.position(s)])) as StreamPositions;
  }

  async sync(request: SyncRequest): Promise<JsonObject> {
    // sync.yaml: "offline" means the client is not marked online by syncing.
    const presence = request.setPresence ?? 'online';
    if (presence !== 'offline') await this.deps.presence.setPresence(request.userId, presence);
    const deadline = this.deps.clock() + Math.max(0, request.timeoutMs);
    for (;;) {
      const to = this.currentPositions();
      const ctx = await this.context(request, to);
      const out = new SyncResponseBuilder(ctx.stateAfterKey);
      for (const phase of this.phases) await Promise.all(phase.map((provider) => provider.apply(ctx, out)));
      const remaining = deadline - this.deps.clock();
      const answerNow = !request.since || request.fullState || !out.isEmpty() || remaining <= 0 || request.signal?.aborted || this.deps.notifier.closed;
      if (answerNow) {
        if (ctx.members) this.sentMembers.record(request.userId, request.deviceId, request.since?.events, to.events, ctx.members);
        return out.toJson(formatSyncToken({ ...to, ...out.nextPositions }));
      }
      // A change committed while we were reading would not wake a waiter
      // registered after it: look again straight away instead.
      if (this.movedSince(to)) continue;
      await this.deps.notifier.waitForChange(request.userId, new Set(followedRoomIds(ctx)), remaining, request.signal);
    }
  }

  /** The context of one pass: the user's rooms (minus forgotten and filtered out) and ignored users. */
  async context(request: Omit<SyncRequest, 'timeoutMs'>, to: StreamPositions): Promise<SyncContext> {
    const [memberships, ignoredUsers] = await Promise.all([
      this.deps.store.memberships.roomsForUser(request.userId),
      this.deps.accountData.ignoredUsers(request.userId),
    ]);
    const visible = memberships.filter((m) => !m.forgotten && roomIncluded(request.filter, m.roomId));
    const membershipAtSince = request.since ? await this.membershipsAt(visible, request.since.events) : new Map<string, unknown>();
    return {
      userId: request.userId,
      deviceId: request.deviceId,
      since: request.since,
      to,
      fullState: request.fullState,
      ...(request.stateAfterKey && { stateAfterKey: request.stateAfterKey }),
      filter: request.filter,
      memberships: visible,
      joinedRoomIds: visible.filter((m) => m.membership === 'join').map((m) => m.roomId),
      newlyJoinedRoomIds: new Set(visible.filter((m) => m.membership === 'join' && membershipAtSince.has(m.roomId) && membershipAtSince.get(m.roomId) !== 'join').map((m) => m.roomId)),
      leftSinceJoinedRoomIds: new Set(visible.filter((m) => m.membership !== 'join' && membershipAtSince.get(m.roomId) === 'join').map((m) => m.roomId)),
      peekedRoomIds: (request.peek ?? []).filter((roomId) => !visible.some((m) => m.roomId === roomId && m.membership === 'join')),
      ignoredUsers,
      ...(lazyLoadMembers(request.filter) &&
        !includeRedundantMembers(request.filter) && {
          // full_state: the client is resending itself the room whole.
          members: this.sentMembers.ledger(request.userId, request.deviceId, request.since?.events, !request.fullState),
        }),
    };
  }

  /**
   * For each room whose member event of the user is newer than `since`, the
   * user's membership at `since` (undefined: none): the chain of member
   * events each replaced is walked back to the one in force then.
   */
  private async membershipsAt(memberships: readonly RoomMembership[], since: number): Promise<Map<string, unknown>> {
    const at = new Map<string, unknown>();
    let frontier = new Map(memberships.filter((m) => m.streamOrdering > since).map((m) => [m.eventId, m.roomId]));
    while (frontier.size > 0) {
      const events = await this.deps.store.events.getEvents([...frontier.keys()]);
      const previous = await this.deps.store.events.getEvents([...events.values()].map((e) => e.replacesState).filter((id): id is string => id !== null));
      const next = new Map<string, string>();
      for (const [eventId, roomId] of frontier) {
        const before = previous.get(events.get(eventId)?.replacesState ?? '');
        if (!before) at.set(roomId, undefined);
        else if (before.streamOrdering > since) next.set(before.eventId, roomId);
        else at.set(roomId, membershipOf(before));
      }
      frontier = next;
    }
    return at;
  }

  private movedSince(to: StreamPositions): boolean {
    return STREAMS.some((s) => this.deps.notifier.position(s) > to[s]);
  }
}

function membershipOf(event: StoredEvent): unknown {
  return (JSON.parse(event.json) as { content?: { membership?: unknown } }).content?.membership;
}
