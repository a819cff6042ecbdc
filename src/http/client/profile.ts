// Profiles (client-server-api/_index.md, "Profiles"; data/api/client-server/profile.yaml):
// the whole profile, and each field by name — displayname, avatar_url, m.tz
// and custom namespaced fields (Matrix 1.16).
import type { AccountServices } from '../../services/accounts/index.js';
import { MatrixError, missingParam } from '../../core/errors.js';
import type { MatrixRequest, Route } from '../types.js';
import { requireObject } from '../validate.js';
import { requesterOf } from './uia.js';

const FIELD_PATH = '/_matrix/client/v3/profile/{userId}/{keyName}';

/** guest_access.md lets guests set their display name, and nothing else of their profile. */
function requireGuestMayChange(req: MatrixRequest): void {
  if (requesterOf(req).isGuest && req.params.keyName !== 'displayname') {
    throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest accounts can only change their display name; register a full account');
  }
}

export function profileRoutes(services: AccountServices): Route[] {
  const profiles = services.profiles;
  return [
    /** # GET /_matrix/client/v3/profile/{userId} */
    {
      method: 'GET',
      path: '/_matrix/client/v3/profile/{userId}',
      auth: 'optional',
      handler: async (req) => ({ body: await profiles.getAll(req.params.userId!) }),
    },
    /** # GET /_matrix/client/v3/profile/{userId}/{keyName} */
    {
      method: 'GET',
      path: FIELD_PATH,
      auth: 'optional',
      handler: async (req) => {
        const { userId, keyName } = req.params as { userId: string; keyName: string };
        return { body: { [keyName]: await profiles.getField(userId, keyName) } };
      },
    },
    /** # PUT /_matrix/client/v3/profile/{userId}/{keyName} */
    {
      method: 'PUT',
      path: FIELD_PATH,
      auth: 'required',
      guests: true,
      handler: async (req) => {
        requireGuestMayChange(req);
        const { userId, keyName } = req.params as { userId: string; keyName: string };
        const body = requireObject(req.body);
        if (!Object.hasOwn(body, keyName)) throw missingParam(`The body must hold the field being set: {"${keyName}": …}`);
        await profiles.setField(requesterOf(req).userId, userId, keyName, body[keyName]!);
        return { body: {} };
      },
    },
    /** # DELETE /_matrix/client/v3/profile/{userId}/{keyName} */
    {
      method: 'DELETE',
      path: FIELD_PATH,
      auth: 'required',
      guests: true,
      body: 'none',
      handler: async (req) => {
        requireGuestMayChange(req);
        const { userId, keyName } = req.params as { userId: string; keyName: string };
        await profiles.deleteField(requesterOf(req).userId, userId, keyName);
        return { body: {} };
      },
    },
  ];
}
