// Account management (client-server-api/_index.md, "Account management"):
// password changes and deactivation, each behind m.login.password UIA.
import type { JsonObject } from '../../core/types.js';
import { missingParam } from '../../core/errors.js';
import type { AccountsContext } from './common.js';
import { hashPassword } from './passwords.js';
import type { UserInteractiveAuth } from './uia.js';
import { STAGE_PASSWORD } from './uia.js';

/** The acting user and the device of the access token they used. */
export interface Actor {
  userId: string;
  deviceId: string;
}

const PASSWORD_FLOWS = [[STAGE_PASSWORD]];

export class AccountService {
  constructor(
    private readonly ctx: AccountsContext,
    private readonly uia: UserInteractiveAuth,
  ) {}

  /**
   * POST /account/password. With `logoutDevices` (the spec's default) every
   * other device and its tokens are removed; the calling device stays signed in.
   */
  async changePassword(actor: Actor, newPassword: string | undefined, logoutDevices: boolean, auth: JsonObject | undefined): Promise<void> {
    const authorised = await this.uia.authenticate({
      operation: `password:${actor.userId}`,
      flows: PASSWORD_FLOWS,
      auth,
      userId: actor.userId,
    });
    // Checked after UIA: a client may start the flow before it has asked for the new password.
    if (newPassword === undefined) throw missingParam("Missing required field 'new_password'");
    const passwordHash = await hashPassword(newPassword);
    const { users, accessTokens, devices } = this.ctx.stores;
    const removed = logoutDevices
      ? (await devices.list(actor.userId)).map((d) => d.deviceId).filter((id) => id !== actor.deviceId)
      : [];
    await this.ctx.stores.db.transaction(async () => {
      await users.setPasswordHash(actor.userId, passwordHash);
      if (logoutDevices) {
        await accessTokens.deleteForUser(actor.userId, actor.deviceId);
        await devices.deleteAll(actor.userId, actor.deviceId);
      }
      await this.uia.finish(authorised);
    });
    if (removed.length > 0) await this.ctx.events.emit('devicesDeleted', { userId: actor.userId, deviceIds: removed });
  }

  /**
   * POST /account/deactivate: the account can no longer log in, loses every
   * device and token, and its profile is cleared. The password hash is kept
   * so that a login with the right password is told M_USER_DEACTIVATED rather
   * than a misleading "invalid password". With `erase`, the user is marked
   * erased: from then on their events reach only those who were in the room
   * when they were sent, and others see them redacted (rooms/visibility.ts).
   */
  async deactivate(actor: Actor, auth: JsonObject | undefined, erase = false): Promise<void> {
    const authorised = await this.uia.authenticate({
      operation: `deactivate:${actor.userId}`,
      flows: PASSWORD_FLOWS,
      auth,
      userId: actor.userId,
    });
    const { users, accessTokens, devices, profiles } = this.ctx.stores;
    const deviceIds = (await devices.list(actor.userId)).map((d) => d.deviceId);
    await this.ctx.stores.db.transaction(async () => {
      await users.setDeactivated(actor.userId, true);
      await accessTokens.deleteForUser(actor.userId);
      await devices.deleteAll(actor.userId);
      await profiles.setDisplayname(actor.userId, null);
      await profiles.setAvatarUrl(actor.userId, null);
      await profiles.deleteAllFields(actor.userId);
      if (erase) await users.setErased(actor.userId);
      await this.uia.finish(authorised);
    });
    if (deviceIds.length > 0) await this.ctx.events.emit('devicesDeleted', { userId: actor.userId, deviceIds });
    await this.ctx.events.emit('profileChanged', { userId: actor.userId, displayname: null, avatarUrl: null });
    await this.ctx.events.emit('userDeactivated', { userId: actor.userId });
  }
}
