// GET /_matrix/client/v3/sync (client-server-api/_index.md, "Syncing";
// data/api/client-server/sync.yaml).
import type { FilterService } from '../../services/filters/index.js';
import type { SyncService } from '../../services/sync/sync-service.js';
import type { StateAfterKey } from '../../services/sync/context.js';
import { parseSyncToken } from '../../services/sync/token.js';
import { PRESENCE_STATES, type PresenceState } from '../../services/user-data/index.js';
import { invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { queryBoolean, queryInteger, queryString } from '../validate.js';
import { requesterOf } from './uia.js';

export interface SyncRouteDeps {
  sync: SyncService;
  filters: FilterService;
}

export function syncRoutes({ sync, filters }: SyncRouteDeps): Route[] {
  return [
    /** # GET /_matrix/client/v3/sync */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/sync',
      auth: 'required',
      handler: async (req) => {
        const { userId, deviceId } = requesterOf(req);
        const since = queryString(req.query, 'since');
        const setPresence = queryString(req.query, 'set_presence');
        if (setPresence !== undefined && !(PRESENCE_STATES as readonly string[]).includes(setPresence)) {
          throw invalidParam(`'set_presence' must be one of ${PRESENCE_STATES.join(', ')}, not '${setPresence}'`);
        }
        const body = await sync.sync({
          userId,
          deviceId,
          since: since === undefined || since === '' ? undefined : parseSyncToken(since),
          timeoutMs: queryInteger(req.query, 'timeout', { min: 0 }) ?? 0,
          fullState: queryBoolean(req.query, 'full_state') ?? false,
          ...stateAfter(req.query),
          filter: await filters.resolve(userId, queryString(req.query, 'filter')),
          setPresence: setPresence as PresenceState | undefined,
          signal: req.signal,
        });
        return { body };
      },
    },
  ];
}

/**
 * use_state_after (sync.yaml), also by MSC4222's unstable name, which
 * matrix-js-sdk (so Element) sends on every /sync: the answer then carries
 * each room's state under the matching key.
 */
function stateAfter(query: URLSearchParams): { stateAfterKey?: StateAfterKey } {
  if (queryBoolean(query, 'use_state_after')) return { stateAfterKey: 'state_after' };
  if (queryBoolean(query, 'org.matrix.msc4222.use_state_after')) return { stateAfterKey: 'org.matrix.msc4222.state_after' };
  return {};
}
