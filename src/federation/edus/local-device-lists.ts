// This server's users' device lists as other servers see them
// (server-server-api "Device Management", "End-to-End Encryption"):
// - every change to a local user's devices or keys goes as an
//   m.device_list_update per device (or m.signing_key_update for
//   cross-signing keys) to the servers sharing a room with the user, queued
//   in the transaction of the change. Each update has the next stream_id of
//   the user and names the one before in prev_id, so a server that missed
//   one knows to fetch the list again;
// - when a local user joins a room with servers that shared no room with
//   them, those servers are sent the user's devices (prev_id empty: "start
//   here", so they fetch the list);
// - GET /user/devices answers with the list and its stream_id.
import type { JsonObject } from '../../core/types.js';
import type { Database } from '../../storage/database.js';
import { withoutUnsigned } from '../../services/e2ee/common.js';
import type { KeyService, LocalDeviceChange } from '../../services/e2ee/index.js';
import type { DeviceListStore } from '../../storage/e2ee/index.js';
import type { Edu } from '../outbound/sender.js';
import type { RoomPeers } from './room-peers.js';

export interface LocalDeviceListDeps {
  keys: Pick<KeyService, 'queryLocal'>;
  store: Pick<DeviceListStore, 'nextFederationStreamId' | 'federationStreamId' | 'lockFederationStreamId'>;
  db: Database;
  peers: RoomPeers;
  queueEdu: (edu: Edu, destinations: readonly string[]) => Promise<void>;
  /** allow_device_name_lookup_over_federation. */
  shareDisplayNames: boolean;
}

export class LocalDeviceLists {
  constructor(private readonly deps: LocalDeviceListDeps) {}

  /** # GET /_matrix/federation/v1/user/devices/{userId} (a local user's). */
  async userDevices(userId: string): Promise<JsonObject> {
    // The stream_id is read first: a change committed in between then shows in the devices and comes again as an
    // update the other server applies twice (harmlessly), rather than being taken as known when it is not.
    const streamId = await this.deps.store.federationStreamId(userId);
    const { devices, crossSigning } = await this.describe(userId);
    return { user_id: userId, stream_id: streamId, devices, ...crossSigning };
  }

  /** DeviceListService.onLocalChange: runs inside the change's transaction. */
  async onLocalChange(change: LocalDeviceChange): Promise<void> {
    const { userId } = change;
    // First the lock on the user's stream: a join being announced (onLocalJoin) waits for this change, or this change for it.
    await this.deps.store.lockFederationStreamId(this.deps.db, userId);
    // A device without keys yet is of no use to other servers; it is announced once it has them.
    const changed = change.devices?.length ? (await this.describe(userId, change.devices)).devices : [];
    const updates = [...changed, ...(change.deleted ?? []).map((deviceId): JsonObject => ({ device_id: deviceId, deleted: true }))];
    // Every change moves the stream, even with nobody to tell yet: a server told of the user later (when they
    // join a room with it) gets a stream_id that differs from any list it fetched before the change.
    const numbered: JsonObject[] = [];
    for (const update of updates) {
      const streamId = await this.deps.store.nextFederationStreamId(this.deps.db, userId);
      numbered.push({ user_id: userId, stream_id: streamId, prev_id: streamId > 1 ? [streamId - 1] : [], ...update });
    }
    const servers = await this.deps.peers.serversSharingRoomsWith(userId);
    if (servers.length === 0) return;
    for (const content of numbered) await this.deps.queueEdu({ edu_type: 'm.device_list_update', content }, servers);
    if (change.crossSigning) {
      const { crossSigning } = await this.describe(userId);
      await this.deps.queueEdu({ edu_type: 'm.signing_key_update', content: { user_id: userId, ...crossSigning } }, servers);
    }
  }

  /**
   * A local user joined `roomId`: servers there that shared no other room
   * with them are sent the user's devices, at the current stream_id with
   * prev_id empty, which makes them fetch the whole list.
   */
  async onLocalJoin(roomId: string, userId: string): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      const [inRoom, before] = await Promise.all([this.deps.peers.serversInRoom(roomId), this.deps.peers.serversSharingRoomsWith(userId, roomId)]);
      const known = new Set(before);
      const servers = inRoom.filter((s) => !known.has(s));
      if (servers.length === 0) return;
      const streamId = await this.deps.store.lockFederationStreamId(tx, userId);
      for (const device of (await this.describe(userId)).devices) {
        await this.deps.queueEdu({ edu_type: 'm.device_list_update', content: { user_id: userId, stream_id: streamId, prev_id: [], ...device } }, servers);
      }
    });
  }

  /**
   * The user's devices that have keys (only `deviceIds` when given) as
   * /user/devices and m.device_list_update describe them, and the user's
   * cross-signing keys, with the user's own signatures only.
   */
  private async describe(userId: string, deviceIds: readonly string[] = []): Promise<{ devices: JsonObject[]; crossSigning: JsonObject }> {
    const answer = await this.deps.keys.queryLocal({ [userId]: deviceIds }, { displayNames: this.deps.shareDisplayNames });
    const devices = Object.entries(answer.device_keys[userId] ?? {}).map(([deviceId, keys]): JsonObject => {
      const name = (keys.unsigned as { device_display_name?: string } | undefined)?.device_display_name;
      return { device_id: deviceId, keys: withoutUnsigned(keys), ...(name === undefined ? {} : { device_display_name: name }) };
    });
    const crossSigning: JsonObject = {};
    const master = answer.master_keys[userId];
    const selfSigning = answer.self_signing_keys[userId];
    if (master) crossSigning['master_key'] = master;
    if (selfSigning) crossSigning['self_signing_key'] = selfSigning;
    return { devices, crossSigning };
  }
}
