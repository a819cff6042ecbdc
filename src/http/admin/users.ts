// Synapse's user admin API (Synapse docs, admin_api/user_admin_api.md) in
// its shapes, so tools written for Synapse work against Axon. Server admins only.
import type { JsonObject } from '../../core/types.js';
import { invalidParam } from '../../core/errors.js';
import type { AccountServices } from '../../services/accounts/index.js';
import type { AdminUserView, UserChanges } from '../../services/accounts/user-admin.js';
import { MAX_PASSWORD_LENGTH } from '../../services/accounts/passwords.js';
import { USER_ORDER_COLUMNS, type DeviceRecord, type UserListQuery, type UserOrder } from '../../storage/accounts/index.js';
import type { Route } from '../types.js';
import { optionalArray, optionalBoolean, optionalString, queryBoolean, queryString, requireObject, requireString } from '../validate.js';
import { adminRoute } from './admin-route.js';
import { listPaging } from './listing.js';

/** Synapse's default page size for the user list. */
const DEFAULT_LIMIT = 100;

export function userAdminRoutes(services: AccountServices): Route[] {
  const users = services.userAdministration;
  return [
    /** # GET /_synapse/admin/v2/users */
    adminRoute('GET', '/_synapse/admin/v2/users', async (req) => {
      const page = await users.list(userListQuery(req.query));
      const body: JsonObject = { users: page.users.map(userJson), total: page.total };
      // Synapse sends next_token as a string, and only when there is a next page.
      if (page.nextFrom !== undefined) body.next_token = String(page.nextFrom);
      return { body };
    }),
    /** # GET /_synapse/admin/v2/users/{userId} */
    adminRoute('GET', '/_synapse/admin/v2/users/{userId}', async (req) => ({ body: userJson(await users.get(req.params.userId!)) })),
    /** # PUT /_synapse/admin/v2/users/{userId} */
    adminRoute('PUT', '/_synapse/admin/v2/users/{userId}', async (req, admin) => {
      const { created, user } = await users.upsert(admin.userId, req.params.userId!, userChanges(requireObject(req.body)));
      return { status: created ? 201 : 200, body: userJson(user) };
    }),
    /** # GET /_synapse/admin/v2/users/{userId}/devices */
    adminRoute('GET', '/_synapse/admin/v2/users/{userId}/devices', async (req) => {
      const devices = await users.devices(req.params.userId!);
      return { body: { devices: devices.map(deviceJson), total: devices.length } };
    }),
    /** # POST /_synapse/admin/v1/deactivate/{userId} */
    adminRoute('POST', '/_synapse/admin/v1/deactivate/{userId}', async (req) => {
      const erase = optionalBoolean(requireObject(req.body ?? {}), 'erase') ?? false;
      // As Synapse: the identifiers the user bound through this server are unbound from their identity servers.
      return { body: { id_server_unbind_result: await users.deactivate(req.params.userId!, erase) } };
    }),
    /** # POST /_synapse/admin/v1/reset_password/{userId} */
    adminRoute('POST', '/_synapse/admin/v1/reset_password/{userId}', async (req) => {
      const body = requireObject(req.body);
      const password = requirePassword(requireString(body, 'new_password'));
      await users.resetPassword(req.params.userId!, password, optionalBoolean(body, 'logout_devices') ?? true);
      return { body: {} };
    }),
    /** # GET /_synapse/admin/v1/whois/{userId} — the same answer as the client API's /admin/whois. */
    adminRoute('GET', '/_synapse/admin/v1/whois/{userId}', async (req, admin) => ({
      body: await services.administration.whois({ userId: admin.userId, isAdmin: true }, req.params.userId!),
    })),
  ];
}

function userListQuery(query: URLSearchParams): UserListQuery {
  return {
    ...listPaging<UserOrder>(query, USER_ORDER_COLUMNS, 'name', DEFAULT_LIMIT),
    userId: queryString(query, 'user_id'),
    name: queryString(query, 'name'),
    guests: queryBoolean(query, 'guests') ?? true,
    deactivated: queryBoolean(query, 'deactivated') ?? false,
    locked: queryBoolean(query, 'locked') ?? false,
    admins: queryBoolean(query, 'admins'),
  };
}

function userChanges(body: JsonObject): UserChanges {
  const password = optionalString(body, 'password');
  const threepids = optionalArray(body, 'threepids');
  if (threepids !== undefined && threepids.length > 0) {
    throw invalidParam('Axon keeps no e-mail addresses or phone numbers for accounts; send threepids: [] or leave it out');
  }
  return {
    password: password === undefined ? undefined : requirePassword(password),
    logoutDevices: optionalBoolean(body, 'logout_devices') ?? true,
    displayname: nullableString(body, 'displayname'),
    avatarUrl: nullableString(body, 'avatar_url'),
    admin: optionalBoolean(body, 'admin'),
    deactivated: optionalBoolean(body, 'deactivated'),
    locked: optionalBoolean(body, 'locked'),
  };
}

function nullableString(body: JsonObject, field: string): string | null | undefined {
  return body[field] === null ? null : optionalString(body, field);
}

function requirePassword(password: string): string {
  if (password.length > MAX_PASSWORD_LENGTH) throw invalidParam(`The password is too long (at most ${MAX_PASSWORD_LENGTH} characters)`);
  return password;
}

/**
 * A user in Synapse's shape. creation_ts is in seconds, as Synapse stores
 * and serves it (tools such as synapse-admin multiply it by 1000).
 */
function userJson(user: AdminUserView): JsonObject {
  return {
    name: user.userId,
    displayname: user.displayname,
    avatar_url: user.avatarUrl,
    threepids: [],
    external_ids: [],
    is_guest: user.isGuest,
    admin: user.isAdmin,
    deactivated: user.deactivated,
    erased: user.erased,
    locked: user.locked,
    suspended: user.suspended,
    shadow_banned: false,
    user_type: null,
    appservice_id: null,
    creation_ts: Math.floor(user.createdTs / 1000),
    last_seen_ts: user.lastSeenTs,
  };
}

function deviceJson(device: DeviceRecord): JsonObject {
  return {
    device_id: device.deviceId,
    display_name: device.displayName,
    last_seen_ip: device.lastSeenIp,
    last_seen_ts: device.lastSeenTs,
    last_seen_user_agent: device.lastSeenUserAgent,
    user_id: device.userId,
  };
}
