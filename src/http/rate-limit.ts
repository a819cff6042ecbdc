// Token-bucket rate limiting with Synapse's rc_* semantics: a key may act
// `burstCount` times at once, then regains one action every 1/perSecond
// seconds. Exceeding it is 429 M_LIMIT_EXCEEDED with `retry_after_ms`
// (client-server-api/_index.md, "Rate limiting").
import type { RateLimit, RateLimits } from '../config/types.js';
import { MatrixError } from '../core/errors.js';
import type { RateLimitName, Requester } from './types.js';

export type Clock = () => number;

export type RateLimitResult = { allowed: true } | { allowed: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Above this many tracked keys, buckets that have refilled completely are
 * dropped (a full bucket is the same as no bucket). If that is not enough the
 * oldest-touched buckets go too, which at worst forgives those keys early:
 * memory stays bounded even under a flood of distinct addresses.
 */
const DEFAULT_MAX_KEYS = 50_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limit: RateLimit,
    private readonly clock: Clock = Date.now,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  /** A limit with a non-positive rate or burst is off, as Synapse treats a 0/0 override. */
  private get disabled(): boolean {
    return this.limit.perSecond <= 0 || this.limit.burstCount <= 0;
  }

  /** Whether `key` may act now, without using up an action. */
  peek(key: string): RateLimitResult {
    if (this.disabled) return { allowed: true };
    return this.resultFor(this.refill(this.buckets.get(key)));
  }

  /** Uses one action of `key` if it has one left. */
  attempt(key: string): RateLimitResult {
    if (this.disabled) return { allowed: true };
    const bucket = this.refill(this.buckets.get(key));
    const result = this.resultFor(bucket);
    if (result.allowed) {
      bucket.tokens -= 1;
      // Re-inserting keeps Map order = least recently used first, for eviction.
      this.buckets.delete(key);
      this.buckets.set(key, bucket);
      this.evictIfNeeded();
    }
    return result;
  }

  /** Like `attempt`, but throws 429 M_LIMIT_EXCEEDED when the key has no action left. */
  enforce(key: string): void {
    const result = this.attempt(key);
    if (!result.allowed) throw limitExceeded(result.retryAfterMs);
  }

  /** Forgets `key`, e.g. clearing failed login attempts after a success. */
  reset(key: string): void {
    this.buckets.delete(key);
  }

  get trackedKeys(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket | undefined): Bucket {
    const now = this.clock();
    if (!bucket) return { tokens: this.limit.burstCount, updatedMs: now };
    const elapsedS = Math.max(0, now - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(this.limit.burstCount, bucket.tokens + elapsedS * this.limit.perSecond);
    bucket.updatedMs = now;
    return bucket;
  }

  private resultFor(bucket: Bucket): RateLimitResult {
    if (bucket.tokens >= 1) return { allowed: true };
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.limit.perSecond) * 1000) };
  }

  private evictIfNeeded(): void {
    if (this.buckets.size <= this.maxKeys) return;
    for (const [key, bucket] of this.buckets) {
      if (this.refill(bucket).tokens >= this.limit.burstCount) this.buckets.delete(key);
    }
    // Trim below the cap so a flood does not pay for a full sweep on every request.
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= target) break;
      this.buckets.delete(key);
    }
  }
}

export function limitExceeded(retryAfterMs: number): MatrixError {
  return new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: retryAfterMs });
}

/**
 * Synapse's fixed limit for POST /login/get_token, one a minute (the spec
 * encourages "stricter than normal rate limiting ... such as maximum of 1
 * request per minute"); no config key sets it.
 */
const LOGIN_TOKEN_REQUEST_LIMIT: RateLimit = { perSecond: 1 / 60, burstCount: 1 };

/**
 * The limiters configured by homeserver.yaml's rc_message, rc_registration and
 * rc_login. The edge applies a route's `rateLimit` (login → per address); the
 * login handler uses `loginAccount` and `loginFailedAttempts` itself, keyed by
 * the lower-cased user ID, because only it knows which account is meant.
 */
export class RateLimiters {
  readonly message: RateLimiter;
  readonly registration: RateLimiter;
  readonly loginAddress: RateLimiter;
  readonly loginAccount: RateLimiter;
  readonly loginFailedAttempts: RateLimiter;
  /** POST /login/get_token per user: each token signs in another device. */
  readonly loginTokenRequest: RateLimiter;
  /** 3PID invites per inviter (rc_third_party_invite); the invite service applies it. */
  readonly thirdPartyInvite: RateLimiter;

  constructor(limits: RateLimits, clock: Clock = Date.now) {
    this.message = new RateLimiter(limits.message, clock);
    this.registration = new RateLimiter(limits.registration, clock);
    this.loginAddress = new RateLimiter(limits.login.address, clock);
    this.loginAccount = new RateLimiter(limits.login.account, clock);
    this.loginFailedAttempts = new RateLimiter(limits.login.failedAttempts, clock);
    this.loginTokenRequest = new RateLimiter(LOGIN_TOKEN_REQUEST_LIMIT, clock);
    this.thirdPartyInvite = new RateLimiter(limits.thirdPartyInvite, clock);
  }

  /**
   * Applies a route's limit: per user when authenticated, else per client IP.
   * Server admins are exempt, as in Synapse (its Ratelimiter skips requesters
   * for whom `is_server_admin` holds on message sending).
   */
  enforceRoute(name: RateLimitName, requester: Requester | undefined, remoteAddress: string): void {
    if (requester?.isAdmin) return;
    const key = requester?.userId ?? remoteAddress;
    this.forRoute(name).enforce(key);
  }

  private forRoute(name: RateLimitName): RateLimiter {
    switch (name) {
      case 'message':
        return this.message;
      case 'registration':
        return this.registration;
      case 'login':
        return this.loginAddress;
    }
  }
}
