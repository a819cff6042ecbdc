// GET /capabilities (client-server-api/_index.md, "Capabilities negotiation";
// data/api/client-server/capabilities.yaml).
import { ROOM_VERSIONS } from '../../core/room-versions.js';
import type { JsonObject } from '../../core/types.js';
import type { Route } from '../types.js';

export function capabilitiesRoutes(config: { defaultRoomVersion: string }): Route[] {
  const available: JsonObject = Object.fromEntries([...ROOM_VERSIONS.keys()].map((id) => [id, 'stable']));
  const capabilities: JsonObject = {
    'm.change_password': { enabled: true },
    'm.room_versions': { default: config.defaultRoomVersion, available },
    'm.set_displayname': { enabled: true },
    'm.set_avatar_url': { enabled: true },
    'm.3pid_changes': { enabled: false },
    'm.get_login_token': { enabled: false },
  };
  return [
    /** # GET /_matrix/client/v3/capabilities */
    {
      method: 'GET',
      guests: true,
      path: '/_matrix/client/v3/capabilities',
      auth: 'required',
      handler: async () => ({ body: { capabilities } }),
    },
  ];
}
