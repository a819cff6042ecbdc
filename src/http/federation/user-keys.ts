// End-to-end keys of this server's users for other servers
// (server-server-api "Device Management", "End-to-End Encryption";
// data/api/server-server/user_devices.yaml and user_keys.yaml). Only local
// users are answered for; others in a request are left out, as Synapse does.
import { invalidParam } from '../../core/errors.js';
import { parseUserId } from '../../core/identifiers.js';
import type { LocalDeviceLists } from '../../federation/edus/local-device-lists.js';
import type { KeyService } from '../../services/e2ee/index.js';
import { deviceKeysRequest, oneTimeKeysRequest } from '../key-requests.js';
import type { Route } from '../types.js';
import { requireObject } from '../validate.js';

export interface UserKeyRouteDeps {
  serverName: string;
  keys: KeyService;
  devices: LocalDeviceLists;
  /** allow_device_name_lookup_over_federation. */
  shareDisplayNames: boolean;
}

export function federationUserKeyRoutes(deps: UserKeyRouteDeps): Route[] {
  return [
    /** # GET /_matrix/federation/v1/user/devices/{userId} */
    {
      method: 'GET',
      path: '/_matrix/federation/v1/user/devices/{userId}',
      auth: 'federation',
      handler: async (req) => {
        const userId = req.params.userId!;
        const parsed = parseUserId(userId);
        if (parsed === null) throw invalidParam(`${JSON.stringify(userId)} is not a user ID`);
        // "Must be a user local to the receiving homeserver."
        if (parsed.serverName !== deps.serverName) throw invalidParam(`${userId} is not a user of ${deps.serverName}`);
        return { body: await deps.devices.userDevices(userId) };
      },
    },
    /** # POST /_matrix/federation/v1/user/keys/query */
    {
      method: 'POST',
      path: '/_matrix/federation/v1/user/keys/query',
      auth: 'federation',
      handler: async (req) => {
        const result = await deps.keys.queryLocal(deviceKeysRequest(requireObject(req.body)), { displayNames: deps.shareDisplayNames });
        return { body: { device_keys: result.device_keys, master_keys: result.master_keys, self_signing_keys: result.self_signing_keys } };
      },
    },
    /** # POST /_matrix/federation/v1/user/keys/claim */
    {
      method: 'POST',
      path: '/_matrix/federation/v1/user/keys/claim',
      auth: 'federation',
      handler: async (req) => {
        const result = await deps.keys.claimLocal(oneTimeKeysRequest(requireObject(req.body)));
        return { body: { one_time_keys: result.one_time_keys } };
      },
    },
  ];
}
