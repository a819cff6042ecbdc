// Receipts (client-server-api/modules/receipts.md; data/api/client-server/receipts.yaml).
import type { ReceiptService } from '../../services/user-data/receipts.js';
import { invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

export function receiptRoutes(receipts: ReceiptService): Route[] {
  return [
    /** # POST /_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId} */
    {
      method: 'POST',
      guests: true,
      path: '/_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}',
      auth: 'required',
      handler: async (req) => {
        const body = requireObject(req.body);
        const threadId = body.thread_id;
        // receipts.yaml's 400: "thread_id … is not a string"; Synapse answers M_INVALID_PARAM.
        if (threadId !== undefined && typeof threadId !== 'string') throw invalidParam("'thread_id' must be a non-empty string");
        const { roomId, receiptType, eventId } = req.params as { roomId: string; receiptType: string; eventId: string };
        await receipts.postReceipt(requesterOf(req).userId, roomId, receiptType, eventId, threadId);
        return { body: {} };
      },
    },
  ];
}
