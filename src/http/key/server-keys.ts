// GET /_matrix/key/v2/server (server-server-api.md, "Publishing Keys"): this
// server's signing keys, self-signed with each of them so a remote server can
// check the response came from the holder of the keys.
import { encodeBase64 } from '../../core/base64.js';
import { signJson, type SigningKey } from '../../core/signing.js';
import type { JsonObject } from '../../core/types.js';
import type { Route } from '../types.js';

/**
 * How long a response stays valid. The spec has servers use "the lesser of
 * valid_until_ts and 7 days into the future", so a week is the longest
 * validity that means anything; it lets remote servers keep verifying our
 * events while we are briefly unreachable. (Synapse's key_refresh_interval
 * default is one day.)
 */
export const KEY_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

export interface ServerKeyOptions {
  serverName: string;
  signingKeys: readonly SigningKey[];
  clock?: () => number;
}

export function serverKeysResponse(opts: ServerKeyOptions, now: number): JsonObject {
  const verifyKeys: JsonObject = {};
  for (const key of opts.signingKeys) verifyKeys[key.keyId] = { key: encodeBase64(key.publicKey) };
  let body: JsonObject = {
    server_name: opts.serverName,
    verify_keys: verifyKeys,
    old_verify_keys: {},
    valid_until_ts: now + KEY_VALIDITY_MS,
  };
  for (const key of opts.signingKeys) body = signJson(body, opts.serverName, key);
  return body;
}

export function serverKeyRoutes(opts: ServerKeyOptions): Route[] {
  const clock = opts.clock ?? Date.now;
  const handler = async () => ({ body: serverKeysResponse(opts, clock()) });
  return [
    { method: 'GET', path: '/_matrix/key/v2/server', auth: 'none', handler },
    // Deprecated form with a key ID; like Synapse, the ID is ignored and all keys are returned.
    { method: 'GET', path: '/_matrix/key/v2/server/{keyId}', auth: 'none', handler },
  ];
}
