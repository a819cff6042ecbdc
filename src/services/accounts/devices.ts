// Device management (client-server-api/modules/device_management.md).
import type { JsonObject } from '../../core/types.js';
import { notFound } from '../../core/errors.js';
import type { DeviceRecord } from '../../storage/accounts/index.js';
import type { Actor } from './account.js';
import type { AccountsContext } from './common.js';
import type { SessionService } from './sessions.js';
import type { UserInteractiveAuth } from './uia.js';
import { STAGE_PASSWORD } from './uia.js';

export class DeviceService {
  constructor(
    private readonly ctx: AccountsContext,
    private readonly uia: UserInteractiveAuth,
    private readonly sessions: SessionService,
  ) {}

  list(userId: string): Promise<DeviceRecord[]> {
    return this.ctx.stores.devices.list(userId);
  }

  async get(userId: string, deviceId: string): Promise<DeviceRecord> {
    const device = await this.ctx.stores.devices.get(userId, deviceId);
    if (!device) throw notFound(`No device '${deviceId}' for this user`);
    return device;
  }

  /** Others see device names in /keys/query, so a rename is a device list change, as in Synapse. */
  async setDisplayName(userId: string, deviceId: string, displayName: string | null): Promise<void> {
    const before = await this.get(userId, deviceId);
    if (!(await this.ctx.stores.devices.setDisplayName(userId, deviceId, displayName))) {
      throw notFound(`No device '${deviceId}' for this user`);
    }
    if (before.displayName !== displayName) await this.ctx.events.emit('devicesChanged', { userId, deviceId });
  }

  /**
   * DELETE /devices/{deviceId} and POST /delete_devices, behind m.login.password
   * UIA. Unknown device IDs are skipped, as Synapse does, so a retry after a
   * lost response succeeds.
   */
  async delete(actor: Actor, deviceIds: string[], auth: JsonObject | undefined): Promise<void> {
    const authorised = await this.uia.authenticate({
      // Bound to the exact devices so a session cannot be replayed against others.
      operation: `delete_devices:${actor.userId}:${JSON.stringify([...deviceIds].sort())}`,
      flows: [[STAGE_PASSWORD]],
      auth,
      userId: actor.userId,
    });
    await this.uia.finish(authorised);
    if (deviceIds.length > 0) await this.sessions.deleteDevices(actor.userId, deviceIds);
  }
}
