// Push rules (client-server-api/modules/push.md) as pure functions.

export * from './types.js';
export { defaultPushRules, LEGACY_MENTION_RULE_IDS, type DefaultPushRuleOptions } from './defaults.js';
export { mergeRulesets, type DefaultRuleChange, type UserPushRules } from './merge.js';
export { evaluatePushRules } from './evaluate.js';
export { actionTweaks, actionsNotify, stripHistoricalActions } from './actions.js';
export { globMatchesWhole, globMatchesWords, containsPhrase } from './glob.js';
export { lookupProperty, parsePropertyPath } from './property-path.js';
export { parsePushActions, parsePushConditions, type Parsed } from './validation.js';
