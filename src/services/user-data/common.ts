// What the user-data services need from elsewhere, narrowed to interfaces so
// tests can pass fakes.
import type { MembershipStore } from '../../storage/rooms/memberships.js';

export type MembershipLookup = Pick<MembershipStore, 'getMembership' | 'roomsForUser'>;

/** Timer functions; tests pass a fake to expire typing without waiting. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    // An expiring typing notification must not keep the process alive.
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
