// /.well-known/matrix/client (client-server-api/_index.md, "Server
// Discovery"), /.well-known/matrix/server (server-server-api.md, "Resolving
// server names"), /.well-known/matrix/support (support.yaml) and
// /.well-known/matrix/policy_server (policy_server.yaml). All are served on
// client listeners, as in Synapse.
import type { SupportConfig } from '../config/types.js';
import type { JsonObject } from '../core/types.js';
import { notFound } from '../core/errors.js';
import type { Route } from './types.js';

export interface WellKnownOptions {
  publicBaseUrl: string;
  serveServerWellknown: boolean;
  /** The `support` block and admin_contact; undefined: nothing to say. */
  support?: SupportConfig;
}

/** support.yaml's response body. */
function supportBody(support: SupportConfig): JsonObject {
  const contacts = support.contacts.map((c) => ({
    role: c.role,
    ...(c.matrixId !== undefined && { matrix_id: c.matrixId }),
    ...(c.emailAddress !== undefined && { email_address: c.emailAddress }),
  }));
  return { ...(contacts.length > 0 && { contacts }), ...(support.supportPage !== undefined && { support_page: support.supportPage }) };
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
    {
      method: 'GET',
      path: '/.well-known/matrix/support',
      auth: 'none',
      handler: async () => {
        // support.yaml: 404 when there is "no server support information available".
        if (!opts.support) throw notFound('This server publishes no support contacts: set admin_contact or support in homeserver.yaml');
        return { body: supportBody(opts.support) };
      },
    },
    {
      method: 'GET',
      path: '/.well-known/matrix/policy_server',
      auth: 'none',
      // policy_server.yaml's 404, "No policy server information available":
      // Axon is a homeserver and does not act as a Policy Server.
      handler: async () => {
        throw notFound('This server is not a Policy Server');
      },
    },
  ];
}
