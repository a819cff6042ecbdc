// Room state snapshots, stored the way Conduit's state_compressor does rather
// than as Synapse's ever-growing state groups:
//  - every (type, state_key) and every event ID used in state is interned as a
//    small integer (state_keys, state_event_nids);
//  - a snapshot is named by the hash of its sorted (key, event) pairs, so equal
//    states are stored once however often they recur;
//  - a snapshot is either a full base (layer 0) or a diff against a parent,
//    with at most MAX_DIFF_LAYERS diffs above a base. Deeper layers may only
//    hold smaller diffs, so loading a snapshot reads at most about 1.7 times
//    its size, while a room whose state grows one key at a time costs a few
//    rows per snapshot instead of a full copy.
import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../database.js';
import { parseStateKeyString, stateKeyString, type StateMap } from '../../core/types.js';
import { insertRows, placeholders, queryInChunks } from './sql.js';

export type SnapshotId = number;

/** How one state differs from another: keys set to a (new) event, and keys gone. */
export interface StateDelta {
  changed: StateMap;
  removed: string[];
}

export interface SnapshotInfo {
  id: SnapshotId;
  parentId: SnapshotId | null;
  /** 0 for a full base, n for the n-th diff above it. */
  layer: number;
  /** Number of entries in the full state. */
  stateSize: number;
}

export const MAX_DIFF_LAYERS = 3;
/** Largest diff a layer may hold, as a share of the full state; index = layer. */
const LAYER_BUDGET_SHARE = [0, 1 / 2, 1 / 8, 1 / 32];
/** Small rooms still get a few entries per layer before a new base is written. */
const MIN_LAYER_BUDGET = 4;

export class UnknownSnapshotError extends Error {
  constructor(readonly snapshotId: SnapshotId) {
    super(`state snapshot ${snapshotId} does not exist`);
    this.name = 'UnknownSnapshotError';
  }
}

/** Keys set to a different event in `to` than in `from`, and keys of `from` that `to` lacks. */
export function diffStates(from: StateMap, to: StateMap): StateDelta {
  const changed: StateMap = new Map();
  for (const [key, eventId] of to) if (from.get(key) !== eventId) changed.set(key, eventId);
  const removed = [...from.keys()].filter((key) => !to.has(key));
  return { changed, removed };
}

export function applyDelta(state: StateMap, delta: StateDelta): StateMap {
  const out = new Map(state);
  for (const key of delta.removed) out.delete(key);
  for (const [key, eventId] of delta.changed) out.set(key, eventId);
  return out;
}

function deltaSize(delta: StateDelta): number {
  return delta.changed.size + delta.removed.length;
}

function layerBudget(layer: number, stateSize: number): number {
  // A diff at least half the state's size is no cheaper than a new base.
  return Math.min(stateSize / 2, Math.max(MIN_LAYER_BUDGET, stateSize * LAYER_BUDGET_SHARE[layer]!));
}

/** The snapshot's name: sha256 over its pairs in key order, each JSON-encoded so no separator is ambiguous. */
export function snapshotHash(state: StateMap): string {
  const hash = createHash('sha256');
  // Fed in large chunks: one update per pair costs more than the hashing.
  let chunk = '';
  for (const key of [...state.keys()].sort()) {
    chunk += `${JSON.stringify([key, state.get(key)])}\n`;
    if (chunk.length >= HASH_CHUNK_CHARS) {
      hash.update(chunk);
      chunk = '';
    }
  }
  return hash.update(chunk).digest('base64');
}

const HASH_CHUNK_CHARS = 1 << 16;

interface Layer {
  info: SnapshotInfo;
  /** key → event ID, or null where the layer removes the key. */
  entries: Map<string, string | null>;
}

interface SnapshotPlan {
  parent: SnapshotInfo | null;
  layer: number;
  /** Rows to write: key → event ID, or null to remove it. */
  entries: Map<string, string | null>;
}

interface ChainRow {
  id: number;
  parent_id: number | null;
  layer: number;
  state_size: number;
  type: string | null;
  state_key: string | null;
  event_id: string | null;
}

/** Recently saved snapshots kept whole in memory: at most this many, */
const RECENT_SNAPSHOTS = 16;
/** and at most this many state entries among them. */
const RECENT_ENTRIES = 100_000;
/** Layers (bases and diffs) kept in memory, most recently used first: at most this many entries among them. */
const LAYER_CACHE_ENTRIES = 200_000;

export class StateSnapshotStore {
  /**
   * The last snapshots saved, whole. The next state of a room is nearly
   * always saved as a diff against the last one (`parentHint`); without this
   * every state event of a room with 10,000 state entries read them all back
   * from the database to compute a one-entry diff. Filled after commit only,
   * so a rolled-back snapshot's ID (SQLite may hand it out again) never
   * names a cached state.
   */
  private readonly recent = new Map<SnapshotId, { info: SnapshotInfo; state: StateMap }>();
  /**
   * Layers as stored, by snapshot ID. A room's snapshots share their base and
   * lower diffs, so planning where the next snapshot goes (which reads the
   * previous one's chain) reads nothing back: before, a room of 10,000 state
   * entries whose last snapshot sat at the top layer read its whole base
   * from the database for every state event. Snapshots never change once
   * written; like `recent`, layers enter only after their commit.
   */
  private readonly layers = new Map<SnapshotId, Layer>();
  private layerEntries = 0;

  constructor(private readonly db: Database) {}

  /**
   * Stores `state` and returns its snapshot ID; an equal state saved before
   * returns that snapshot's ID without writing anything. `parentHint` (say,
   * the snapshot before the event that led to this state) lets the new
   * snapshot be stored as a small diff; without it a full base is written.
   *
   * Call this before `persistEvents`, not inside the same outer transaction:
   * persisting holds the events stream lock, and interning under it would
   * serialise all snapshot writes behind every persist.
   */
  async saveStateSnapshot(state: StateMap, parentHint?: SnapshotId): Promise<SnapshotId> {
    const hash = snapshotHash(state);
    const existing = await this.snapshotIdByHash(this.db, hash);
    if (existing !== undefined) return existing;
    const plan = await this.plan(state, parentHint);
    return this.db.transaction(async (tx) => {
      const inserted = await tx.queryOne<{ id: number }>(
        `INSERT INTO state_snapshots (hash, parent_id, layer, state_size) VALUES (?, ?, ?, ?)
         ON CONFLICT (hash) DO NOTHING RETURNING id`,
        [hash, plan.parent?.id ?? null, plan.layer, state.size],
      );
      // A concurrent save of the same state won the race; use its snapshot.
      if (!inserted) return (await this.snapshotIdByHash(tx, hash))!;
      const id = Number(inserted.id);
      await this.writeEntries(tx, id, plan.entries);
      const saved = new Map(state);
      const info = { id, parentId: plan.parent?.id ?? null, layer: plan.layer, stateSize: state.size };
      this.db.afterCommit(() => {
        this.remember(info, saved);
        this.cacheLayer({ info, entries: plan.entries });
      });
      return id;
    });
  }

  private remember(info: SnapshotInfo, state: StateMap): void {
    this.recent.set(info.id, { info, state });
    let entries = 0;
    for (const { state: kept } of this.recent.values()) entries += kept.size;
    for (const [id, { state: oldest }] of this.recent) {
      if (this.recent.size <= RECENT_SNAPSHOTS && entries <= RECENT_ENTRIES) break;
      this.recent.delete(id);
      entries -= oldest.size;
    }
  }

  private cacheLayer(layer: Layer): void {
    const id = layer.info.id;
    const known = this.layers.get(id);
    if (known) {
      this.layers.delete(id);
      this.layerEntries -= known.entries.size;
    }
    this.layers.set(id, layer);
    this.layerEntries += layer.entries.size;
    for (const [oldId, oldest] of this.layers) {
      if (this.layerEntries <= LAYER_CACHE_ENTRIES || oldId === id) break;
      this.layers.delete(oldId);
      this.layerEntries -= oldest.entries.size;
    }
  }

  /**
   * Runs `fn`, which saves several snapshots (createRoom's chain of states),
   * in one transaction: one commit instead of one per snapshot. `keys` are
   * every state key those snapshots hold; they are interned first, sorted,
   * so two batches interning new keys lock them in the same order on
   * PostgreSQL rather than deadlocking snapshot by snapshot.
   */
  async saveInOneTransaction<T>(keys: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await internStateKeys(tx, [...keys]);
      return fn();
    });
  }

  async loadStateSnapshot(id: SnapshotId): Promise<StateMap> {
    const cached = this.recent.get(id);
    return cached ? new Map(cached.state) : fullState(await this.loadChain(id));
  }

  /**
   * A few keys of many snapshots, without loading any snapshot whole (history
   * visibility reads two keys of the state before every event it judges):
   * one query per chunk of snapshots walks each one's diff chain and keeps,
   * per key, the entry of the highest layer that has one. Keys a snapshot
   * lacks are absent from its map.
   */
  async lookupKeys(ids: readonly SnapshotId[], keys: readonly string[]): Promise<Map<SnapshotId, StateMap>> {
    const found = new Map<SnapshotId, StateMap>(ids.map((id) => [id, new Map()]));
    if (ids.length === 0 || keys.length === 0) return found;
    const pairs = keys.map(parseStateKeyString);
    const rows = await queryInChunks([...new Set(ids)], (chunk) =>
      this.db.query<{ origin: number; layer: number; type: string; state_key: string; event_id: string | null }>(
        `WITH RECURSIVE chain (origin, id, parent_id, layer) AS (
           SELECT id, id, parent_id, layer FROM state_snapshots WHERE id IN (${placeholders(chunk.length)})
           UNION ALL
           SELECT c.origin, s.id, s.parent_id, s.layer FROM state_snapshots s JOIN chain c ON s.id = c.parent_id
         )
         SELECT c.origin, c.layer, k.type, k.state_key, n.event_id
         FROM chain c
         JOIN state_snapshot_entries e ON e.snapshot_id = c.id
         JOIN state_keys k ON k.id = e.key_nid
         LEFT JOIN state_event_nids n ON n.id = e.event_nid
         WHERE (k.type, k.state_key) IN (VALUES ${pairs.map(() => '(?, ?)').join(', ')})
         ORDER BY c.layer`,
        [...chunk, ...pairs.flat()],
      ),
    );
    // Rows come base layer first, so a later row (a higher layer) overrides.
    for (const row of rows) {
      const state = found.get(Number(row.origin))!;
      const key = stateKeyString(row.type, row.state_key);
      if (row.event_id === null) state.delete(key);
      else state.set(key, row.event_id);
    }
    return found;
  }

  /** What changes from snapshot `fromId` to snapshot `toId`. */
  async stateDelta(fromId: SnapshotId, toId: SnapshotId): Promise<StateDelta> {
    if (fromId === toId) return { changed: new Map(), removed: [] };
    const [from, to] = await Promise.all([this.loadStateSnapshot(fromId), this.loadStateSnapshot(toId)]);
    return diffStates(from, to);
  }

  async snapshotInfo(id: SnapshotId): Promise<SnapshotInfo | undefined> {
    const row = await this.db.queryOne<{ id: number; parent_id: number | null; layer: number; state_size: number }>(
      'SELECT id, parent_id, layer, state_size FROM state_snapshots WHERE id = ?',
      [id],
    );
    return row && toInfo(row);
  }

  private async snapshotIdByHash(q: Queryable, hash: string): Promise<SnapshotId | undefined> {
    const row = await q.queryOne<{ id: number }>('SELECT id FROM state_snapshots WHERE hash = ?', [hash]);
    return row && Number(row.id);
  }

  /**
   * Picks where the new snapshot goes: as a diff on the highest ancestor of
   * the hint (the hint itself first) that has a free layer above it and
   * against which the diff fits that layer's budget; else as a new base.
   * Only the hint's state is needed whole: an ancestor differs from it only
   * in the keys of the layers between them.
   */
  private async plan(state: StateMap, parentHint: SnapshotId | undefined): Promise<SnapshotPlan> {
    if (parentHint === undefined) return { parent: null, layer: 0, entries: new Map(state) };
    const chain = await this.loadChain(parentHint);
    const top = this.recent.get(parentHint)?.state ?? fullState(chain);
    const fromTop = diffStates(top, state);
    /** Keys the layers above the ancestor being tried change. */
    const above = new Set<string>();
    for (let i = chain.length - 1; i >= 0; i--) {
      const layer = chain[i]!.info.layer + 1;
      if (layer <= MAX_DIFF_LAYERS) {
        const delta = above.size === 0 ? fromTop : diffFromAncestor(chain, i, [...above, ...fromTop.changed.keys(), ...fromTop.removed], state);
        if (deltaSize(delta) <= layerBudget(layer, state.size)) {
          return { parent: chain[i]!.info, layer, entries: deltaEntries(delta) };
        }
      }
      for (const key of chain[i]!.entries.keys()) above.add(key);
    }
    return { parent: null, layer: 0, entries: new Map(state) };
  }

  /** The snapshot and its ancestors, base first: from memory where they are, else from the database. */
  private async loadChain(id: SnapshotId): Promise<Layer[]> {
    const chain: Layer[] = [];
    for (let next: SnapshotId | null = id; next !== null; ) {
      const cached = this.layers.get(next);
      if (!cached) {
        const stored = await this.queryChain(next);
        this.db.afterCommit(() => stored.forEach((layer) => this.cacheLayer(layer)));
        return [...stored, ...chain.reverse()];
      }
      // Most recently used last: a room's base outlives the diffs above it.
      this.layers.delete(next);
      this.layers.set(next, cached);
      chain.push(cached);
      next = cached.info.parentId;
    }
    return chain.reverse();
  }

  /** The snapshot and its ancestors as stored, base first. */
  private async queryChain(id: SnapshotId): Promise<Layer[]> {
    const rows = await this.db.query<ChainRow>(
      `WITH RECURSIVE chain (id, parent_id, layer, state_size) AS (
         SELECT id, parent_id, layer, state_size FROM state_snapshots WHERE id = ?
         UNION ALL
         SELECT s.id, s.parent_id, s.layer, s.state_size FROM state_snapshots s JOIN chain c ON s.id = c.parent_id
       )
       SELECT c.id, c.parent_id, c.layer, c.state_size, k.type, k.state_key, n.event_id
       FROM chain c
       LEFT JOIN state_snapshot_entries e ON e.snapshot_id = c.id
       LEFT JOIN state_keys k ON k.id = e.key_nid
       LEFT JOIN state_event_nids n ON n.id = e.event_nid`,
      [id],
    );
    if (rows.length === 0) throw new UnknownSnapshotError(id);
    const layers = new Map<number, Layer>();
    for (const row of rows) {
      let layer = layers.get(row.layer);
      if (!layer) layers.set(row.layer, (layer = { info: toInfo(row), entries: new Map() }));
      if (row.type !== null) layer.entries.set(stateKeyString(row.type, row.state_key!), row.event_id);
    }
    return [...layers.values()].sort((a, b) => a.info.layer - b.info.layer);
  }

  private async writeEntries(tx: Queryable, snapshotId: SnapshotId, entries: Map<string, string | null>): Promise<void> {
    if (entries.size === 0) return;
    const keyNids = await internStateKeys(tx, [...entries.keys()]);
    const eventIds = [...entries.values()].filter((e): e is string => e !== null);
    const eventNids = await internEventIds(tx, eventIds);
    const rows = [...entries].map(([key, eventId]) => [
      snapshotId,
      keyNids.get(key)!,
      eventId === null ? null : eventNids.get(eventId)!,
    ]);
    await insertRows(tx, 'state_snapshot_entries', ['snapshot_id', 'key_nid', 'event_nid'], rows);
  }
}

function toInfo(row: { id: number; parent_id: number | null; layer: number; state_size: number }): SnapshotInfo {
  return {
    id: Number(row.id),
    parentId: row.parent_id === null ? null : Number(row.parent_id),
    layer: Number(row.layer),
    stateSize: Number(row.state_size),
  };
}

/**
 * How `state` differs from the state of `chain[index]`, given every key in
 * which they can differ (`candidates`): each key's value at that layer is
 * the entry of the highest layer at or below it that has one.
 */
function diffFromAncestor(chain: readonly Layer[], index: number, candidates: Iterable<string>, state: StateMap): StateDelta {
  const changed: StateMap = new Map();
  const removed: string[] = [];
  for (const key of new Set(candidates)) {
    let before: string | null = null;
    for (let i = index; i >= 0; i--) {
      const entry = chain[i]!.entries.get(key);
      if (entry !== undefined) {
        before = entry;
        break;
      }
    }
    const after = state.get(key);
    if (after === undefined) {
      if (before !== null) removed.push(key);
    } else if (after !== before) {
      changed.set(key, after);
    }
  }
  return { changed, removed };
}

function fullState(chain: Layer[]): StateMap {
  const state: StateMap = new Map();
  for (const layer of chain) {
    for (const [key, eventId] of layer.entries) {
      if (eventId === null) state.delete(key);
      else state.set(key, eventId);
    }
  }
  return state;
}

function deltaEntries(delta: StateDelta): Map<string, string | null> {
  const entries = new Map<string, string | null>(delta.changed);
  for (const key of delta.removed) entries.set(key, null);
  return entries;
}

// Interning inserts in sorted order so that concurrent PostgreSQL transactions
// interning overlapping sets take their unique-index locks in the same order.

async function internStateKeys(tx: Queryable, keys: readonly string[]): Promise<Map<string, number>> {
  const pairs = [...new Set(keys)].sort().map(parseStateKeyString);
  await insertRows(tx, 'state_keys', ['type', 'state_key'], pairs, 'ON CONFLICT DO NOTHING');
  const rows = await queryInChunks(
    pairs,
    (chunk) =>
      tx.query<{ id: number; type: string; state_key: string }>(
        `SELECT id, type, state_key FROM state_keys WHERE (type, state_key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`,
        chunk.flat(),
      ),
    2,
  );
  return new Map(rows.map((r) => [stateKeyString(r.type, r.state_key), Number(r.id)]));
}

async function internEventIds(tx: Queryable, eventIds: readonly string[]): Promise<Map<string, number>> {
  const unique = [...new Set(eventIds)].sort();
  await insertRows(tx, 'state_event_nids', ['event_id'], unique.map((e) => [e]), 'ON CONFLICT DO NOTHING');
  const rows = await queryInChunks(unique, (chunk) =>
    tx.query<{ id: number; event_id: string }>(
      `SELECT id, event_id FROM state_event_nids WHERE event_id IN (${placeholders(chunk.length)})`,
      chunk,
    ),
  );
  return new Map(rows.map((r) => [r.event_id, Number(r.id)]));
}
