// This server's own key document, GET /_matrix/key/v2/server
// (server-server-api.md, "Publishing Keys"): its signing keys, self-signed
// with each of them so a remote server can check the response came from the
// holder of the keys. The notary serves the same document when asked for
// this server's keys.
import { encodeBase64 } from '../core/base64.js';
import { signJson, type SigningKey } from '../core/signing.js';
import type { JsonObject } from '../core/types.js';

/**
 * How long a response stays valid. The spec has servers use "the lesser of
 * valid_until_ts and 7 days into the future", so a week is the longest
 * validity that means anything; it lets remote servers keep verifying our
 * events while we are briefly unreachable. (Synapse's key_refresh_interval
 * default is one day.)
 */
export const KEY_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

export function serverKeysResponse(serverName: string, signingKeys: readonly SigningKey[], now: number): JsonObject {
  const verifyKeys: JsonObject = {};
  for (const key of signingKeys) verifyKeys[key.keyId] = { key: encodeBase64(key.publicKey) };
  let body: JsonObject = {
    server_name: serverName,
    verify_keys: verifyKeys,
    old_verify_keys: {},
    valid_until_ts: now + KEY_VALIDITY_MS,
  };
  for (const key of signingKeys) body = signJson(body, serverName, key);
  return body;
}
