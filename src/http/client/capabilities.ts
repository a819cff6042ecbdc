// GET /capabilities (client-server-api/_index.md, "Capabilities negotiation";
// data/api/client-server/capabilities.yaml).
import { ROOM_VERSIONS } from '../../core/room-versions.js';
import type { JsonObject } from '../../core/types.js';
import type { Route } from '../types.js';
import { requesterOf } from './uia.js';

export function capabilitiesRoutes(config: { defaultRoomVersion: string; loginTokensEnabled: boolean }): Route[] {
  const available: JsonObject = Object.fromEntries([...ROOM_VERSIONS.keys()].map((id) => [id, 'stable']));
  const capabilities: JsonObject = {
    'm.change_password': { enabled: true },
    'm.room_versions': { default: config.defaultRoomVersion, available },
    'm.set_displayname': { enabled: true },
    'm.set_avatar_url': { enabled: true },
    // Every profile field may be set (profile.yaml; displayname and avatar_url included, as m.set_* say).
    'm.profile_fields': { enabled: true },
    // No 3PID can be added to an account (services/accounts/threepids.ts); binding
    // one on an identity server (/account/3pid/bind) is not an account change.
    'm.3pid_changes': { enabled: false },
    // POST /login/get_token exists only with login_via_existing_session enabled.
    'm.get_login_token': { enabled: config.loginTokensEnabled },
  };
  // Server admins may lock and suspend accounts (admin.yaml); for anyone else
  // the spec asks for the capability to be left out.
  const adminCapabilities: JsonObject = { ...capabilities, 'm.account_moderation': { suspend: true, lock: true } };
  return [
    /** # GET /_matrix/client/v3/capabilities */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/capabilities',
      auth: 'required',
      handler: async (req) => ({ body: { capabilities: requesterOf(req).isAdmin ? adminCapabilities : capabilities } }),
    },
  ];
}
