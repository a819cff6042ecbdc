// End-to-end encryption keys (client-server-api/modules/end_to_end_encryption.md;
// data/api/client-server/keys.yaml and cross_signing.yaml).
import type { JsonObject } from '../../core/types.js';
import type { E2eeServices } from '../../services/e2ee/index.js';
import { parseSyncToken } from '../../services/sync/token.js';
import { deviceKeysRequest, oneTimeKeysRequest } from '../key-requests.js';
import type { Route } from '../types.js';
import { optionalInteger, requireObject, requireQueryString } from '../validate.js';
import { authDict, requesterOf, withUia } from './uia.js';

export function keyRoutes(e2ee: E2eeServices): Route[] {
  return [
    /** # POST /_matrix/client/v3/keys/upload */
    {
      method: 'POST',
      guests: true,
      path: '/_matrix/client/v3/keys/upload',
      auth: 'required',
      handler: async (req) => {
        const { userId, deviceId } = requesterOf(req);
        const body = requireObject(req.body);
        const counts = await e2ee.keys.upload(userId, deviceId, {
          deviceKeys: body.device_keys,
          oneTimeKeys: body.one_time_keys,
          fallbackKeys: body.fallback_keys,
        });
        return { body: { one_time_key_counts: counts } };
      },
    },
    /** # POST /_matrix/client/v3/keys/query */
    {
      method: 'POST',
      guests: true,
      path: '/_matrix/client/v3/keys/query',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const timeout = remoteTimeout(body);
        const result = await e2ee.keys.query(requesterOf(req).userId, deviceKeysRequest(body), timeout);
        return { body: { ...result } as unknown as JsonObject };
      },
    },
    /** # POST /_matrix/client/v3/keys/claim */
    {
      method: 'POST',
      guests: true,
      path: '/_matrix/client/v3/keys/claim',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const timeout = remoteTimeout(body);
        return { body: { ...(await e2ee.keys.claim(oneTimeKeysRequest(body), timeout)) } as unknown as JsonObject };
      },
    },
    /** # GET /_matrix/client/v3/keys/changes */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/keys/changes',
      auth: 'required',
      handler: async (req) => {
        const from = parseSyncToken(requireQueryString(req.query, 'from')).device_lists;
        const to = parseSyncToken(requireQueryString(req.query, 'to')).device_lists;
        const { changed, left } = await e2ee.deviceLists.changesSince(requesterOf(req).userId, from, to);
        return { body: { changed, left } };
      },
    },
    /**
     * # POST /_matrix/client/v3/keys/device_signing/upload
     * Also under /unstable, where cross-signing began (MSC1756) and Synapse still serves it.
     */
    {
      method: 'POST',
      path: '/_matrix/client/v3/keys/device_signing/upload',
      aliasVersions: ['r0', 'unstable'],
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        return withUia(async () => {
          await e2ee.crossSigning.uploadSigningKeys(
            requesterOf(req).userId,
            { master_key: body.master_key, self_signing_key: body.self_signing_key, user_signing_key: body.user_signing_key },
            authDict(body),
          );
          return { body: {} };
        });
      },
    },
    /** # POST /_matrix/client/v3/keys/signatures/upload (also under /unstable, as above) */
    {
      method: 'POST',
      path: '/_matrix/client/v3/keys/signatures/upload',
      aliasVersions: ['r0', 'unstable'],
      auth: 'required',
      handler: async (req) => {
        const failures = await e2ee.crossSigning.uploadSignatures(requesterOf(req).userId, requireObject(req.body));
        return { body: { failures } as unknown as JsonObject };
      },
    },
  ];
}

/** The `timeout` keys.yaml recommends for waiting on other servers. */
const DEFAULT_REMOTE_TIMEOUT_MS = 10_000;
/** The longest a client may have us wait for other servers' keys: a federation request's own deadline. */
const MAX_REMOTE_TIMEOUT_MS = 60_000;

/** `timeout`: how long to wait for other servers (keys.yaml recommends 10 s, our default). */
function remoteTimeout(body: JsonObject): number {
  return Math.min(optionalInteger(body, 'timeout', { min: 0 }) ?? DEFAULT_REMOTE_TIMEOUT_MS, MAX_REMOTE_TIMEOUT_MS);
}
