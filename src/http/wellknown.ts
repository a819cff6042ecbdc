// /.well-known/matrix/client (client-server-api/_index.md, "Server
// Discovery") and /.well-known/matrix/server (server-server-api.md,
// "Resolving server names"). Both are served on client listeners, as in Synapse.
import { notFound } from '../core/errors.js';
import type { Route } from './types.js';

export interface WellKnownOptions {
  publicBaseUrl: string;
  serveServerWellknown: boolean;
}

/**
 * The delegated federation endpoint: public_baseurl's host with its port, or
 * 443 (where Synapse assumes a reverse proxy passes federation on).
 */
export function delegatedServer(publicBaseUrl: string): string {
  const url = new URL(publicBaseUrl);
  return `${url.hostname}:${url.port || '443'}`;
}

export function wellKnownRoutes(opts: WellKnownOptions): Route[] {
  const clientBody = { 'm.homeserver': { base_url: opts.publicBaseUrl } };
  const serverBody = { 'm.server': delegatedServer(opts.publicBaseUrl) };
  return [
    {
      method: 'GET',
      path: '/.well-known/matrix/client',
      auth: 'none',
      handler: async () => ({ body: clientBody }),
    },
    {
      method: 'GET',
      path: '/.well-known/matrix/server',
      auth: 'none',
      handler: async () => {
        // A 404 tells remote servers to use the server name itself (or SRV).
        if (!opts.serveServerWellknown) throw notFound('serve_server_wellknown is off on this server');
        return { body: serverBody };
      },
    },
  ];
}
