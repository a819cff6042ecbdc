// Every route of the per-user and ephemeral data area; src/server.ts mounts these.
import type { UserDataServices } from '../services/user-data/index.js';
import { accountDataRoutes } from './client/account-data.js';
import { filterRoutes } from './client/filters.js';
import { presenceRoutes } from './client/presence.js';
import { readMarkerRoutes } from './client/read-markers.js';
import { receiptRoutes } from './client/receipts.js';
import { tagRoutes } from './client/tags.js';
import { typingRoutes } from './client/typing.js';
import type { Route } from './types.js';

export function userDataRoutes(services: UserDataServices): Route[] {
  return [
    ...accountDataRoutes(services.accountData),
    ...tagRoutes(services.accountData),
    ...filterRoutes(services.filters),
    ...typingRoutes(services.typing),
    ...receiptRoutes(services.receipts),
    ...readMarkerRoutes(services.receipts),
    ...presenceRoutes(services.presence),
  ];
}
