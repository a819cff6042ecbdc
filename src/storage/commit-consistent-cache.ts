// A read-through cache for rows read on every request (access tokens, a
// user's room memberships) that never serves what a committed write changed.
// A writer invalidates inside its transaction; the entries go at once and
// again after the commit, because a reader that loads the row between the
// two (it cannot see the uncommitted write yet) would otherwise cache the
// old value for good. A load that raced an invalidation is not cached.
import type { Database } from './database.js';

export class CommitConsistentCache<V> {
  private readonly entries = new Map<string, V>();
  /** Bumped by every invalidation: a load that started before one does not cache its value. */
  private generation = 0;

  /** `limit` bounds the entries; past it the cache starts over (cheap, and the working set refills). */
  constructor(
    private readonly db: Database,
    private readonly limit: number,
  ) {}

  /** The cached value, or `load()`'s (kept unless undefined: misses are not cached). */
  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && generation === this.generation) this.remember(key, value);
    return value;
  }

  /**
   * The values of `keys`: cached ones, and for the rest one `load(missing)`
   * (which should give every missing key a value, empty ones included, so
   * that they are cached too).
   */
  async getMany(keys: readonly string[], load: (missing: string[]) => Promise<Map<string, V>>): Promise<Map<string, V>> {
    const found = new Map<string, V>();
    const missing: string[] = [];
    for (const key of new Set(keys)) {
      const hit = this.entries.get(key);
      if (hit !== undefined) found.set(key, hit);
      else missing.push(key);
    }
    if (missing.length === 0) return found;
    const generation = this.generation;
    const loaded = await load(missing);
    for (const [key, value] of loaded) {
      found.set(key, value);
      if (generation === this.generation) this.remember(key, value);
    }
    return found;
  }

  /**
   * Drops the entries `stale` picks, now and once the caller's transaction
   * commits. Call it after the write: in a transaction that is any time
   * before the commit; outside one, the write must already be committed.
   */
  invalidate(stale: (key: string, value: V) => boolean): void {
    const drop = () => {
      this.generation += 1;
      for (const [key, value] of this.entries) if (stale(key, value)) this.entries.delete(key);
    };
    drop();
    this.db.afterCommit(drop);
  }

  private remember(key: string, value: V): void {
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, value);
  }
}
