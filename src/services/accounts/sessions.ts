// Logging in and out, and turning access tokens back into users: devices and
// their access tokens (client-server-api/_index.md, "Login", "Logout",
// "Relationship between access tokens and devices").
import { TOKEN_LIFETIME_DEFAULTS } from '../../config/load.js';
import type { TokenLifetimes } from '../../config/types.js';
import { forbidden, MatrixError } from '../../core/errors.js';
import type { AccountsContext } from './common.js';
import { resolveLocalUser, userDeactivated, userLocked } from './common.js';
import { verifyPassword } from './passwords.js';
import { generateAccessToken, generateDeviceId, generateRefreshToken, hashAccessToken } from './tokens.js';

export interface NewSession {
  userId: string;
  deviceId: string;
  accessToken: string;
  /** Given when the client asked for one and refresh tokens are enabled. */
  refreshToken?: string;
  /** The access token's lifetime, when it expires. */
  expiresInMs?: number;
}

export interface SessionOptions {
  /** Reuse (and sign out everywhere else) this device, or create it. */
  deviceId?: string;
  /** A new device's name. */
  displayName?: string;
  /** The client supports refresh tokens (`refresh_token: true` at login or registration). */
  refreshable?: boolean;
}

/** A refreshed session (POST /refresh). */
export interface RefreshedSession {
  accessToken: string;
  refreshToken: string;
  expiresInMs?: number;
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

export interface PasswordLogin extends SessionOptions {
  /** The `m.id.user` identifier's user: a localpart or a full user ID. */
  user: string;
  password: string;
}

/** A refresh token is unknown once superseded, logged out or its device deleted: that session is over. */
function unknownRefreshToken(): MatrixError {
  return new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown refresh token: it was replaced, or the session was logged out', { soft_logout: false });
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
    return this.createSession(userId, login);
  }

  /**
   * Issues an access token for a device, creating the device unless it
   * exists. Reusing a device ID invalidates that device's earlier tokens
   * (spec: "the server will invalidate any access and refresh tokens
   * previously assigned to that device"). Lifetimes are Synapse's: with a
   * refresh token, refreshable_access_token_lifetime; without one,
   * nonrefreshable_access_token_lifetime (by default none).
   */
  async createSession(userId: string, options: SessionOptions = {}): Promise<NewSession> {
    const now = this.ctx.now();
    const lifetimes = this.lifetimes();
    const refreshable = options.refreshable === true && lifetimes.refreshableAccessToken !== null;
    const { devices, accessTokens } = this.ctx.stores;
    let created = true;
    const session = await this.ctx.stores.db.transaction(async () => {
      let device = options.deviceId;
      const displayName = options.displayName ?? null;
      if (device === undefined) {
        do device = generateDeviceId();
        while (!(await devices.createIfAbsent(userId, device, displayName, now)));
      } else if (!(await devices.createIfAbsent(userId, device, displayName, now))) {
        created = false;
        await accessTokens.deleteForDevices(userId, [device]);
      }
      if (!refreshable) return { userId, ...(await this.issueAccessToken(userId, device, lifetimes.nonrefreshableAccessToken, null)) };
      const { refreshTokenId: _id, ...issued } = await this.issueRefreshableTokens(userId, device);
      return { userId, ...issued };
    });
    if (created) await this.ctx.events.emit('devicesChanged', { userId, deviceId: session.deviceId });
    return session;
  }

  /**
   * POST /refresh: spends a refresh token for a new access token and refresh
   * token on the same device. The spent one stays valid until the new ones
   * are used, so a client that lost the answer can refresh again.
   */
  async refresh(refreshToken: string): Promise<RefreshedSession> {
    const { accessTokens, users } = this.ctx.stores;
    const spent = await accessTokens.findRefreshToken(hashAccessToken(refreshToken));
    if (!spent || (await users.get(spent.userId))?.deactivated !== false) throw unknownRefreshToken();
    // The device lives on, so the client may log in again as it and keep its keys.
    if (spent.expiryTs !== null && spent.expiryTs <= this.ctx.now()) {
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'The refresh token has expired; log in again', { soft_logout: true });
    }
    return this.ctx.stores.db.transaction(async () => {
      const { refreshTokenId, deviceId: _deviceId, ...issued } = await this.issueRefreshableTokens(spent.userId, spent.deviceId);
      if (!(await accessTokens.replaceRefreshToken(spent, refreshTokenId))) throw unknownRefreshToken();
      return issued;
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
   * 401 M_UNKNOWN_TOKEN). An expired token is 401 M_UNKNOWN_TOKEN with
   * soft_logout: the client refreshes it, or logs in again as the same
   * device. Records the device's last-seen IP and time, at most once a
   * minute per token unless the IP changes.
   */
  async authenticate(accessToken: string, seen?: { ip: string; userAgent?: string }): Promise<TokenOwner | undefined> {
    const { accessTokens } = this.ctx.stores;
    const owner = await accessTokens.findByHash(hashAccessToken(accessToken));
    if (!owner || owner.deactivated) return undefined;
    if (owner.validUntilMs !== null && owner.validUntilMs <= this.ctx.now()) {
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token has expired', { soft_logout: true });
    }
    if (!owner.used && owner.refreshTokenId !== null) await accessTokens.markUsed(owner);
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

  private lifetimes(): TokenLifetimes {
    return this.ctx.config.tokenLifetimes ?? TOKEN_LIFETIME_DEFAULTS;
  }

  /** An access token for the device, expiring after `lifetimeMs` (null: never). */
  private async issueAccessToken(
    userId: string,
    deviceId: string,
    lifetimeMs: number | null,
    refreshTokenId: number | null,
  ): Promise<{ deviceId: string; accessToken: string; expiresInMs?: number }> {
    const accessToken = generateAccessToken();
    const now = this.ctx.now();
    const validUntilMs = lifetimeMs === null ? null : now + lifetimeMs;
    await this.ctx.stores.accessTokens.insert(hashAccessToken(accessToken), userId, deviceId, now, { validUntilMs, refreshTokenId });
    return { deviceId, accessToken, ...(lifetimeMs !== null ? { expiresInMs: lifetimeMs } : {}) };
  }

  /** A refresh token and the access token issued with it (call inside a transaction). */
  private async issueRefreshableTokens(
    userId: string,
    deviceId: string,
  ): Promise<{ deviceId: string; accessToken: string; expiresInMs?: number; refreshToken: string; refreshTokenId: number }> {
    const { refreshableAccessToken, refreshToken: refreshLifetime } = this.lifetimes();
    const refreshToken = generateRefreshToken();
    const now = this.ctx.now();
    const expiryTs = refreshLifetime === null ? null : now + refreshLifetime;
    const refreshTokenId = await this.ctx.stores.accessTokens.insertRefreshToken(hashAccessToken(refreshToken), userId, deviceId, expiryTs, now);
    return { ...(await this.issueAccessToken(userId, deviceId, refreshableAccessToken, refreshTokenId)), refreshToken, refreshTokenId };
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
