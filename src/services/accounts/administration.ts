// Server administration (client-server-api/_index.md, "Server
// administration"; admin.yaml): whois, and the account moderation flags —
// locking ("Account locking") and suspension ("Account suspension"). The
// lock itself is enforced at the edge, which refuses a locked account's
// tokens; suspension is enforced where the refused actions happen (event
// sending, profile changes), through `requireNotSuspended`.
import { parseUserId } from '../../core/identifiers.js';
import type { JsonObject } from '../../core/types.js';
import { forbidden, invalidParam, MatrixError, notFound } from '../../core/errors.js';
import type { UserRecord } from '../../storage/accounts/index.js';
import type { AccountsContext } from './common.js';

/** Who asks: an admin, or (for whois) the user themselves. */
export interface AdminActor {
  userId: string;
  isAdmin: boolean;
}

export type ModerationFlag = 'locked' | 'suspended';

/** The spec's error for an action a suspended account may not take. */
export function userSuspended(message: string): MatrixError {
  return new MatrixError(403, 'M_USER_SUSPENDED', message);
}

export class AccountAdministration {
  /** Suspended users, read once and kept current by `setFlag`: every event sent consults it. */
  private suspended: Promise<Set<string>> | undefined;

  constructor(private readonly ctx: AccountsContext) {}

  /**
   * GET /admin/whois/{userId}: the user's devices, each with one session whose
   * connection is the device's last-seen IP, user agent and time (we keep
   * the latest per device, as its last_seen_* fields). The user themselves
   * or a server admin may ask, as Synapse allows.
   */
  async whois(actor: AdminActor, userId: string): Promise<JsonObject> {
    if (actor.userId !== userId && !actor.isAdmin) throw forbidden('Only server admins may look up other users');
    await this.requireLocalUser(userId);
    const devices: JsonObject = {};
    for (const device of await this.ctx.stores.devices.list(userId)) {
      const connections =
        device.lastSeenTs === null ? [] : [{ ip: device.lastSeenIp ?? '', last_seen: device.lastSeenTs, user_agent: device.lastSeenUserAgent ?? '' }];
      devices[device.deviceId] = { sessions: [{ connections }] };
    }
    return { user_id: userId, devices };
  }

  /** GET /admin/lock/{userId} and /admin/suspend/{userId}. */
  async getFlag(actor: AdminActor, userId: string, flag: ModerationFlag): Promise<boolean> {
    const user = await this.moderatedUser(actor, userId);
    return user[flag];
  }

  /** PUT /admin/lock/{userId} and /admin/suspend/{userId}. Admins cannot lock or suspend themselves. */
  async setFlag(actor: AdminActor, userId: string, flag: ModerationFlag, value: boolean): Promise<boolean> {
    requireAdmin(actor);
    if (actor.userId === userId) throw forbidden(`You cannot change whether your own account is ${flag}`);
    await this.moderatedUser(actor, userId);
    const { users } = this.ctx.stores;
    if (flag === 'locked') {
      await users.setLocked(userId, value);
    } else {
      const suspended = await this.suspendedUsers();
      await users.setSuspended(userId, value);
      if (value) suspended.add(userId);
      else suspended.delete(userId);
    }
    return value;
  }

  async isSuspended(userId: string): Promise<boolean> {
    return (await this.suspendedUsers()).has(userId);
  }

  /** Throws 403 M_USER_SUSPENDED when `userId` is suspended; `message` says what they may not do. */
  async requireNotSuspended(userId: string, message: string): Promise<void> {
    if (await this.isSuspended(userId)) throw userSuspended(message);
  }

  private suspendedUsers(): Promise<Set<string>> {
    this.suspended ??= this.ctx.stores.users.listSuspended().then((ids) => new Set(ids));
    return this.suspended;
  }

  /**
   * The target of a lock or suspension, checked in the spec's order: the
   * requester's authority before any lookup (so non-admins cannot enumerate
   * users), then a local, existing, active user who is not another admin.
   */
  private async moderatedUser(actor: AdminActor, userId: string): Promise<UserRecord> {
    requireAdmin(actor);
    const user = await this.requireLocalUser(userId);
    if (user.isAdmin && user.userId !== actor.userId) throw forbidden(`${userId} is a server administrator; administrators cannot be locked or suspended`);
    return user;
  }

  private async requireLocalUser(userId: string): Promise<UserRecord> {
    const parsed = parseUserId(userId);
    if (!parsed) throw invalidParam(`'${userId}' is not a valid user ID`);
    if (parsed.serverName !== this.ctx.config.serverName) throw invalidParam(`${userId} does not belong to this server`);
    const user = await this.ctx.stores.users.get(userId);
    if (!user || user.deactivated) throw notFound(`User ${userId} not found`);
    return user;
  }
}

function requireAdmin(actor: AdminActor): void {
  if (!actor.isAdmin) throw forbidden('You are not a server administrator');
}
