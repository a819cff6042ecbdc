import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RateLimits } from '../../src/config/types.js';
import { MatrixError } from '../../src/core/errors.js';
import { RateLimiter, RateLimiters } from '../../src/http/rate-limit.js';
import type { Requester } from '../../src/http/types.js';

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('RateLimiter', () => {
  test('allows a burst, then refuses with the time until the next action', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ perSecond: 0.5, burstCount: 2 }, clock.now);
    assert.deepEqual(limiter.attempt('a'), { allowed: true });
    assert.deepEqual(limiter.attempt('a'), { allowed: true });
    assert.deepEqual(limiter.attempt('a'), { allowed: false, retryAfterMs: 2000 });
    clock.advance(1500);
    assert.deepEqual(limiter.attempt('a'), { allowed: false, retryAfterMs: 500 });
    clock.advance(500);
    assert.deepEqual(limiter.attempt('a'), { allowed: true });
    // Other keys have their own bucket.
    assert.deepEqual(limiter.attempt('b'), { allowed: true });
  });

  test('peek does not use an action; reset forgets the key', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ perSecond: 1, burstCount: 1 }, clock.now);
    assert.deepEqual(limiter.peek('a'), { allowed: true });
    assert.deepEqual(limiter.attempt('a'), { allowed: true });
    assert.equal(limiter.peek('a').allowed, false);
    limiter.reset('a');
    assert.deepEqual(limiter.attempt('a'), { allowed: true });
  });

  test('enforce throws 429 M_LIMIT_EXCEEDED with retry_after_ms', () => {
    const limiter = new RateLimiter({ perSecond: 0.1, burstCount: 1 }, fakeClock().now);
    limiter.enforce('a');
    assert.throws(
      () => limiter.enforce('a'),
      (err: unknown) => err instanceof MatrixError && err.status === 429 && err.errcode === 'M_LIMIT_EXCEEDED' && err.extra['retry_after_ms'] === 10_000,
    );
  });

  test('a zero rate disables the limit', () => {
    const limiter = new RateLimiter({ perSecond: 0, burstCount: 0 }, fakeClock().now);
    for (let i = 0; i < 100; i++) assert.equal(limiter.attempt('a').allowed, true);
  });

  test('memory stays bounded: refilled buckets are evicted first, then the least recently used', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ perSecond: 1, burstCount: 5 }, clock.now, 100);
    for (let i = 0; i < 100; i++) limiter.attempt(`old${i}`);
    clock.advance(10_000); // all of them are full again
    limiter.attempt('hot');
    limiter.attempt('hot');
    for (let i = 0; i < 1000; i++) limiter.attempt(`new${i}`);
    assert.ok(limiter.trackedKeys <= 100, `tracking ${limiter.trackedKeys} keys`);
  });
});

describe('RateLimiters', () => {
  const limits: RateLimits = {
    message: { perSecond: 1, burstCount: 1 },
    registration: { perSecond: 1, burstCount: 1 },
    login: { address: { perSecond: 1, burstCount: 1 }, account: { perSecond: 1, burstCount: 1 }, failedAttempts: { perSecond: 1, burstCount: 1 } },
    thirdPartyInvite: { perSecond: 1, burstCount: 1 },
    other: {},
  };
  const user = (isAdmin: boolean): Requester => ({ userId: '@u:x', deviceId: 'D', isGuest: false, isAdmin, accessTokenId: 1 });

  test('routes are keyed by user when authenticated, else by address; admins are exempt', () => {
    const rl = new RateLimiters(limits, fakeClock().now);
    rl.enforceRoute('message', user(false), '10.0.0.1');
    // Same user from another address: still limited.
    assert.throws(() => rl.enforceRoute('message', user(false), '10.0.0.2'), MatrixError);
    rl.enforceRoute('registration', undefined, '10.0.0.1');
    assert.throws(() => rl.enforceRoute('registration', undefined, '10.0.0.1'), MatrixError);
    rl.enforceRoute('registration', undefined, '10.0.0.2');
    for (let i = 0; i < 10; i++) rl.enforceRoute('message', user(true), '10.0.0.1');
  });

  test('the login route uses the per-address bucket, leaving account and failed-attempt buckets to the handler', () => {
    const rl = new RateLimiters(limits, fakeClock().now);
    rl.enforceRoute('login', undefined, '10.0.0.1');
    assert.throws(() => rl.enforceRoute('login', undefined, '10.0.0.1'), MatrixError);
    assert.equal(rl.loginAccount.attempt('@u:x').allowed, true);
    assert.equal(rl.loginFailedAttempts.attempt('@u:x').allowed, true);
  });
});
