// GET /_synapse/admin/v1/server_version (Synapse docs, admin_api/version_api.md).
// Unauthenticated, as in Synapse: admin tools ask it before signing in, to
// learn what they are talking to.
import type { Route } from '../types.js';

export function serverVersionRoutes(version: string): Route[] {
  const body = { server_version: version };
  return [
    /** # GET /_synapse/admin/v1/server_version */
    { method: 'GET', path: '/_synapse/admin/v1/server_version', auth: 'none', handler: async () => ({ body }) },
  ];
}
