// How a user's push rules and the server-default rules combine
// (client-server-api/modules/push.md, "Predefined Rules"): server-default
// rules "operate at a lower priority than user-defined rules, except for the
// `.m.rule.master` rule which has always a higher priority than any other rule".

import { PUSH_RULE_KINDS, type PushAction, type PushRule, type PushRuleKind, type PushRuleset } from './types.js';

const MASTER_RULE_ID = '.m.rule.master';

/** What a user may change about a server-default rule through the push rules API. */
export interface DefaultRuleChange {
  enabled?: boolean;
  actions?: PushAction[];
}

export interface UserPushRules {
  /** User-defined rules of each kind, highest priority first. */
  rules?: Partial<PushRuleset>;
  /** The user's changes to server-default rules, by kind, then by rule ID. */
  defaultChanges?: Partial<Record<PushRuleKind, Record<string, DefaultRuleChange>>>;
}

function applyChange(rule: PushRule, change: DefaultRuleChange | undefined): PushRule {
  if (change === undefined) return rule;
  return {
    ...rule,
    enabled: change.enabled ?? rule.enabled,
    actions: change.actions ?? rule.actions,
  };
}

function mergeKind(kind: PushRuleKind, defaults: PushRule[], user: UserPushRules): PushRule[] {
  const changes = user.defaultChanges?.[kind] ?? {};
  const changed = defaults.map((rule) =>
    applyChange(rule, Object.hasOwn(changes, rule.rule_id) ? changes[rule.rule_id] : undefined),
  );
  const userRules = (user.rules?.[kind] ?? []).map((rule) => ({ ...rule, default: false }));
  const master = changed.filter((rule) => rule.rule_id === MASTER_RULE_ID);
  const otherDefaults = changed.filter((rule) => rule.rule_id !== MASTER_RULE_ID);
  return [...master, ...userRules, ...otherDefaults];
}

/**
 * The ruleset to evaluate and to show the user: within each kind, the master
 * rule first, then the user's rules in their order, then the other
 * server-default rules (with the user's enabled/actions changes applied).
 * Rule IDs starting with "." are reserved for server-default rules; the API
 * layer refuses them for user rules, so they are not checked here.
 */
export function mergeRulesets(defaults: PushRuleset, user: UserPushRules = {}): PushRuleset {
  const merged = {} as PushRuleset;
  for (const kind of PUSH_RULE_KINDS) merged[kind] = mergeKind(kind, defaults[kind], user);
  return merged;
}
