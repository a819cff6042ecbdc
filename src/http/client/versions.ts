// GET /_matrix/client/versions (client-server-api/_index.md, "API Standards";
// data/api/client-server/versions.yaml). Clients such as matrix-js-sdk decide
// which endpoints to call from this list, so it names only what Axon serves.
import type { Route } from '../types.js';

/**
 * Spec versions Axon supports. The r0 releases stay listed because older
 * clients look for them (Synapse lists them too); v1.x up to v1.12.
 */
export const SUPPORTED_SPEC_VERSIONS: readonly string[] = [
  'r0.0.1',
  'r0.1.0',
  'r0.2.0',
  'r0.3.0',
  'r0.4.0',
  'r0.5.0',
  'r0.6.0',
  'r0.6.1',
  'v1.1',
  'v1.2',
  'v1.3',
  'v1.4',
  'v1.5',
  'v1.6',
  'v1.7',
  'v1.8',
  'v1.9',
  'v1.10',
  'v1.11',
  'v1.12',
];

export interface VersionsOptions {
  /**
   * Unstable features (MSC flags) that are actually implemented, each `true`.
   * Advertising one a client would then rely on but we lack breaks that client,
   * so the list starts empty and grows with the code.
   */
  unstableFeatures?: Readonly<Record<string, boolean>>;
}

export function versionsRoutes(opts: VersionsOptions = {}): Route[] {
  const body = { versions: [...SUPPORTED_SPEC_VERSIONS], unstable_features: { ...opts.unstableFeatures } };
  return [
    {
      method: 'GET',
      path: '/_matrix/client/versions',
      auth: 'none',
      handler: async () => ({ body }),
    },
  ];
}
