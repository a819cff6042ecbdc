// End-to-end encryption support: device and one-time keys, cross-signing,
// to-device messages, device-list tracking, key backups and dehydrated
// devices. The server never sees plaintext; it stores, counts and delivers.
//
// /sync reads three things here:
//   toDevice.currentPosition() / messagesFor(...) / acknowledge(...)
//   deviceLists.currentPosition() / changesSince(...)
//   keys.oneTimeKeyCounts(...) / unusedFallbackKeyTypes(...)
import type { Event } from '../../core/types.js';
import type { Database } from '../../storage/database.js';
import { createE2eeStores, type E2eeStores } from '../../storage/e2ee/index.js';
import type { EventStore, MembershipStore } from '../../storage/rooms/index.js';
import type { AccountServices } from '../accounts/index.js';
import type { Notifier } from '../notifier.js';
import { previousMembership } from '../rooms/previous-membership.js';
import { CrossSigningService } from './cross-signing.js';
import { DehydratedDeviceService } from './dehydrated.js';
import { DeviceListService } from './device-lists.js';
import { KeyBackupService } from './key-backup.js';
import { KeyService, type RemoteKeySource } from './keys.js';
import { ToDeviceService, type E2eeLog, type RemoteToDeviceSink } from './to-device.js';

export { CrossSigningService, type SigningKeysUpload } from './cross-signing.js';
export { DehydratedDeviceService, type DehydratedDeviceUpload } from './dehydrated.js';
export { DeviceListService, type DeviceListChanges, type LocalDeviceChange } from './device-lists.js';
export { KeyBackupService, isBetter, type BackupCounts, type BackupInfo, type RoomKeyUpload } from './key-backup.js';
export { KeyService, type ClaimResult, type KeyUpload, type QueryResult, type RemoteKeySource } from './keys.js';
export { ToDeviceService, type DeviceMessages, type E2eeLog, type ReceivedToDevice, type RemoteToDeviceSink, type ToDeviceBatch } from './to-device.js';

export interface E2eeServices {
  stores: E2eeStores;
  keys: KeyService;
  crossSigning: CrossSigningService;
  toDevice: ToDeviceService;
  deviceLists: DeviceListService;
  keyBackup: KeyBackupService;
  dehydrated: DehydratedDeviceService;
  /** Call for every persisted room event (EventPipeline.onPersisted): joins and leaves move device lists. */
  onEventPersisted(event: Event): Promise<void>;
}

export interface E2eeDeps {
  db: Database;
  serverName: string;
  accounts: AccountServices;
  memberships: Pick<MembershipStore, 'usersSharingRoomsWith' | 'membersOfRoom'>;
  events: Pick<EventStore, 'getEvent'>;
  notifier: Notifier;
  clock: () => number;
  log: E2eeLog;
  /** Keys and to-device messages of other servers' users go through federation. */
  remote: { keys: RemoteKeySource; toDevice: RemoteToDeviceSink };
}

/**
 * Builds the services, brings the notifier up to the stored stream positions,
 * and subscribes to device changes: a deleted device's keys and inbox go, and
 * for new, renamed and deleted devices its owner's watchers are told.
 */
export async function createE2eeServices(deps: E2eeDeps): Promise<E2eeServices> {
  const { db, accounts, notifier, clock } = deps;
  const stores = createE2eeStores(db);
  const deviceStore = accounts.context.stores.devices;
  const deviceLists = new DeviceListService(
    db,
    stores.deviceLists,
    deps.memberships,
    notifier,
    (event) => previousMembership(deps.events, event),
    await stores.deviceLists.currentPosition(),
  );
  const keys = new KeyService(db, stores.keys, deviceLists, deps.serverName, deps.remote.keys);
  const toDevice = new ToDeviceService(db, stores.toDevice, deviceStore, notifier, deps.serverName, clock, deps.log, deps.remote.toDevice, await stores.toDevice.currentPosition());
  const dehydrated = new DehydratedDeviceService(
    db,
    stores.dehydrated,
    deviceStore,
    (userId, deviceIds) => accounts.sessions.deleteDevices(userId, deviceIds),
    keys,
    toDevice,
    clock,
  );
  accounts.events.on('devicesDeleted', async ({ userId, deviceIds }) => {
    const position = await db.transaction(async () => {
      await keys.deleteDevices(userId, deviceIds);
      await toDevice.deleteDevices(userId, deviceIds);
      await dehydrated.forgetDevices(userId, deviceIds);
      return deviceLists.recordLocalChange({ userId, deleted: deviceIds });
    });
    await deviceLists.announce(position, [userId]);
  });
  // A new device, or a device's new name (it travels with its keys as unsigned.device_display_name).
  accounts.events.on('devicesChanged', async ({ userId, deviceId }) => {
    const position = await db.transaction(() => deviceLists.recordLocalChange({ userId, devices: [deviceId] }));
    await deviceLists.announce(position, [userId]);
  });
  return {
    stores,
    keys,
    crossSigning: new CrossSigningService(db, stores.keys, deviceStore, accounts.uia, deviceLists),
    toDevice,
    deviceLists,
    keyBackup: new KeyBackupService(stores.keyBackup),
    dehydrated,
    onEventPersisted: (event) => deviceLists.onMemberEvent(event),
  };
}
