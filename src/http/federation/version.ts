// GET /_matrix/federation/v1/version (server-server-api.md, "Server
// implementation"; data/api/server-server/version.yaml). Unauthenticated, as
// in Synapse: it is what an operator's curl or a federation tester asks first.
import { readFileSync } from 'node:fs';
import type { Route } from '../types.js';

/** Axon's version from package.json (three levels up from both src/http/federation and dist/http/federation). */
export function axonVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export function federationVersionRoutes(): Route[] {
  const body = { server: { name: 'Axon', version: axonVersion() } };
  return [
    /** # GET /_matrix/federation/v1/version */
    { method: 'GET', path: '/_matrix/federation/v1/version', auth: 'none', handler: async () => ({ body }) },
  ];
}
