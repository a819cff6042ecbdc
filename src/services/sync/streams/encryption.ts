// The end-to-end encryption sections of /sync (sync.yaml: to_device,
// device_lists, device_one_time_keys_count, device_unused_fallback_key_types;
// send_to_device.md, end_to_end_encryption.md).
import type { DeviceListService, KeyService, ToDeviceService } from '../../e2ee/index.js';
import { isInitial, sinceOf, type SyncContext } from '../context.js';
import type { SyncResponseBuilder } from '../response.js';
import type { StreamProvider } from './provider.js';

/** Synapse's batch size: a device with a long inbox catches up over several syncs. */
const TO_DEVICE_LIMIT = 100;

export interface EncryptionSources {
  toDevice: Pick<ToDeviceService, 'messagesFor' | 'acknowledge'>;
  deviceLists: Pick<DeviceListService, 'changesSince'>;
  keys: Pick<KeyService, 'oneTimeKeyCounts' | 'unusedFallbackKeyTypes'>;
}

export class EncryptionStreamProvider implements StreamProvider {
  constructor(private readonly sources: EncryptionSources) {}

  async apply(ctx: SyncContext, out: SyncResponseBuilder): Promise<void> {
    const { userId, deviceId } = ctx;
    const since = sinceOf(ctx, 'to_device');
    // A client that syncs from a token has processed everything before it:
    // messages up to its to_device position can go (send_to_device.md).
    if (!isInitial(ctx)) await this.sources.toDevice.acknowledge(userId, deviceId, since);
    const batch = await this.sources.toDevice.messagesFor(userId, deviceId, since, ctx.to.to_device, TO_DEVICE_LIMIT);
    out.encryption.to_device = { events: batch.events.map((e) => ({ type: e.type, sender: e.sender, content: e.content })) };
    // A cut batch resumes after its last message, not at the stream's head.
    if (batch.nextPosition < ctx.to.to_device) out.nextPositions.to_device = batch.nextPosition;

    // An initial sync reports no device list changes: the client queries keys for everyone it needs.
    const lists = isInitial(ctx)
      ? { changed: [], left: [] }
      : await this.sources.deviceLists.changesSince(userId, sinceOf(ctx, 'device_lists'), ctx.to.device_lists);
    out.encryption.device_lists = { changed: lists.changed, left: lists.left };
    out.encryption.device_one_time_keys_count = await this.sources.keys.oneTimeKeyCounts(userId, deviceId);
    out.encryption.device_unused_fallback_key_types = await this.sources.keys.unusedFallbackKeyTypes(userId, deviceId);
  }
}
