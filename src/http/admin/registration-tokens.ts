// Synapse's registration tokens admin API (Synapse docs, "Registration
// Tokens"): list, inspect, create, update and delete the tokens that
// m.login.registration_token accepts. Server admins only.
import type { JsonObject } from '../../core/types.js';
import type { AccountServices } from '../../services/accounts/index.js';
import type { RegistrationToken } from '../../storage/accounts/index.js';
import type { Route } from '../types.js';
import { adminRoute } from './admin-route.js';
import { optionalInteger, optionalString, queryBoolean, requireObject } from '../validate.js';

const BASE = '/_synapse/admin/v1/registration_tokens';

export function registrationTokenAdminRoutes(services: AccountServices): Route[] {
  const tokens = services.registrationTokens;
  return [
    /** # GET /_synapse/admin/v1/registration_tokens */
    adminRoute('GET', BASE, async (req) => {
      const list = await tokens.list(queryBoolean(req.query, 'valid'));
      return { body: { registration_tokens: list.map(tokenJson) } };
    }),
    /** # POST /_synapse/admin/v1/registration_tokens/new */
    adminRoute('POST', `${BASE}/new`, async (req) => {
      const body = requireObject(req.body);
      const created = await tokens.create({
        token: optionalString(body, 'token'),
        length: optionalInteger(body, 'length'),
        usesAllowed: nullableInteger(body, 'uses_allowed'),
        expiryTime: nullableInteger(body, 'expiry_time'),
      });
      return { body: tokenJson(created) };
    }),
    /** # GET /_synapse/admin/v1/registration_tokens/{token} */
    adminRoute('GET', `${BASE}/{token}`, async (req) => {
      return { body: tokenJson(await tokens.get(req.params.token!)) };
    }),
    /** # PUT /_synapse/admin/v1/registration_tokens/{token} */
    adminRoute('PUT', `${BASE}/{token}`, async (req) => {
      const body = requireObject(req.body);
      const updated = await tokens.update(req.params.token!, {
        usesAllowed: nullableInteger(body, 'uses_allowed'),
        expiryTime: nullableInteger(body, 'expiry_time'),
      });
      return { body: tokenJson(updated) };
    }),
    /** # DELETE /_synapse/admin/v1/registration_tokens/{token} */
    adminRoute('DELETE', `${BASE}/{token}`, async (req) => {
      await tokens.delete(req.params.token!);
      return { body: {} };
    }),
  ];
}

/** Absent: leave unchanged (undefined); null: no limit (null); else an integer. */
function nullableInteger(body: JsonObject, field: string): number | null | undefined {
  if (body[field] === null) return null;
  return optionalInteger(body, field);
}

function tokenJson(token: RegistrationToken): JsonObject {
  return {
    token: token.token,
    uses_allowed: token.usesAllowed,
    pending: token.pending,
    completed: token.completed,
    expiry_time: token.expiryTime,
  };
}
