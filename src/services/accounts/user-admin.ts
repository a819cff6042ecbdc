// Synapse's user admin API (Synapse docs, admin_api/user_admin_api.md), in
// its shapes so existing tools (synapse-admin, scripts) work: list, query,
// create or modify, deactivate, reset password, devices. Only server admins
// reach this; the edge checks that before any lookup.
import { parseUserId } from '../../core/identifiers.js';
import { invalidParam, notFound } from '../../core/errors.js';
import type { DeviceRecord, UserListEntry, UserListQuery, UserRecord } from '../../storage/accounts/index.js';
import type { AccountService } from './account.js';
import type { AccountAdministration } from './administration.js';
import type { AccountsContext } from './common.js';
import { invalidUsername, normaliseRequestedLocalpart } from './common.js';
import type { ProfileService } from './profiles.js';
import type { RegistrationService } from './registration.js';
import { hashPassword } from './passwords.js';
import type { UnbindResult } from './threepids.js';

/** A user as the admin API shows it: the account's flags with its profile and last activity. */
export type AdminUserView = UserListEntry;

export interface UserPage {
  users: AdminUserView[];
  total: number;
  /** The `from` of the next page; absent on the last page. */
  nextFrom?: number;
}

/** The fields of PUT /_synapse/admin/v2/users/{userId}; absent fields are left alone. */
export interface UserChanges {
  password?: string;
  /** With a new password, sign the user out everywhere (Synapse's default: true). */
  logoutDevices: boolean;
  displayname?: string | null;
  avatarUrl?: string | null;
  admin?: boolean;
  deactivated?: boolean;
  locked?: boolean;
}

export interface UserAdministrationDeps {
  ctx: AccountsContext;
  account: AccountService;
  registration: RegistrationService;
  profiles: ProfileService;
  administration: AccountAdministration;
}

export class UserAdministration {
  constructor(private readonly deps: UserAdministrationDeps) {}

  /** GET /_synapse/admin/v2/users: one page of users, `total` counting every match. */
  async list(query: UserListQuery): Promise<UserPage> {
    const { users, total } = await this.deps.ctx.stores.users.listForAdmin(query);
    const nextFrom = query.from + users.length;
    return nextFrom < total && users.length > 0 ? { users, total, nextFrom } : { users, total };
  }

  /** GET /_synapse/admin/v2/users/{userId}. */
  async get(userId: string): Promise<AdminUserView> {
    this.requireLocal(userId);
    return this.view(userId);
  }

  /**
   * PUT /_synapse/admin/v2/users/{userId}: creates the account when it does
   * not exist (`created`), else applies the changes. As Synapse: admins may
   * not demote themselves, and reactivating an account needs a password.
   */
  async upsert(actorUserId: string, userId: string, changes: UserChanges): Promise<{ created: boolean; user: AdminUserView }> {
    const localpart = this.requireLocal(userId);
    const existing = await this.deps.ctx.stores.users.get(userId);
    if (!existing) {
      await this.create(localpart, changes);
      return { created: true, user: await this.view(userId) };
    }
    await this.modify(actorUserId, existing, changes);
    return { created: false, user: await this.view(userId) };
  }

  /** POST /_synapse/admin/v1/deactivate/{userId}. */
  async deactivate(userId: string, erase: boolean): Promise<UnbindResult> {
    await this.requireExisting(userId);
    return this.deps.account.deactivateUser(userId, erase);
  }

  /** POST /_synapse/admin/v1/reset_password/{userId}. */
  async resetPassword(userId: string, newPassword: string, logoutDevices: boolean): Promise<void> {
    await this.requireExisting(userId);
    await this.deps.account.setPassword(userId, newPassword, logoutDevices ? {} : undefined);
  }

  /** GET /_synapse/admin/v2/users/{userId}/devices. */
  async devices(userId: string): Promise<DeviceRecord[]> {
    await this.requireExisting(userId);
    return this.deps.ctx.stores.devices.list(userId);
  }

  private async create(localpart: string, changes: UserChanges): Promise<void> {
    const serverName = this.deps.ctx.config.serverName;
    // The URL names the account exactly: no case folding here, unlike a registration's requested username.
    if (normaliseRequestedLocalpart(localpart, serverName) !== localpart) throw invalidUsername('User IDs made here are lower case');
    const userId = await this.deps.registration.createAccount({
      localpart,
      passwordHash: changes.password === undefined ? null : await hashPassword(changes.password),
      isAdmin: changes.admin ?? false,
    });
    await this.applyProfile(userId, changes);
    if (changes.locked) await this.deps.ctx.stores.users.setLocked(userId, true);
    if (changes.deactivated) await this.deps.account.deactivateUser(userId, false);
  }

  private async modify(actorUserId: string, user: UserRecord, changes: UserChanges): Promise<void> {
    const { userId } = user;
    const { users } = this.deps.ctx.stores;
    if (changes.admin === false && userId === actorUserId) throw invalidParam('You may not demote yourself.');
    if (changes.deactivated === false && user.deactivated && changes.password === undefined) {
      throw invalidParam('Must provide a password to re-activate an account.');
    }
    if (changes.deactivated === true && !user.deactivated) await this.deps.account.deactivateUser(userId, false);
    if (changes.deactivated === false && user.deactivated) await users.setDeactivated(userId, false);
    if (changes.password !== undefined) await this.deps.account.setPassword(userId, changes.password, changes.logoutDevices ? {} : undefined);
    if (changes.admin !== undefined) await users.setAdmin(userId, changes.admin);
    if (changes.locked !== undefined) await users.setLocked(userId, changes.locked);
    await this.applyProfile(userId, changes);
  }

  /** Profile changes go through the profile service, so room member events follow them as for the user's own change. */
  private async applyProfile(userId: string, changes: UserChanges): Promise<void> {
    if (changes.displayname !== undefined) await this.deps.profiles.setDisplayname(userId, userId, changes.displayname);
    if (changes.avatarUrl !== undefined) await this.deps.profiles.setAvatarUrl(userId, userId, changes.avatarUrl);
  }

  private async view(userId: string): Promise<AdminUserView> {
    const user = await this.deps.ctx.stores.users.getForAdmin(userId);
    if (!user) throw notFound('User not found');
    return user;
  }

  private async requireExisting(userId: string): Promise<UserRecord> {
    this.requireLocal(userId);
    const user = await this.deps.ctx.stores.users.get(userId);
    if (!user) throw notFound('User not found');
    return user;
  }

  /** The localpart of a user of this server; 400 for anything else, as Synapse answers. */
  private requireLocal(userId: string): string {
    const parsed = parseUserId(userId);
    if (!parsed) throw invalidParam(`'${userId}' is not a valid user ID`);
    if (parsed.serverName !== this.deps.ctx.config.serverName) throw invalidParam('This endpoint can only be used with local users');
    return parsed.localpart;
  }
}
