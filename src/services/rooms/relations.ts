// Event relationships (_index.md "Forming relationships between events",
// modules threading.md, event_replacements.md, reference_relations.md,
// event_annotations.md): recording relations as events are persisted,
// GET /relations and GET /threads, and the bundled aggregations served in
// unsigned['m.relations'].
//
// Bundled per the spec: m.thread {latest_event, count,
// current_user_participated}, m.replace (the most recent valid edit, as a
// whole event), m.reference {chunk: [{event_id}]}. m.annotation is *not*
// aggregated by the server (event_annotations.md).
import type { Event, JsonObject, JsonValue } from '../../core/types.js';
import type { RoomStore, StoredEvent, StreamDirection } from '../../storage/rooms/index.js';
import type { EventRelation, RelationStore } from '../../storage/rooms/relations.js';
import type { ClientEvent, ClientEventFormatter, Reader, RelationBundler } from './client-events.js';
import { paginationToken, parsePaginationToken } from './timeline.js';
import type { HistoryVisibility } from './visibility.js';

/** relations.yaml: servers SHOULD traverse at least 3 levels when `recurse` is set. */
export const MAX_RECURSION_DEPTH = 3;
const DEFAULT_LIMIT = 5;
const MAX_LIMIT = 100;
/** Latest events inside bundles are themselves bundled, one level down only. */
const MAX_BUNDLE_DEPTH = 1;

export interface RelationsQuery {
  relType?: string;
  eventType?: string;
  from?: string;
  to?: string;
  limit?: number;
  direction: StreamDirection;
  /** undefined: the client did not send `recurse` (then recursion_depth is absent). */
  recurse?: boolean;
}

export interface RelationsPage {
  chunk: ClientEvent[];
  next_batch?: string;
  prev_batch?: string;
  recursion_depth?: number;
}

export interface ThreadsPage {
  chunk: ClientEvent[];
  next_batch?: string;
}

interface Relates {
  relType: string;
  eventId: string;
  key: string | null;
}

/** The event's m.relates_to, if it forms a typed relationship. */
export function relatesTo(content: JsonObject): Relates | undefined {
  const rel = content['m.relates_to'];
  if (typeof rel !== 'object' || rel === null || Array.isArray(rel)) return undefined;
  const { rel_type: relType, event_id: eventId, key } = rel as Record<string, JsonValue>;
  if (typeof relType !== 'string' || typeof eventId !== 'string') return undefined;
  return { relType, eventId, key: typeof key === 'string' ? key : null };
}

export interface RelationServiceDeps {
  store: RoomStore;
  relations: RelationStore;
  visibility: HistoryVisibility;
}

export class RelationService implements RelationBundler {
  constructor(private readonly deps: RelationServiceDeps) {}

  /** Records `event`'s relationship, if it has one (an EventPipeline onPersisting listener). */
  async recordRelation(event: Event, streamOrdering: number): Promise<void> {
    const relates = relatesTo(event.content);
    if (!relates || event.state_key !== undefined) return;
    await this.deps.relations.addRelation({
      eventId: event.event_id,
      relatesToId: relates.eventId,
      relType: relates.relType,
      aggregationKey: relates.key,
      roomId: event.room_id,
      sender: event.sender,
      type: event.type,
      streamOrdering,
    });
  }

  /** GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]] */
  async relations(userId: string, deviceId: string | undefined, roomId: string, parentId: string, query: RelationsQuery, formatter: ClientEventFormatter): Promise<RelationsPage> {
    await this.deps.visibility.requireReadableRoom(userId, roomId);
    await this.deps.visibility.requireVisibleEvent(userId, roomId, parentId);
    const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const forward = query.direction === 'forward';
    const top = await this.deps.store.events.maxStreamPosition();
    const from = query.from === undefined ? (forward ? 0 : top) : parsePaginationToken(query.from);
    const to = query.to === undefined ? (forward ? top : 0) : parsePaginationToken(query.to);
    const { parents, depth } = query.recurse ? await this.descendantParents(parentId) : { parents: [parentId], depth: 1 };
    const children = await this.deps.relations.children(parents, {
      relType: query.relType,
      eventType: query.eventType,
      from,
      to,
      limit: limit + 1,
      direction: query.direction,
    });
    const page = children.slice(0, limit).filter((e) => e.roomId === roomId);
    const visible = await this.deps.visibility.filterVisible(userId, page);
    const result: RelationsPage = { chunk: await formatter.format(visible, { userId, deviceId }) };
    if (query.from !== undefined) result.prev_batch = query.from;
    if (children.length > limit) {
      const last = page.at(-1)!;
      result.next_batch = paginationToken(forward ? last.streamOrdering : last.streamOrdering - 1);
    }
    if (query.recurse !== undefined) result.recursion_depth = depth;
    return result;
  }

  /** GET /rooms/{roomId}/threads */
  async threads(userId: string, deviceId: string | undefined, roomId: string, include: 'all' | 'participated', from: string | undefined, limit: number, formatter: ClientEventFormatter): Promise<ThreadsPage> {
    await this.deps.visibility.requireReadableRoom(userId, roomId);
    const position = from === undefined ? await this.deps.store.events.maxStreamPosition() : parsePaginationToken(from);
    const summaries = await this.deps.relations.threads(roomId, position, limit + 1, include === 'participated' ? userId : undefined);
    const page = summaries.slice(0, limit);
    const roots = await this.deps.store.events.getEvents(page.map((s) => s.rootId));
    const ordered = page.map((s) => roots.get(s.rootId)).filter((e): e is StoredEvent => e !== undefined && e.roomId === roomId);
    const visible = await this.deps.visibility.filterVisible(userId, ordered);
    const result: ThreadsPage = { chunk: await formatter.format(visible, { userId, deviceId }) };
    if (summaries.length > limit) result.next_batch = paginationToken(page.at(-1)!.latestStreamOrdering - 1);
    return result;
  }

  async bundle(events: readonly StoredEvent[], reader: Reader | undefined, formatter: ClientEventFormatter, depth: number): Promise<Map<string, JsonObject>> {
    const bundles = new Map<string, JsonObject>();
    // State events do not receive bundled aggregations (_index.md "Aggregations of child events").
    const parents = events.filter((e) => e.stateKey === null);
    if (parents.length === 0 || depth > MAX_BUNDLE_DEPTH) return bundles;
    const ignored = reader ? await this.deps.visibility.ignoredBy(reader.userId) : new Set<string>();
    // An ignored user's replies and edits neither count nor show (as Synapse).
    const relations = (await this.deps.relations.relationsTo(parents.map((e) => e.eventId))).filter((r) => !ignored.has(r.sender));
    if (relations.length === 0) return bundles;
    const byParent = groupBy(relations, (r) => r.relatesToId);
    const childEvents = await this.servedChildren(latestChildIds(parents, byParent), reader);
    const formattedChildren = new Map(
      (await formatter.format([...childEvents.values()], reader, { depth: depth + 1 })).map((e) => [e.event_id, e]),
    );
    for (const parent of parents) {
      const children = byParent.get(parent.eventId);
      if (!children) continue;
      const bundle: JsonObject = {};
      const thread = threadAggregation(parent, children, formattedChildren, reader?.userId);
      if (thread) bundle['m.thread'] = thread;
      const edit = parent.redactedBecause === null ? latestValidEdit(parent, children, childEvents) : undefined;
      if (edit) bundle['m.replace'] = formattedChildren.get(edit.eventId)!;
      const references = children.filter((r) => r.relType === 'm.reference');
      if (references.length > 0) bundle['m.reference'] = { chunk: references.map((r) => ({ event_id: r.eventId })) };
      if (Object.keys(bundle).length > 0) bundles.set(parent.eventId, bundle);
    }
    return bundles;
  }

  /** The bundled children as the reader may be served them (all of them when there is no reader). */
  private async servedChildren(eventIds: readonly string[], reader: Reader | undefined): Promise<Map<string, StoredEvent>> {
    const children = [...(await this.deps.store.events.getEvents(eventIds)).values()];
    const served = reader ? await this.deps.visibility.filterVisible(reader.userId, children) : children;
    return new Map(served.map((e) => [e.eventId, e]));
  }

  /** The event and the events relating to it, through up to MAX_RECURSION_DEPTH relationships. */
  private async descendantParents(rootId: string): Promise<{ parents: string[]; depth: number }> {
    const parents = new Set([rootId]);
    let frontier = [rootId];
    let depth = 1;
    while (depth < MAX_RECURSION_DEPTH) {
      const next = (await this.deps.relations.relationsTo(frontier)).map((r) => r.eventId).filter((id) => !parents.has(id));
      const grandchildren = next.length > 0 ? await this.deps.relations.relationsTo(next) : [];
      if (grandchildren.length === 0) break;
      for (const id of next) parents.add(id);
      frontier = next;
      depth += 1;
    }
    return { parents: [...parents], depth };
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(key(item));
    if (list) list.push(item);
    else out.set(key(item), [item]);
  }
  return out;
}

/** The children a bundle serves whole: every thread's latest reply and every edit candidate. */
function latestChildIds(parents: readonly StoredEvent[], byParent: Map<string, EventRelation[]>): string[] {
  const ids: string[] = [];
  for (const parent of parents) {
    const children = byParent.get(parent.eventId) ?? [];
    const thread = children.filter((r) => r.relType === 'm.thread');
    if (thread.length > 0) ids.push(thread.at(-1)!.eventId);
    ids.push(...children.filter((r) => r.relType === 'm.replace' && r.sender === parent.sender).map((r) => r.eventId));
  }
  return ids;
}

/** threading.md "Server-side aggregation of m.thread relationships". */
function threadAggregation(parent: StoredEvent, children: readonly EventRelation[], formatted: Map<string, ClientEvent>, userId: string | undefined): JsonObject | undefined {
  const replies = children.filter((r) => r.relType === 'm.thread');
  if (replies.length === 0) return undefined;
  const latest = formatted.get(replies.at(-1)!.eventId);
  if (!latest) return undefined;
  const participated = userId !== undefined && (parent.sender === userId || replies.some((r) => r.sender === userId));
  return { latest_event: latest, count: replies.length, current_user_participated: participated };
}

/**
 * event_replacements.md: the most recent *valid* replacement — same sender
 * and type as the original, not a state event, and the original not itself
 * an edit — by origin_server_ts, then the largest event ID.
 */
function latestValidEdit(parent: StoredEvent, children: readonly EventRelation[], events: Map<string, StoredEvent>): StoredEvent | undefined {
  const parentContent = (JSON.parse(parent.json) as { content?: JsonObject }).content ?? {};
  if (relatesTo(parentContent)?.relType === 'm.replace') return undefined;
  let best: StoredEvent | undefined;
  for (const relation of children) {
    if (relation.relType !== 'm.replace' || relation.sender !== parent.sender || relation.type !== parent.type) continue;
    const edit = events.get(relation.eventId);
    if (!edit || edit.stateKey !== null) continue;
    if (!best || edit.originServerTs > best.originServerTs || (edit.originServerTs === best.originServerTs && edit.eventId > best.eventId)) best = edit;
  }
  return best;
}
