// Fully read markers (client-server-api/modules/read_markers.md; data/api/client-server/read_markers.yaml).
import type { ReceiptService } from '../../services/user-data/receipts.js';
import type { Route } from '../types.js';
import { optionalString, requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function readMarkerRoutes(receipts: ReceiptService): Route[] {
  return [
    /** # POST /_matrix/client/v3/rooms/{roomId}/read_markers */
    {
      method: 'POST',
      guests: true,
      path: '/_matrix/client/v3/rooms/{roomId}/read_markers',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        await receipts.setReadMarkers(requesterOf(req).userId, req.params.roomId!, {
          fullyRead: optionalString(body, 'm.fully_read'),
          read: optionalString(body, 'm.read'),
          readPrivate: optionalString(body, 'm.read.private'),
        });
        return { body: {} };
      },
    },
  ];
}
