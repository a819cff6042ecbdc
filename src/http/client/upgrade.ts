// Room upgrades (room_upgrades.yaml; modules/room_upgrades.md).
import type { RoomUpgrader } from '../../services/rooms/upgrade.js';
import type { Route } from '../types.js';
import { optionalStringArray, requireObject, requireString } from '../validate.js';

export function upgradeRoutes(upgrader: RoomUpgrader): Route[] {
  return [
    /** # POST /_matrix/client/v3/rooms/{roomId}/upgrade */
    {
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/upgrade',
      auth: 'required',
      body: 'json',
      handler: async (req) => {
        const body = requireObject(req.body);
        const replacement = await upgrader.upgrade(
          req.requester!.userId,
          req.params.roomId!,
          requireString(body, 'new_version'),
          optionalStringArray(body, 'additional_creators') ?? [],
        );
        return { body: { replacement_room: replacement } };
      },
    },
  ];
}
