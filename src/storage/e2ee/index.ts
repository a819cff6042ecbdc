// The e2ee storage area: keys, device-list and to-device streams, key backups,
// dehydrated devices, over one database.
import type { Database } from '../database.js';
import { DehydratedDeviceStore } from './dehydrated.js';
import { DeviceListStore } from './device-lists.js';
import { KeyBackupStore } from './key-backup.js';
import { KeyStore } from './keys.js';
import { ToDeviceStore } from './to-device.js';

export * from './dehydrated.js';
export * from './device-lists.js';
export * from './key-backup.js';
export * from './keys.js';
export * from './remote-devices.js';
export * from './to-device.js';

export interface E2eeStores {
  db: Database;
  keys: KeyStore;
  deviceLists: DeviceListStore;
  toDevice: ToDeviceStore;
  keyBackup: KeyBackupStore;
  dehydrated: DehydratedDeviceStore;
}

export function createE2eeStores(db: Database): E2eeStores {
  return {
    db,
    keys: new KeyStore(db),
    deviceLists: new DeviceListStore(db),
    toDevice: new ToDeviceStore(db),
    keyBackup: new KeyBackupStore(db),
    dehydrated: new DehydratedDeviceStore(db),
  };
}
