// Logging in and out, and turning access tokens back into users: devices and
// their access tokens (client-server-api/_index.md, "Login", "Logout",
// "Relationship between access tokens and devices").
import { forbidden } from '../../core/errors.js';
import type { AccountsContext } from './common.js';
import { resolveLocalUser, userDeactivated, userLocked } from './common.js';
import { verifyPassword } from './passwords.js';
import { generateAccessToken, generateDeviceId, hashAccessToken } from './tokens.js';

export interface NewSession {
  userId: string;
  deviceId: string;
  accessToken: string;
}

/** Who an access token belongs to. */
export interface TokenOwner {
  userId: string;
  deviceId: string;
  isGuest: boolean;
  isAdmin: boolean;
  accessTokenId: number;
  /** Locked by a server admin (client-server-api "Account locking"). */
  locked: boolean;
}

/**
 * Brute-force protection supplied by the edge (rc_login.account and
 * rc_login.failed_attempts), keyed by user ID. Each hook throws to refuse.
 */
export interface LoginThrottle {
  beforeAttempt(userId: string): void;
  onFailure(userId: string): void;
  onSuccess(userId: string): void;
}

export interface PasswordLogin {
  /** The `m.id.user` identifier's user: a localpart or a full user ID. */
  user: string;
  password: string;
  deviceId?: string;
  initialDeviceDisplayName?: string;
}

/** Synapse's wording, the same for unknown users and wrong passwords so neither leaks which it was. */
const INVALID_LOGIN = 'Invalid username or password';

/** last_seen_* is written at most this often per token unless the IP changes. */
const LAST_SEEN_INTERVAL_MS = 60_000;
const LAST_SEEN_CACHE_LIMIT = 100_000;

export class SessionService {
  private readonly lastSeen = new Map<number, { ip: string; ts: number }>();

  constructor(private readonly ctx: AccountsContext) {}

  async loginWithPassword(login: PasswordLogin, throttle?: LoginThrottle): Promise<NewSession> {
    const userId = resolveLocalUser(login.user, this.ctx.config.serverName);
    if (userId === undefined) throw forbidden(INVALID_LOGIN);
    throttle?.beforeAttempt(userId);
    const user = await this.ctx.stores.users.get(userId);
    if (!user || !(await verifyPassword(login.password, user.passwordHash))) {
      throttle?.onFailure(userId);
      throw forbidden(INVALID_LOGIN);
    }
    // Only someone who knows the password learns that the account is deactivated.
    if (user.deactivated) throw userDeactivated();
    if (user.locked) throw userLocked();
    throttle?.onSuccess(userId);
    return this.createSession(userId, login.deviceId, login.initialDeviceDisplayName);
  }

  /**
   * Issues an access token for a device, creating the device unless it
   * exists. Reusing a device ID invalidates that device's earlier tokens
   * (spec: "the server will invalidate any access and refresh tokens
   * previously assigned to that device").
   */
  async createSession(userId: string, deviceId?: string, displayName?: string): Promise<NewSession> {
    const accessToken = generateAccessToken();
    const now = this.ctx.now();
    const { devices, accessTokens } = this.ctx.stores;
    return this.ctx.stores.db.transaction(async () => {
      let device = deviceId;
      if (device === undefined) {
        do device = generateDeviceId();
        while (!(await devices.createIfAbsent(userId, device, displayName ?? null, now)));
      } else if (!(await devices.createIfAbsent(userId, device, displayName ?? null, now))) {
        await accessTokens.deleteForDevices(userId, [device]);
      }
      await accessTokens.insert(hashAccessToken(accessToken), userId, device, now);
      return { userId, deviceId: device, accessToken };
    });
  }

  /** POST /logout: the token's device goes with it, as in Synapse. */
  async logout(userId: string, deviceId: string): Promise<void> {
    await this.deleteDevices(userId, [deviceId]);
  }

  /** POST /logout/all: every token and device of the user. */
  async logoutAll(userId: string): Promise<void> {
    const deviceIds = (await this.ctx.stores.devices.list(userId)).map((d) => d.deviceId);
    await this.ctx.stores.db.transaction(async () => {
      await this.ctx.stores.accessTokens.deleteForUser(userId);
      await this.ctx.stores.devices.deleteAll(userId);
    });
    if (deviceIds.length > 0) await this.ctx.events.emit('devicesDeleted', { userId, deviceIds });
  }

  async deleteDevices(userId: string, deviceIds: string[]): Promise<void> {
    await this.ctx.stores.db.transaction(async () => {
      await this.ctx.stores.accessTokens.deleteForDevices(userId, deviceIds);
      await this.ctx.stores.devices.delete(userId, deviceIds);
    });
    await this.ctx.events.emit('devicesDeleted', { userId, deviceIds });
  }

  /**
   * Resolves an access token; undefined when it is unknown (the edge answers
   * 401 M_UNKNOWN_TOKEN). Records the device's last-seen IP and time, at most
   * once a minute per token unless the IP changes.
   */
  async authenticate(accessToken: string, seen?: { ip: string; userAgent?: string }): Promise<TokenOwner | undefined> {
    const owner = await this.ctx.stores.accessTokens.findByHash(hashAccessToken(accessToken));
    if (!owner || owner.deactivated) return undefined;
    if (seen) await this.recordLastSeen(owner.tokenId, owner.userId, owner.deviceId, seen.ip, seen.userAgent ?? null);
    return {
      userId: owner.userId,
      deviceId: owner.deviceId,
      isGuest: owner.isGuest,
      isAdmin: owner.isAdmin,
      accessTokenId: owner.tokenId,
      locked: owner.locked,
    };
  }

  private async recordLastSeen(tokenId: number, userId: string, deviceId: string, ip: string, userAgent: string | null): Promise<void> {
    const now = this.ctx.now();
    const previous = this.lastSeen.get(tokenId);
    if (previous && previous.ip === ip && now - previous.ts < LAST_SEEN_INTERVAL_MS) return;
    if (this.lastSeen.size >= LAST_SEEN_CACHE_LIMIT) this.lastSeen.clear();
    this.lastSeen.set(tokenId, { ip, ts: now });
    await this.ctx.stores.devices.updateLastSeen(userId, deviceId, ip, userAgent, now);
  }
}
