// The request bodies the Client-Server and Server-Server APIs share for
// end-to-end keys (keys.yaml; server-server user_keys.yaml): which devices'
// keys to download, and which one-time keys to claim.
import { badJson } from '../core/errors.js';
import type { JsonObject } from '../core/types.js';
import { isJsonObject, requireObjectField } from './validate.js';

/** `device_keys`: user ID → device IDs (empty for all devices). */
export function deviceKeysRequest(body: JsonObject): Record<string, string[]> {
  const wanted: Record<string, string[]> = {};
  for (const [userId, devices] of Object.entries(requireObjectField(body, 'device_keys'))) {
    if (!Array.isArray(devices) || devices.some((d) => typeof d !== 'string')) {
      throw badJson(`'device_keys.${userId}' must be an array of device IDs (empty for all devices)`);
    }
    wanted[userId] = devices as string[];
  }
  return wanted;
}

/** `one_time_keys`: user ID → device ID → algorithm. */
export function oneTimeKeysRequest(body: JsonObject): Record<string, Record<string, string>> {
  const wanted: Record<string, Record<string, string>> = {};
  for (const [userId, devices] of Object.entries(requireObjectField(body, 'one_time_keys'))) {
    if (!isJsonObject(devices) || Object.values(devices).some((a) => typeof a !== 'string')) {
      throw badJson(`'one_time_keys.${userId}' must map device IDs to key algorithms`);
    }
    wanted[userId] = devices as Record<string, string>;
  }
  return wanted;
}
