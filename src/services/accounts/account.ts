// Account management (client-server-api/_index.md, "Account management"):
// password changes and deactivation, each behind m.login.password UIA.
import type { JsonObject } from '../../core/types.js';
import { missingParam } from '../../core/errors.js';
import type { AccountsContext } from './common.js';
import { hashPassword } from './passwords.js';
import type { ThreepidService, UnbindResult } from './threepids.js';
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
    private readonly threepids: ThreepidService,
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
    await this.setPassword(actor.userId, newPassword, logoutDevices ? { keepDeviceId: actor.deviceId } : undefined, () => this.uia.finish(authorised));
  }

  /**
   * Replaces the user's password; with `logout`, every device but
   * `logout.keepDeviceId` (if any) is removed with its tokens. `alsoInTransaction`
   * commits with the change (the UIA session it spends). An admin's reset
   * (Synapse's reset_password) comes here without UIA.
   */
  async setPassword(userId: string, newPassword: string, logout: { keepDeviceId?: string } | undefined, alsoInTransaction?: () => Promise<void>): Promise<void> {
    const passwordHash = await hashPassword(newPassword);
    const { users, accessTokens, devices } = this.ctx.stores;
    const removed = logout ? (await devices.list(userId)).map((d) => d.deviceId).filter((id) => id !== logout.keepDeviceId) : [];
    await this.ctx.stores.db.transaction(async () => {
      await users.setPasswordHash(userId, passwordHash);
      if (logout) {
        await accessTokens.deleteForUser(userId, logout.keepDeviceId);
        await devices.deleteAll(userId, logout.keepDeviceId);
      }
      await alsoInTransaction?.();
    });
    if (removed.length > 0) await this.ctx.events.emit('devicesDeleted', { userId, deviceIds: removed });
  }

  /**
   * POST /account/deactivate: the account can no longer log in, loses every
   * device and token, and its profile is cleared. The password hash is kept
   * so that a login with the right password is told M_USER_DEACTIVATED rather
   * than a misleading "invalid password". With `erase`, the user is marked
   * erased: from then on their events reach only those who were in the room
   * when they were sent, and others see them redacted (rooms/visibility.ts).
   * The identifiers it bound on identity servers are unbound there
   * (`idServer`: only on that one); the result says whether all were.
   */
  async deactivate(actor: Actor, auth: JsonObject | undefined, erase = false, idServer?: string): Promise<UnbindResult> {
    const authorised = await this.uia.authenticate({
      operation: `deactivate:${actor.userId}`,
      flows: PASSWORD_FLOWS,
      auth,
      userId: actor.userId,
    });
    return this.deactivateUser(actor.userId, erase, () => this.uia.finish(authorised), idServer);
  }

  /**
   * Deactivates `userId` (see `deactivate`) without asking for
   * authentication: for an admin's request (Synapse's POST
   * /_synapse/admin/v1/deactivate) or after UIA, whose session
   * `alsoInTransaction` spends in the same commit.
   */
  async deactivateUser(userId: string, erase: boolean, alsoInTransaction?: () => Promise<void>, idServer?: string): Promise<UnbindResult> {
    const { users, accessTokens, devices, profiles } = this.ctx.stores;
    // As Synapse's deactivate_account: unbound first, while the user still exists for the identity server's checks.
    const unbound = await this.threepids.unbindAll(userId, idServer);
    const deviceIds = (await devices.list(userId)).map((d) => d.deviceId);
    await this.ctx.stores.db.transaction(async () => {
      await users.setDeactivated(userId, true);
      await accessTokens.deleteForUser(userId);
      await devices.deleteAll(userId);
      await profiles.setDisplayname(userId, null);
      await profiles.setAvatarUrl(userId, null);
      await profiles.deleteAllFields(userId);
      if (erase) await users.setErased(userId);
      await alsoInTransaction?.();
    });
    if (deviceIds.length > 0) await this.ctx.events.emit('devicesDeleted', { userId, deviceIds });
    await this.ctx.events.emit('profileChanged', { userId, displayname: null, avatarUrl: null });
    await this.ctx.events.emit('userDeactivated', { userId });
    return unbound;
  }
}
