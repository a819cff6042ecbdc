// GET /rooms/{roomId}/hierarchy (space_hierarchy.yaml; spaces.md): the space
// tree below a room, depth first, children in the spec's order, each room
// with its summary and its m.space.child events. Only rooms this server is
// in can be described (there is no federation yet); the rest are skipped.
import type { JsonObject } from '../../core/types.js';
import { forbidden, invalidParam } from '../../core/errors.js';
import type { RoomStore } from '../../storage/rooms/index.js';
import type { EventPipeline } from '../rooms/event-pipeline.js';
import type { LoadedRoom } from '../rooms/room-state.js';
import { isValidSpaceChild, orderSpaceChildren, type SpaceChild } from '../rooms/spaces.js';
import { roomSummary } from './public-rooms.js';
import { mayPreviewRoom } from './room-access.js';

export interface HierarchyQuery {
  suggestedOnly: boolean;
  limit?: number;
  maxDepth?: number;
  from?: string;
}

/** Synapse's page size, and bounds so one request cannot walk without end. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
const DEFAULT_MAX_DEPTH = 50;
const MAX_ROOMS_WALKED = 1_000;

interface Child extends SpaceChild {
  event: JsonObject;
}

export class SpaceHierarchyService {
  constructor(
    private readonly store: RoomStore,
    private readonly pipeline: Pick<EventPipeline, 'room'>,
  ) {}

  async hierarchy(userId: string, rootId: string, query: HierarchyQuery): Promise<JsonObject> {
    const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const maxDepth = query.maxDepth ?? DEFAULT_MAX_DEPTH;
    const offset = query.from === undefined ? 0 : parseToken(query.from, query.suggestedOnly, maxDepth);
    const root = await this.pipeline.room(rootId);
    if (!root || !(await this.accessible(userId, root))) throw forbidden(`You are not allowed to view ${rootId}: not a member, and it is not public, knockable or world-readable`);
    const rooms = await this.walk(userId, root, query.suggestedOnly, maxDepth);
    const body: JsonObject = { rooms: rooms.slice(offset, offset + limit) };
    if (offset + limit < rooms.length) body.next_batch = formatToken(offset + limit, query.suggestedOnly, maxDepth);
    return body;
  }

  /** Depth first from the root: each accessible room once, with its children below it. */
  private async walk(userId: string, root: LoadedRoom, suggestedOnly: boolean, maxDepth: number): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    const seen = new Set<string>();
    const stack: Array<{ roomId: string; depth: number; room?: LoadedRoom }> = [{ roomId: root.roomId, depth: 0, room: root }];
    while (stack.length > 0 && out.length < MAX_ROOMS_WALKED) {
      const { roomId, depth, room: known } = stack.pop()!;
      if (seen.has(roomId)) continue;
      seen.add(roomId);
      const room = known ?? (await this.pipeline.room(roomId));
      if (!room || (room !== root && !(await this.accessible(userId, room)))) continue;
      const children = childrenOf(room, suggestedOnly);
      out.push({ ...roomSummary(room).json, children_state: children.map((c) => c.event) });
      if (depth >= maxDepth) continue;
      // Reversed onto the stack, so the first child is walked first.
      for (const child of [...children].reverse()) stack.push({ roomId: child.roomId, depth: depth + 1 });
    }
    return out;
  }

  /**
   * space_hierarchy.yaml: a member, an invitee, a public or knockable room,
   * a restricted room whose conditions the user meets, or a world_readable
   * one — but never for a user banned from it (its 403 names bans).
   */
  private async accessible(userId: string, room: LoadedRoom): Promise<boolean> {
    if (room.membership(userId) === 'ban') return false;
    return mayPreviewRoom(this.store.memberships, userId, room);
  }
}

/** The room's valid m.space.child events in the spec's order, as stripped events with origin_server_ts. */
function childrenOf(room: LoadedRoom, suggestedOnly: boolean): Child[] {
  const children: Child[] = [];
  for (const event of room.state.values()) {
    if (event.type !== 'm.space.child' || event.state_key === undefined || !isValidSpaceChild(event.content)) continue;
    if (suggestedOnly && event.content.suggested !== true) continue;
    children.push({
      roomId: event.state_key,
      content: event.content,
      originServerTs: event.origin_server_ts,
      event: { type: event.type, state_key: event.state_key, content: event.content, sender: event.sender, origin_server_ts: event.origin_server_ts },
    });
  }
  return orderSpaceChildren(children);
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
