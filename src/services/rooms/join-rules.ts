// Reading a room's join rule (client-server-api "m.room.join_rules"): which
// rule is in force, whether the room version allows it, and which rooms a
// restricted rule lets in.
import type { JsonObject } from '../../core/types.js';
import type { LoadedRoom } from './room-state.js';

/** The join rule; a room without m.room.join_rules is invite-only. */
export function joinRuleOf(room: LoadedRoom): string {
  const rule = room.stateEvent('m.room.join_rules')?.content.join_rule;
  return typeof rule === 'string' ? rule : 'invite';
}

/** `restricted` (v8+) or `knock_restricted` (v10+) in a room version that has it. */
export function isRestricted(room: LoadedRoom): boolean {
  const rule = joinRuleOf(room);
  return (rule === 'restricted' && room.rules.restrictedJoinRule) || (rule === 'knock_restricted' && room.rules.knockRestrictedJoinRule);
}

/** `knock` (v7+) or `knock_restricted` (v10+) in a room version that has it. */
export function isKnockable(room: LoadedRoom): boolean {
  const rule = joinRuleOf(room);
  return (rule === 'knock' && room.rules.knockJoinRule) || (rule === 'knock_restricted' && room.rules.knockRestrictedJoinRule);
}

/** The rooms whose members a restricted join rule admits (its `m.room_membership` allow conditions). */
export function restrictedAllowedRooms(room: LoadedRoom): string[] {
  const allow = room.stateEvent('m.room.join_rules')?.content.allow;
  if (!Array.isArray(allow)) return [];
  return allow.flatMap((rule) => {
    const condition = rule as JsonObject;
    return typeof rule === 'object' && rule !== null && !Array.isArray(rule) && condition.type === 'm.room_membership' && typeof condition.room_id === 'string'
      ? [condition.room_id]
      : [];
  });
}
