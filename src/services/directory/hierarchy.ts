// Space hierarchies (client-server-api/modules/spaces.md; space_hierarchy.yaml
// of both APIs). For a user: the space tree below a room, depth first,
// children in the spec's order, each room with its summary and its
// m.space.child events. Rooms this server is in are described from their
// state; the others are asked of the servers the m.space.child event names
// (GET /_matrix/federation/v1/hierarchy), as Synapse does. For another
// server: one space and its direct children that this server is in, with
// the children that server may not see listed as inaccessible_children.
import type { Event, JsonObject } from '../../core/types.js';
import { forbidden, invalidParam, notFound } from '../../core/errors.js';
import { serverNameOfUserId } from '../../core/identifiers.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { EventPipeline } from '../rooms/event-pipeline.js';
import type { LoadedRoom } from '../rooms/room-state.js';
import { isValidSpaceChild, orderSpaceChildren, type SpaceChild } from '../rooms/spaces.js';
import { roomSummary } from './public-rooms.js';
import { mayPreviewRoom } from './room-access.js';
import { joinRuleOf, restrictedAllowedRooms } from '../rooms/join-rules.js';

export interface HierarchyQuery {
  suggestedOnly: boolean;
  limit?: number;
  maxDepth?: number;
  from?: string;
}

/** A space as another server described it (federation/remote-queries.ts checks the shapes). */
export interface RemoteSpace {
  /** Its summary, without children_state. */
  room: JsonObject;
  /** Its m.space.child events, stripped, with origin_server_ts. */
  childrenState: JsonObject[];
  /** Summaries of the children that server is in, by room ID. */
  children: ReadonlyMap<string, JsonObject>;
  /** Children that server says we may not see: not to be asked about again. */
  inaccessible: ReadonlySet<string>;
}

/** Spaces of other servers (federation/remote-queries.ts). */
export interface RemoteSpaces {
  /** Asks `via` in turn; undefined when none can describe the room to us. */
  hierarchy(via: readonly string[], roomId: string, suggestedOnly: boolean): Promise<RemoteSpace | undefined>;
}

/** Synapse's page size, and bounds so one request cannot walk without end. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
const DEFAULT_MAX_DEPTH = 50;
const MAX_ROOMS_WALKED = 1_000;
/** Synapse's MAX_ROOMS_PER_SPACE: children described in one federation answer. */
const MAX_CHILDREN_FOR_SERVER = 50;
/** Join rules under which anyone may look at a room (Synapse's _is_remote_room_accessible). */
const OPEN_JOIN_RULES = new Set(['public', 'knock', 'knock_restricted']);

interface Child extends SpaceChild {
  event: JsonObject;
}

/** A room waiting to be walked: where to ask if it is not ours, and what its parent's server said of it. */
interface Pending {
  roomId: string;
  depth: number;
  via: readonly string[];
  remoteSummary?: JsonObject;
}

/** A room the walk describes: its summary with children_state, and the children to walk next. */
interface Described {
  entry: JsonObject;
  children: Pending[];
}

export class SpaceHierarchyService {
  constructor(
    private readonly serverName: string,
    private readonly store: RoomStore,
    private readonly pipeline: Pick<EventPipeline, 'room'>,
    private readonly remote: RemoteSpaces,
  ) {}

  async hierarchy(userId: string, rootId: string, query: HierarchyQuery): Promise<JsonObject> {
    const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const maxDepth = query.maxDepth ?? DEFAULT_MAX_DEPTH;
    const offset = query.from === undefined ? 0 : parseToken(query.from, query.suggestedOnly, maxDepth);
    const root = await this.localRoom(rootId);
    const viewer = new Viewer(userId, this.store);
    if (!root || !(await this.userMayView(viewer, root))) {
      throw forbidden(`You are not allowed to view ${rootId}: not a member, and it is not public, knockable or world-readable`);
    }
    // One room past the page tells whether there is a next one.
    const rooms = await this.walk(viewer, root, query.suggestedOnly, maxDepth, offset + limit + 1);
    const body: JsonObject = { rooms: rooms.slice(offset, offset + limit) };
    if (offset + limit < rooms.length) body.next_batch = formatToken(offset + limit, query.suggestedOnly, maxDepth);
    return body;
  }

  /**
   * Depth first from the root: each room the user may see once, with its
   * children below it, until `wanted` rooms are found.
   */
  private async walk(viewer: Viewer, root: LoadedRoom, suggestedOnly: boolean, maxDepth: number, wanted: number): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    const seen = new Set<string>();
    const stack: Pending[] = [{ roomId: root.roomId, depth: 0, via: [] }];
    while (stack.length > 0 && out.length < Math.min(wanted, MAX_ROOMS_WALKED)) {
      const pending = stack.pop()!;
      if (seen.has(pending.roomId)) continue;
      seen.add(pending.roomId);
      const described = await this.describe(viewer, pending, suggestedOnly, maxDepth);
      if (!described) continue;
      out.push(described.entry);
      if (pending.depth >= maxDepth) continue;
      // Reversed onto the stack, so the first child is walked first.
      for (const child of [...described.children].reverse()) stack.push(child);
    }
    return out;
  }

  /** A room of the walk, from its state when this server is in it, else from a server the space names. */
  private async describe(viewer: Viewer, pending: Pending, suggestedOnly: boolean, maxDepth: number): Promise<Described | undefined> {
    const local = await this.localRoom(pending.roomId);
    if (local) {
      if (!(await this.userMayView(viewer, local))) return undefined;
      const children = childrenOf(local, suggestedOnly);
      return { entry: { ...spaceSummary(local), children_state: children.map((c) => c.event) }, children: children.map((c) => pendingChild(c.roomId, c.content, pending.depth)) };
    }
    // What the parent's server said is enough for a room that is not a space, or one at the bottom.
    const summary = pending.remoteSummary;
    if (summary && (summary['room_type'] !== 'm.space' || pending.depth >= maxDepth)) {
      return (await this.userMayViewRemote(viewer, pending.roomId, summary)) ? { entry: { ...summary, children_state: [] }, children: [] } : undefined;
    }
    const space = await this.remote.hierarchy(pending.via, pending.roomId, suggestedOnly);
    if (!space || !(await this.userMayViewRemote(viewer, pending.roomId, space.room))) return undefined;
    const children = orderSpaceChildren(space.childrenState.map(asChild));
    return {
      entry: { ...space.room, children_state: children.map((c) => c.event) },
      // Inaccessible children stay in children_state (as Synapse), but are not asked about.
      children: children
        .filter((c) => !space.inaccessible.has(c.roomId))
        .map((c) => ({ ...pendingChild(c.roomId, c.content, pending.depth), remoteSummary: space.children.get(c.roomId) })),
    };
  }

  /**
   * GET /_matrix/federation/v1/hierarchy/{roomId} for `origin`: the space
   * and its direct children this server is in, not recursing; children the
   * origin may not see are named in inaccessible_children, so it does not
   * ask anyone else about them.
   */
  async forServer(origin: string, roomId: string, suggestedOnly: boolean): Promise<JsonObject> {
    const root = await this.localRoom(roomId);
    if (!root || !(await this.serverMayView(origin, root))) throw notFound(`Room ${roomId} is not known here, or ${origin} may not view it`);
    const childEvents = childrenOf(root, suggestedOnly);
    const children: JsonObject[] = [];
    const inaccessible: string[] = [];
    for (const child of childEvents.slice(0, MAX_CHILDREN_FOR_SERVER)) {
      const room = await this.localRoom(child.roomId);
      if (!room) continue;
      if (await this.serverMayView(origin, room)) children.push(spaceSummary(room));
      else inaccessible.push(child.roomId);
    }
    return { room: { ...spaceSummary(root), children_state: childEvents.map((c) => c.event) }, children, inaccessible_children: inaccessible };
  }

  /** The room, if this server is in it (a user of ours is joined): only then is its state current. */
  private async localRoom(roomId: string): Promise<LoadedRoom | undefined> {
    const room = await this.pipeline.room(roomId);
    return room?.hasJoinedMemberOf(this.serverName) ? room : undefined;
  }

  /**
   * space_hierarchy.yaml: a member, an invitee, a public or knockable room,
   * a restricted room whose conditions the user meets, or a world_readable
   * one — but never for a user banned from it (its 403 names bans).
   */
  /** A room of ours: the rule room summaries share (room-access.ts); banned users are refused, as the hierarchy's spec says. */
  private async userMayView(viewer: Viewer, room: LoadedRoom): Promise<boolean> {
    if (room.membership(viewer.userId) === 'ban') return false;
    return mayPreviewRoom(this.store.memberships, viewer.userId, room);
  }

  /**
   * A room described by another server (Synapse's _is_remote_room_accessible):
   * open by its summary, or restricted to a room the user is in, or one the
   * user may see here (an invite this server holds).
   */
  private async userMayViewRemote(viewer: Viewer, roomId: string, summary: JsonObject): Promise<boolean> {
    // The summary need not carry the join rule; Synapse then takes it as public.
    const joinRule = typeof summary['join_rule'] === 'string' ? summary['join_rule'] : 'public';
    if (OPEN_JOIN_RULES.has(joinRule) || summary['world_readable'] === true) return true;
    const allowed = Array.isArray(summary['allowed_room_ids']) ? summary['allowed_room_ids'].filter((r): r is string => typeof r === 'string') : [];
    if (await viewer.isInAny(allowed)) return true;
    const membership = (await this.store.memberships.getMembership(roomId, viewer.userId))?.membership;
    return membership === 'join' || membership === 'invite';
  }

  /**
   * Whether another server may see a room of ours (Synapse's
   * _is_local_room_accessible for an origin): open, or a user of it is
   * joined or invited, or it is restricted to a room that server is in.
   */
  private async serverMayView(origin: string, room: LoadedRoom): Promise<boolean> {
    if (isOpen(room) || room.hasJoinedMemberOf(origin) || hasInvitedMemberOf(room, origin)) return true;
    if (joinRuleOf(room) !== 'restricted') return false;
    for (const allowedId of restrictedAllowedRooms(room)) {
      if ((await this.pipeline.room(allowedId))?.hasJoinedMemberOf(origin)) return true;
    }
    return false;
  }
}

/** The user asking, with their joined rooms read once per request. */
class Viewer {
  private joined: Promise<Set<string>> | undefined;

  constructor(
    readonly userId: string,
    private readonly store: RoomStore,
  ) {}

  async isInAny(roomIds: readonly string[]): Promise<boolean> {
    if (roomIds.length === 0) return false;
    this.joined ??= this.store.memberships.roomsForUser(this.userId, ['join']).then((rows) => new Set(rows.map((m) => m.roomId)));
    const joined = await this.joined;
    return roomIds.some((roomId) => joined.has(roomId));
  }
}

function pendingChild(roomId: string, content: JsonObject, parentDepth: number): Pending {
  const via = Array.isArray(content.via) ? content.via.filter((s): s is string => typeof s === 'string') : [];
  return { roomId, depth: parentDepth + 1, via };
}

/**
 * room_summary.yaml as the hierarchy gives it: the directory's summary plus
 * the room version, its encryption and, for restricted rooms, the rooms
 * whose members may join (Matrix 1.15; other servers need these to judge
 * what their users may see).
 */
function spaceSummary(room: LoadedRoom): JsonObject {
  const json: JsonObject = { ...roomSummary(room).json, room_version: room.rules.id };
  const algorithm = room.stateEvent('m.room.encryption')?.content.algorithm;
  if (typeof algorithm === 'string') json.encryption = algorithm;
  const allowed = restrictedAllowedRooms(room);
  if (allowed.length > 0 && (joinRuleOf(room) === 'restricted' || joinRuleOf(room) === 'knock_restricted')) json.allowed_room_ids = allowed;
  return json;
}

function isOpen(room: LoadedRoom): boolean {
  const joinRule = joinRuleOf(room);
  return (typeof joinRule === 'string' && OPEN_JOIN_RULES.has(joinRule)) || room.stateEvent('m.room.history_visibility')?.content.history_visibility === 'world_readable';
}

function hasInvitedMemberOf(room: LoadedRoom, serverName: string): boolean {
  for (const event of room.state.values()) {
    if (event.type === 'm.room.member' && event.content.membership === 'invite' && serverNameOfUserId(event.state_key ?? '') === serverName) return true;
  }
  return false;
}

/** The room's valid m.space.child events in the spec's order, as stripped events with origin_server_ts. */
function childrenOf(room: LoadedRoom, suggestedOnly: boolean): Child[] {
  const children: Child[] = [];
  for (const event of room.state.values()) {
    if (event.type !== 'm.space.child' || event.state_key === undefined || !isValidSpaceChild(event.content)) continue;
    if (suggestedOnly && event.content.suggested !== true) continue;
    children.push(asChild(strippedChild(event)));
  }
  return orderSpaceChildren(children);
}

function strippedChild(event: Event): JsonObject {
  return { type: event.type, state_key: event.state_key!, content: event.content, sender: event.sender, origin_server_ts: event.origin_server_ts };
}

/** A stripped m.space.child event (ours, or checked by federation/remote-queries.ts) as a child to order. */
function asChild(event: JsonObject): Child {
  return { roomId: event['state_key'] as string, content: event['content'] as JsonObject, originServerTs: event['origin_server_ts'] as number, event };
}

/** Tokens carry the walk's parameters: they may not change between pages (space_hierarchy.yaml, 400). */
function formatToken(offset: number, suggestedOnly: boolean, maxDepth: number): string {
  return `h${offset}_${suggestedOnly ? 1 : 0}_${maxDepth}`;
}

function parseToken(token: string, suggestedOnly: boolean, maxDepth: number): number {
  const match = /^h(\d+)_([01])_(\d+)$/.exec(token);
  if (!match) throw invalidParam(`'${token}' is not a space hierarchy pagination token from this server`);
  if ((match[2] === '1') !== suggestedOnly || Number(match[3]) !== maxDepth) {
    throw invalidParam('suggested_only and max_depth cannot change on paginated requests');
  }
  return Number(match[1]);
}
