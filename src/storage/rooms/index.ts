// The room stores over one database: events (and their DAG), state snapshots,
// current state, memberships, rooms and aliases.
import type { Database } from '../database.js';
import { AliasStore } from './aliases.js';
import { CurrentStateStore } from './current-state.js';
import { EventStore } from './events.js';
import { MembershipStore } from './memberships.js';
import { RoomsTable } from './rooms.js';
import { StateSnapshotStore } from './state.js';

export class RoomStore {
  readonly rooms: RoomsTable;
  readonly events: EventStore;
  readonly snapshots: StateSnapshotStore;
  readonly currentState: CurrentStateStore;
  readonly memberships: MembershipStore;
  readonly aliases: AliasStore;

  constructor(db: Database) {
    this.rooms = new RoomsTable(db);
    this.snapshots = new StateSnapshotStore(db);
    this.memberships = new MembershipStore(db);
    this.currentState = new CurrentStateStore(db, this.snapshots, this.memberships);
    this.events = new EventStore(db, this.currentState);
    this.aliases = new AliasStore(db);
  }
}

export { AliasStore, type RoomAlias } from './aliases.js';
export { CurrentStateStore, type CurrentStateUpdate, type StateFilter } from './current-state.js';
export type { StoredEvent } from './event-rows.js';
export {
  EventStore,
  type EventToPersist,
  type PersistBatch,
  type PersistedEvent,
  type StreamDirection,
  type TxnKey,
} from './events.js';
export { MembershipStore, type Membership, type RoomMembership } from './memberships.js';
export { RoomsTable, type RoomRecord } from './rooms.js';
export {
  applyDelta,
  diffStates,
  MAX_DIFF_LAYERS,
  StateSnapshotStore,
  UnknownSnapshotError,
  type SnapshotId,
  type SnapshotInfo,
  type StateDelta,
} from './state.js';
