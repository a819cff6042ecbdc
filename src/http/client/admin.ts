// Server administration (client-server-api/_index.md, "Server
// administration", "Account moderation"; data/api/client-server/admin.yaml):
// whois, and locking and suspending accounts.
import type { AccountServices, ModerationFlag } from '../../services/accounts/index.js';
import type { MatrixRequest, Route } from '../types.js';
import { requireBoolean, requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

/** Each moderation flag (also its JSON field) and its path segment. */
const FLAGS: ReadonlyArray<{ flag: ModerationFlag; segment: 'lock' | 'suspend' }> = [
  { flag: 'locked', segment: 'lock' },
  { flag: 'suspended', segment: 'suspend' },
];

function actorOf(req: MatrixRequest): { userId: string; isAdmin: boolean } {
  const { userId, isAdmin } = requesterOf(req);
  return { userId, isAdmin };
}

export function adminRoutes(services: AccountServices): Route[] {
  const admin = services.administration;
  return [
    /** # GET /_matrix/client/v3/admin/whois/{userId} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/admin/whois/{userId}',
      auth: 'required',
      handler: async (req) => ({ body: await admin.whois(actorOf(req), req.params.userId!) }),
    },
    ...FLAGS.flatMap(({ flag, segment }): Route[] => [
      /** # GET /_matrix/client/v1/admin/lock/{userId} and /admin/suspend/{userId} */
      {
        method: 'GET',
        path: `/_matrix/client/v1/admin/${segment}/{userId}`,
        auth: 'required',
        handler: async (req) => ({ body: { [flag]: await admin.getFlag(actorOf(req), req.params.userId!, flag) } }),
      },
      /** # PUT /_matrix/client/v1/admin/lock/{userId} and /admin/suspend/{userId} */
      {
        method: 'PUT',
        path: `/_matrix/client/v1/admin/${segment}/{userId}`,
        auth: 'required',
        handler: async (req) => {
          const value = requireBoolean(requireObject(req.body), flag);
          return { body: { [flag]: await admin.setFlag(actorOf(req), req.params.userId!, flag, value) } };
        },
      },
    ]),
  ];
}
