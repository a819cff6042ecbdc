// Push rule actions (client-server-api/modules/push.md, "Actions").

import type { JsonObject } from '../types.js';
import type { PushAction, SetTweakAction } from './types.js';

function isTweak(action: PushAction): action is SetTweakAction {
  return typeof action === 'object';
}

/**
 * The actions without `dont_notify` and `coalesce`, which "Clients and
 * homeservers MUST ignore ... for instance, by stripping them" ("Historical
 * Actions"): `["dont_notify"]` is the same as `[]`.
 */
export function stripHistoricalActions(actions: readonly PushAction[]): PushAction[] {
  return actions.filter((action) => action !== 'dont_notify' && action !== 'coalesce');
}

export function actionsNotify(actions: readonly PushAction[]): boolean {
  return actions.includes('notify');
}

/**
 * The tweaks the actions set, as the push gateway receives them. A
 * `highlight` tweak without a value means true; when several actions set the
 * same tweak the last one wins.
 */
export function actionTweaks(actions: readonly PushAction[]): JsonObject {
  const tweaks: JsonObject = {};
  for (const action of actions) {
    if (!isTweak(action)) continue;
    if (action.value !== undefined) tweaks[action.set_tweak] = action.value;
    else if (action.set_tweak === 'highlight') tweaks[action.set_tweak] = true;
  }
  return tweaks;
}
