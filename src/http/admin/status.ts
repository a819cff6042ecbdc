// GET /_axon/admin/v1/status: Axon's own admin endpoint behind the console's
// status page (Synapse has no equivalent). Server admins only.
import type { ServerStatusService } from '../../services/server-status.js';
import type { Route } from '../types.js';
import { adminRoute } from './admin-route.js';

export function serverStatusRoutes(status: ServerStatusService): Route[] {
  return [
    /** # GET /_axon/admin/v1/status */
    adminRoute('GET', '/_axon/admin/v1/status', async () => {
      const s = await status.status();
      return {
        body: {
          server_name: s.serverName,
          version: s.version,
          started_ts: s.startedTs,
          uptime_seconds: Math.floor(s.uptimeMs / 1000),
          database: { engine: s.databaseEngine },
          users: s.users,
          rooms: s.rooms,
        },
      };
    }),
  ];
}
