// Dehydrated devices (MSC3814): a device with no access token whose keys are
// published and whose to-device inbox fills while the user has no client
// online; a new client rehydrates it from the client-encrypted device_data
// and drains its inbox through the events endpoint.
import type { JsonObject, JsonValue } from '../../core/types.js';
import { forbidden, invalidParam, notFound } from '../../core/errors.js';
import type { DeviceStore } from '../../storage/accounts/index.js';
import type { Database } from '../../storage/database.js';
import type { DehydratedDeviceStore } from '../../storage/e2ee/index.js';
import { validateDeviceKeys } from './common.js';
import type { KeyService } from './keys.js';
import type { ToDeviceBatch, ToDeviceService } from './to-device.js';

export interface DehydratedDeviceUpload {
  deviceId: string;
  deviceData: JsonObject;
  displayName: string | undefined;
  deviceKeys: JsonValue;
  oneTimeKeys: JsonValue | undefined;
  fallbackKeys: JsonValue | undefined;
}

/** How the accounts area deletes devices (tokens, device row, then 'devicesDeleted' listeners). */
export type DeleteDevices = (userId: string, deviceIds: string[]) => Promise<void>;

/** Messages handed out per call of the events endpoint. */
const EVENTS_PAGE = 100;

export class DehydratedDeviceService {
  constructor(
    private readonly db: Database,
    private readonly store: DehydratedDeviceStore,
    private readonly devices: Pick<DeviceStore, 'get' | 'createIfAbsent'>,
    private readonly deleteDevices: DeleteDevices,
    private readonly keys: KeyService,
    private readonly toDevice: ToDeviceService,
    private readonly clock: () => number,
  ) {}

  /** # PUT /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device — replaces any previous one. */
  async put(userId: string, upload: DehydratedDeviceUpload): Promise<string> {
    const previous = await this.store.get(userId);
    const isPrevious = previous?.deviceId === upload.deviceId;
    if (!isPrevious && (await this.devices.get(userId, upload.deviceId))) {
      throw invalidParam(`Device ID ${upload.deviceId} is already used by one of your devices; pick a fresh ID for the dehydrated device`);
    }
    // Checked before the previous device goes, so a bad upload loses nothing.
    validateDeviceKeys(upload.deviceKeys, userId, upload.deviceId);
    if (previous) await this.deleteDevices(userId, [previous.deviceId]);
    const created = await this.devices.createIfAbsent(userId, upload.deviceId, upload.displayName ?? null, this.clock());
    try {
      await this.keys.upload(userId, upload.deviceId, {
        deviceKeys: upload.deviceKeys,
        oneTimeKeys: upload.oneTimeKeys,
        fallbackKeys: upload.fallbackKeys,
      });
    } catch (err) {
      if (created) await this.deleteDevices(userId, [upload.deviceId]);
      throw err;
    }
    await this.store.set(this.db, userId, { deviceId: upload.deviceId, deviceData: upload.deviceData });
    return upload.deviceId;
  }

  /** # GET …/dehydrated_device */
  async get(userId: string): Promise<{ device_id: string; device_data: JsonObject }> {
    const device = await this.store.get(userId);
    if (!device) throw notFound('No dehydrated device available');
    return { device_id: device.deviceId, device_data: device.deviceData };
  }

  /** # DELETE …/dehydrated_device */
  async delete(userId: string): Promise<string> {
    const device = await this.store.get(userId);
    if (!device) throw notFound('No dehydrated device available');
    await this.deleteDevices(userId, [device.deviceId]);
    return device.deviceId;
  }

  /**
   * # POST …/dehydrated_device/{deviceId}/events
   * Pages through the dehydrated device's inbox; passing `next_batch` back
   * confirms the previous page, which is then deleted.
   */
  async events(userId: string, deviceId: string, nextBatch: string | undefined): Promise<{ events: ToDeviceBatch['events']; next_batch: string }> {
    const device = await this.store.get(userId);
    if (!device || device.deviceId !== deviceId) throw forbidden(`${deviceId} is not your dehydrated device`);
    let since = 0;
    if (nextBatch !== undefined) {
      if (!/^\d{1,15}$/.test(nextBatch)) throw invalidParam(`'next_batch' '${nextBatch}' was not issued by this server`);
      since = Number(nextBatch);
      await this.toDevice.acknowledge(userId, deviceId, since);
    }
    const batch = await this.toDevice.messagesFor(userId, deviceId, since, this.toDevice.currentPosition(), EVENTS_PAGE);
    return { events: batch.events, next_batch: String(batch.nextPosition) };
  }

  /** Forgets the dehydrated device when it is deleted (inside the caller's transaction). */
  forgetDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    return this.store.deleteIfOneOf(this.db, userId, deviceIds);
  }
}
