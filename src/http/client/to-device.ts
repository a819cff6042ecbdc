// Send-to-device messaging (client-server-api/modules/send_to_device.md; data/api/client-server/to_device.yaml).
import type { E2eeServices } from '../../services/e2ee/index.js';
import type { Route } from '../types.js';
import { requireObject, requireObjectField } from '../validate.js';
import { requesterOf } from './uia.js';

export function toDeviceRoutes(e2ee: E2eeServices): Route[] {
  return [
    /** # PUT /_matrix/client/v3/sendToDevice/{eventType}/{txnId} */
    {
      method: 'PUT',
      guests: true,
      path: '/_matrix/client/v3/sendToDevice/{eventType}/{txnId}',
      auth: 'required',
      handler: async (req) => {
        const { userId, deviceId } = requesterOf(req);
        const messages = requireObjectField(requireObject(req.body), 'messages');
        await e2ee.toDevice.send(userId, deviceId, req.params.eventType!, req.params.txnId!, messages);
        return { body: {} };
      },
    },
  ];
}
