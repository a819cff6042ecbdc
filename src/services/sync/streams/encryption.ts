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
    // Independent reads, started together: on PostgreSQL they run on
    // separate connections instead of one after another.
    const [batch, lists, oneTimeKeyCounts, fallbackKeyTypes] = await Promise.all([
      this.toDevice(ctx, since),
      // An initial sync reports no device list changes: the client queries keys for everyone it needs.
      isInitial(ctx)
        ? { changed: [], left: [] }
        : this.sources.deviceLists.changesSince(userId, sinceOf(ctx, 'device_lists'), ctx.to.device_lists),
      this.sources.keys.oneTimeKeyCounts(userId, deviceId),
      this.sources.keys.unusedFallbackKeyTypes(userId, deviceId),
    ]);
    out.encryption.to_device = { events: batch.events.map((e) => ({ type: e.type, sender: e.sender, content: e.content })) };
    // A cut batch resumes after its last message, not at the stream's head.
    if (batch.nextPosition < ctx.to.to_device) out.nextPositions.to_device = batch.nextPosition;
    // Both lists are optional (sync.yaml, DeviceLists); as Synapse, an empty
    // one is left out, so a client tells "no change" from a list of changes.
    out.encryption.device_lists = {
      ...(lists.changed.length > 0 ? { changed: lists.changed } : {}),
      ...(lists.left.length > 0 ? { left: lists.left } : {}),
    };
    out.encryption.device_one_time_keys_count = oneTimeKeyCounts;
    out.encryption.device_unused_fallback_key_types = fallbackKeyTypes;
  }

  /**
   * A client that syncs from a token has processed everything before it:
   * messages up to its to_device position can go (send_to_device.md). The
   * deletion and the read cover disjoint ranges, so they run together.
   */
  private async toDevice(ctx: SyncContext, since: number) {
    const { userId, deviceId } = ctx;
    const [, batch] = await Promise.all([
      isInitial(ctx) ? undefined : this.sources.toDevice.acknowledge(userId, deviceId, since),
      this.sources.toDevice.messagesFor(userId, deviceId, since, ctx.to.to_device, TO_DEVICE_LIMIT),
    ]);
    return batch;
  }
}
