// PUT /_matrix/federation/v1/send/{txnId} (server-server-api "Transactions";
// data/api/server-server/transactions.yaml).
import type { TransactionReceiver } from '../../federation/inbound/transactions.js';
import type { Route } from '../types.js';

export function federationTransactionRoutes(receiver: TransactionReceiver): Route[] {
  return [
    /** # PUT /_matrix/federation/v1/send/{txnId} */
    {
      method: 'PUT',
      path: '/_matrix/federation/v1/send/{txnId}',
      auth: 'federation',
      handler: async (req) => ({ body: await receiver.receive(req.origin!, req.params.txnId!, req.body) }),
    },
  ];
}
