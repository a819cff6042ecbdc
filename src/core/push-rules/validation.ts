// Reading push rule parts that arrive as JSON (request bodies of the push
// rules API, data/api/client-server/pushrules.yaml, and stored account data)
// into the typed shapes, with a message naming what is wrong.

import type { JsonObject, JsonValue } from '../types.js';
import type { PushAction, PushCondition } from './types.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

type ActionName = Extract<PushAction, string>;
const ACTION_NAMES: readonly ActionName[] = ['notify', 'dont_notify', 'coalesce'];

function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseAction(action: JsonValue, index: number): Parsed<PushAction> {
  if (typeof action === 'string') {
    return isActionName(action)
      ? { ok: true, value: action }
      : { ok: false, error: `actions[${index}] is an unknown action: ${JSON.stringify(action)}.` };
  }
  if (isObject(action) && typeof action['set_tweak'] === 'string') {
    const value: PushAction = { ...action, set_tweak: action['set_tweak'] };
    return { ok: true, value };
  }
  return { ok: false, error: `actions[${index}] must be an action name or an object with a string "set_tweak".` };
}

/** A rule's `actions`: an array of "notify" (or a historical name) and `set_tweak` objects. */
export function parsePushActions(value: JsonValue | undefined): Parsed<PushAction[]> {
  if (!Array.isArray(value)) return { ok: false, error: '"actions" must be an array.' };
  const actions: PushAction[] = [];
  for (const [index, item] of value.entries()) {
    const parsed = parseAction(item, index);
    if (!parsed.ok) return parsed;
    actions.push(parsed.value);
  }
  return { ok: true, value: actions };
}

/**
 * A rule's `conditions`: objects with a string `kind`. Other keys are kept
 * unchecked: a condition the evaluator does not understand simply never
 * matches, as the spec requires of unrecognised conditions.
 */
export function parsePushConditions(value: JsonValue | undefined): Parsed<PushCondition[]> {
  if (!Array.isArray(value)) return { ok: false, error: '"conditions" must be an array.' };
  const conditions: PushCondition[] = [];
  for (const [index, item] of value.entries()) {
    if (!isObject(item) || typeof item['kind'] !== 'string') {
      return { ok: false, error: `conditions[${index}] must be an object with a string "kind".` };
    }
    conditions.push({ ...item, kind: item['kind'] });
  }
  return { ok: true, value: conditions };
}
