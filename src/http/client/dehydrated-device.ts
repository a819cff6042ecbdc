// Dehydrated devices (MSC3814, unstable prefix org.matrix.msc3814.v1).
import type { E2eeServices } from '../../services/e2ee/index.js';
import { badJson } from '../../core/errors.js';
import type { Route } from '../types.js';
import { optionalString, requireObject, requireObjectField, requireString } from '../validate.js';
import { requesterOf } from './uia.js';

const PREFIX = '/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device';

export function dehydratedDeviceRoutes(e2ee: E2eeServices): Route[] {
  const service = e2ee.dehydrated;
  return [
    /** # PUT /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device */
    {
      method: 'PUT',
      path: PREFIX,
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const deviceId = await service.put(requesterOf(req).userId, {
          deviceId: requireString(body, 'device_id'),
          deviceData: requireObjectField(body, 'device_data'),
          displayName: optionalString(body, 'initial_device_display_name'),
          deviceKeys: requireObjectField(body, 'device_keys'),
          oneTimeKeys: body.one_time_keys,
          fallbackKeys: body.fallback_keys,
        });
        return { body: { device_id: deviceId } };
      },
    },
    /** # GET /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device */
    {
      method: 'GET',
      path: PREFIX,
      auth: 'required',
      handler: async (req) => ({ body: await service.get(requesterOf(req).userId) }),
    },
    /** # DELETE /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device */
    {
      method: 'DELETE',
      path: PREFIX,
      auth: 'required',
      handler: async (req) => ({ body: { device_id: await service.delete(requesterOf(req).userId) } }),
    },
    /** # POST /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device/{deviceId}/events */
    {
      method: 'POST',
      path: `${PREFIX}/{deviceId}/events`,
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const nextBatch = body.next_batch;
        if (nextBatch !== undefined && nextBatch !== null && typeof nextBatch !== 'string') throw badJson("'next_batch' must be a string");
        const page = await service.events(requesterOf(req).userId, req.params.deviceId!, nextBatch ?? undefined);
        const events = page.events.map((e) => ({ type: e.type, sender: e.sender, content: e.content }));
        return { body: { events, next_batch: page.next_batch } };
      },
    },
  ];
}
