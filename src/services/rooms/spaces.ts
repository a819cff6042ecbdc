// Spaces (client-server-api/modules/spaces.md): a space lists its children
// with m.space.child state events, keyed by the child's room ID.
import type { JsonObject } from '../../core/types.js';

/**
 * Whether an m.space.child content makes its room a child: `via` must be a
 * non-empty list of server names ("When not present or invalid, the child
 * room is not considered to be part of the space").
 */
export function isValidSpaceChild(content: JsonObject): boolean {
  const via = content.via;
  return Array.isArray(via) && via.length > 0 && via.every((server) => typeof server === 'string');
}

/** A valid `order`: at most 50 printable ASCII characters (0x20–0x7E). */
function validOrder(content: JsonObject): string | undefined {
  const order = content.order;
  return typeof order === 'string' && order.length <= 50 && /^[\x20-\x7E]*$/.test(order) ? order : undefined;
}

export interface SpaceChild {
  roomId: string;
  content: JsonObject;
  originServerTs: number;
}

/**
 * Children in the spec's order ("Ordering of children within a space"):
 * those with a valid `order` first, by it; then by the m.space.child event's
 * origin_server_ts; ties by room ID.
 */
export function orderSpaceChildren<T extends SpaceChild>(children: readonly T[]): T[] {
  return [...children].sort((a, b) => {
    const [orderA, orderB] = [validOrder(a.content), validOrder(b.content)];
    if (orderA !== undefined && orderB === undefined) return -1;
    if (orderA === undefined && orderB !== undefined) return 1;
    if (orderA !== undefined && orderB !== undefined && orderA !== orderB) return orderA < orderB ? -1 : 1;
    if (a.originServerTs !== b.originServerTs) return a.originServerTs - b.originServerTs;
    return a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0;
  });
}
