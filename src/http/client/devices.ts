// Device management (client-server-api/modules/device_management.md;
// data/api/client-server/device_management.yaml).
import type { JsonObject } from '../../core/types.js';
import type { AccountServices } from '../../services/accounts/index.js';
import type { DeviceRecord } from '../../storage/accounts/index.js';
import type { Route } from '../types.js';
import { missingParam } from '../../core/errors.js';
import { optionalString, optionalStringArray, requireObject } from '../validate.js';
import { authDict, requesterOf, withUia } from './uia.js';

export function deviceRoutes(services: AccountServices): Route[] {
  return [
    /** # GET /_matrix/client/v3/devices */
    {
      method: 'GET',
      path: '/_matrix/client/v3/devices',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const devices = await services.devices.list(requesterOf(req).userId);
        return { body: { devices: devices.map(deviceJson) } };
      },
    },
    /** # GET /_matrix/client/v3/devices/{deviceId} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/devices/{deviceId}',
      auth: 'required',
      guests: true,
      handler: async (req) => ({ body: deviceJson(await services.devices.get(requesterOf(req).userId, req.params.deviceId!)) }),
    },
    /** # PUT /_matrix/client/v3/devices/{deviceId} */
    {
      method: 'PUT',
      path: '/_matrix/client/v3/devices/{deviceId}',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const userId = requesterOf(req).userId;
        const displayName = optionalString(requireObject(req.body), 'display_name');
        // "If not given, the display name is unchanged" — but an unknown device is still 404.
        if (displayName === undefined) await services.devices.get(userId, req.params.deviceId!);
        else await services.devices.setDisplayName(userId, req.params.deviceId!, displayName);
        return { body: {} };
      },
    },
    /** # DELETE /_matrix/client/v3/devices/{deviceId} */
    {
      method: 'DELETE',
      path: '/_matrix/client/v3/devices/{deviceId}',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const body = requireObject(req.body);
        return withUia(async () => {
          await services.devices.delete(requesterOf(req), [req.params.deviceId!], authDict(body));
          return { body: {} };
        });
      },
    },
    /** # POST /_matrix/client/v3/delete_devices */
    {
      method: 'POST',
      path: '/_matrix/client/v3/delete_devices',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const deviceIds = optionalStringArray(body, 'devices');
        if (deviceIds === undefined) throw missingParam("Missing required field 'devices'");
        return withUia(async () => {
          await services.devices.delete(requesterOf(req), deviceIds, authDict(body));
          return { body: {} };
        });
      },
    },
  ];
}

/** The spec's Device object; unknown values are left out rather than sent as null. */
function deviceJson(device: DeviceRecord): JsonObject {
  const json: JsonObject = { device_id: device.deviceId };
  if (device.displayName !== null) json.display_name = device.displayName;
  if (device.lastSeenIp !== null) json.last_seen_ip = device.lastSeenIp;
  if (device.lastSeenTs !== null) json.last_seen_ts = device.lastSeenTs;
  return json;
}
