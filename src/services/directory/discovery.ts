// Wires the discovery and search services (aliases, public room directory,
// space hierarchy, room summaries, user directory, full-text search, content reports) and subscribes them to
// the events they follow: persisted room events and account changes.
import type { HomeserverConfig } from '../../config/types.js';
import { SpaceHierarchyService } from './hierarchy.js';
import type { Database } from '../../storage/database.js';
import type { ProfileStore } from '../../storage/accounts/profiles.js';
import type { UserStore } from '../../storage/accounts/users.js';
import { ReportStore } from '../../storage/reports.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import { SearchStore } from '../../storage/search.js';
import { UserDirectoryStore } from '../../storage/user-directory.js';
import type { AccountEvents } from '../accounts/index.js';
import { ReportService } from '../reports.js';
import type { ClientEventFormatter } from '../rooms/client-events.js';
import type { EventPipeline } from '../rooms/event-pipeline.js';
import type { RoomService } from '../rooms/index.js';
import { SearchService, type VisibilityFilter } from '../search/index.js';
import { UserDirectoryService } from '../user-directory/index.js';
import { AliasService } from './aliases.js';
import { PublicRoomsService } from './public-rooms.js';
import { RoomSummaryService } from './room-summary.js';

export interface DiscoveryServices {
  aliases: AliasService;
  publicRooms: PublicRoomsService;
  hierarchy: SpaceHierarchyService;
  roomSummaries: RoomSummaryService;
  userDirectory: UserDirectoryService;
  search: SearchService;
  reports: ReportService;
}

export interface DiscoveryDeps {
  db: Database;
  config: HomeserverConfig;
  clock: () => number;
  roomStore: RoomStore;
  rooms: RoomService;
  pipeline: EventPipeline;
  formatter: ClientEventFormatter;
  profiles: ProfileStore;
  /** Whether a local user exists, for reports about users. */
  users: Pick<UserStore, 'exists'>;
  accountEvents: AccountEvents;
  /** History visibility for search results, when the rooms area provides it. */
  visibility?: VisibilityFilter;
}

export function createDiscoveryServices(deps: DiscoveryDeps): DiscoveryServices {
  const { db, config, clock, roomStore, rooms, pipeline } = deps;
  const userDirectory = new UserDirectoryService(new UserDirectoryStore(db), deps.profiles, config.serverName, config.userDirectory);
  const search = new SearchService({ searchStore: new SearchStore(db), roomStore, formatter: deps.formatter, pipeline, visibility: deps.visibility });
  pipeline.onPersisting(async (event, room) => {
    await search.onEventPersisted(event);
    await userDirectory.onEventPersisted(event, room);
  });
  deps.accountEvents.on('profileChanged', (change) => userDirectory.onProfileChanged(change));
  deps.accountEvents.on('userDeactivated', (user) => userDirectory.onUserDeactivated(user));
  return {
    aliases: new AliasService({ serverName: config.serverName, store: roomStore, rooms, clock }),
    publicRooms: new PublicRoomsService(roomStore, rooms),
    hierarchy: new SpaceHierarchyService(roomStore, pipeline),
    roomSummaries: new RoomSummaryService(roomStore, pipeline),
    userDirectory,
    search,
    reports: new ReportService(new ReportStore(db), roomStore, deps.users, config.serverName, clock),
  };
}
