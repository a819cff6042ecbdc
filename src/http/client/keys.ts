// End-to-end encryption keys (client-server-api/modules/end_to_end_encryption.md;
// data/api/client-server/keys.yaml and cross_signing.yaml).
import type { JsonObject } from '../../core/types.js';
import type { E2eeServices } from '../../services/e2ee/index.js';
import { parseSyncToken } from '../../services/sync/token.js';
import { badJson } from '../../core/errors.js';
import type { Route } from '../types.js';
import { isJsonObject, optionalInteger, requireObject, requireObjectField, requireQueryString } from '../validate.js';
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
        optionalInteger(body, 'timeout', { min: 0 });
        const request = requireObjectField(body, 'device_keys');
        const wanted: Record<string, string[]> = {};
        for (const [userId, devices] of Object.entries(request)) {
          if (!Array.isArray(devices) || devices.some((d) => typeof d !== 'string')) {
            throw badJson(`'device_keys.${userId}' must be an array of device IDs (empty for all devices)`);
          }
          wanted[userId] = devices as string[];
        }
        return { body: { ...(await e2ee.keys.query(requesterOf(req).userId, wanted)) } as unknown as JsonObject };
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
        optionalInteger(body, 'timeout', { min: 0 });
        const request = requireObjectField(body, 'one_time_keys');
        const wanted: Record<string, Record<string, string>> = {};
        for (const [userId, devices] of Object.entries(request)) {
          if (!isJsonObject(devices) || Object.values(devices).some((a) => typeof a !== 'string')) {
            throw badJson(`'one_time_keys.${userId}' must map device IDs to key algorithms`);
          }
          wanted[userId] = devices as Record<string, string>;
        }
        return { body: { ...(await e2ee.keys.claim(wanted)) } as unknown as JsonObject };
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
