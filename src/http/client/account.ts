// Account management (client-server-api/_index.md, "Account management";
// data/api/client-server/password_management.yaml, account_deactivation.yaml, whoami.yaml).
import type { AccountServices } from '../../services/accounts/index.js';
import { MAX_PASSWORD_LENGTH } from '../../services/accounts/passwords.js';
import { requireIdServer } from '../../services/identity-servers.js';
import { invalidParam } from '../../core/errors.js';
import type { Route } from '../types.js';
import { optionalBoolean, optionalString, requireObject } from '../validate.js';
import { authDict, requesterOf, withUia } from './uia.js';

export function accountManagementRoutes(services: AccountServices): Route[] {
  return [
    /** # POST /_matrix/client/v3/account/password */
    {
      method: 'POST',
      path: '/_matrix/client/v3/account/password',
      auth: 'required',
      handler: async (req) => {
        const requester = requesterOf(req);
        const body = requireObject(req.body);
        const newPassword = optionalString(body, 'new_password');
        if (newPassword !== undefined && newPassword.length > MAX_PASSWORD_LENGTH) {
          throw invalidParam(`new_password is too long (at most ${MAX_PASSWORD_LENGTH} characters)`);
        }
        const logoutDevices = optionalBoolean(body, 'logout_devices') ?? true;
        return withUia(async () => {
          await services.account.changePassword(requester, newPassword, logoutDevices, authDict(body));
          return { body: {} };
        });
      },
    },
    /** # POST /_matrix/client/v3/account/deactivate */
    {
      method: 'POST',
      path: '/_matrix/client/v3/account/deactivate',
      auth: 'required',
      // As Synapse, also under /unstable, beside the /account/3pid routes it unbinds like.
      aliasVersions: ['r0', 'unstable'],
      handler: async (req) => {
        const requester = requesterOf(req);
        const body = requireObject(req.body);
        // account_deactivation.yaml: `erase` defaults to false.
        const erase = optionalBoolean(body, 'erase') ?? false;
        return withUia(async () => {
          const idServer = optionalString(body, 'id_server');
          const result = await services.account.deactivate(requester, authDict(body), erase, idServer === undefined ? undefined : requireIdServer(idServer));
          return { body: { id_server_unbind_result: result } };
        });
      },
    },
    /** # GET /_matrix/client/v3/account/whoami */
    {
      method: 'GET',
      path: '/_matrix/client/v3/account/whoami',
      auth: 'required',
      guests: true,
      handler: async (req) => {
        const requester = requesterOf(req);
        return { body: { user_id: requester.userId, device_id: requester.deviceId, is_guest: requester.isGuest } };
      },
    },
  ];
}
