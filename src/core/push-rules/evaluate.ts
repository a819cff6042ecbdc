// Evaluating a user's push rules against one event
// (client-server-api/modules/push.md, "Push Rules" and "Conditions").

import type { JsonValue } from '../types.js';
import { actionTweaks, actionsNotify, stripHistoricalActions } from './actions.js';
import { LEGACY_MENTION_RULE_IDS } from './defaults.js';
import { containsPhrase, globMatchesWhole, globMatchesWords } from './glob.js';
import { lookupProperty } from './property-path.js';
import {
  PUSH_RULE_KINDS,
  type PushCondition,
  type PushContext,
  type PushEvaluation,
  type PushEvent,
  type PushRule,
  type PushRuleKind,
  type PushRuleset,
} from './types.js';

function nothing(): PushEvaluation {
  return { actions: [], notify: false, highlight: false, tweaks: {} };
}

/** Strings, booleans, null and integers in canonical JSON's range: what exact-value conditions compare. */
function isScalar(value: JsonValue | undefined): value is string | number | boolean | null {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return value === null || typeof value === 'string' || typeof value === 'boolean';
}

function scalarEquals(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return isScalar(a) && isScalar(b) && a === b;
}

/** `content.body` is matched word by word, every other key against its whole value. */
function eventMatch(event: PushEvent, condition: PushCondition): boolean {
  const { key, pattern } = condition;
  if (typeof key !== 'string' || typeof pattern !== 'string') return false;
  const value = lookupProperty(event, key);
  if (typeof value !== 'string') return false;
  return key === 'content.body' ? globMatchesWords(pattern, value) : globMatchesWhole(pattern, value);
}

function eventPropertyIs(event: PushEvent, condition: PushCondition): boolean {
  if (typeof condition.key !== 'string') return false;
  return scalarEquals(lookupProperty(event, condition.key), condition.value);
}

function eventPropertyContains(event: PushEvent, condition: PushCondition): boolean {
  if (typeof condition.key !== 'string' || !isScalar(condition.value)) return false;
  const array = lookupProperty(event, condition.key);
  return Array.isArray(array) && array.some((item) => scalarEquals(item, condition.value));
}

function containsDisplayName(event: PushEvent, ctx: PushContext): boolean {
  const body = event.content['body'];
  return typeof body === 'string' && ctx.displayName !== undefined && containsPhrase(ctx.displayName, body);
}

const MEMBER_COUNT = /^(==|<=|>=|<|>)?([0-9]+)$/;

/** `is`: a decimal integer optionally prefixed by ==, <, >, >= or <=; no prefix means ==. */
function roomMemberCount(condition: PushCondition, count: number): boolean {
  if (typeof condition.is !== 'string') return false;
  const match = MEMBER_COUNT.exec(condition.is);
  if (match === null) return false;
  const target = Number(match[2]);
  switch (match[1]) {
    case '<':
      return count < target;
    case '>':
      return count > target;
    case '<=':
      return count <= target;
    case '>=':
      return count >= target;
    default:
      return count === target;
  }
}

function senderNotificationPermission(event: PushEvent, condition: PushCondition, ctx: PushContext): boolean {
  return typeof condition.key === 'string' && ctx.powerLevels.canTriggerNotification(event.sender, condition.key);
}

/** "Unrecognised conditions MUST NOT match any events." */
function conditionHolds(event: PushEvent, condition: PushCondition, ctx: PushContext): boolean {
  switch (condition.kind) {
    case 'event_match':
      return eventMatch(event, condition);
    case 'event_property_is':
      return eventPropertyIs(event, condition);
    case 'event_property_contains':
      return eventPropertyContains(event, condition);
    case 'contains_display_name':
      return containsDisplayName(event, ctx);
    case 'room_member_count':
      return roomMemberCount(condition, ctx.roomMemberCount);
    case 'sender_notification_permission':
      return senderNotificationPermission(event, condition, ctx);
    default:
      return false;
  }
}

/** Content, room and sender rules have predefined conditions; the others list theirs. */
function ruleMatches(kind: PushRuleKind, rule: PushRule, event: PushEvent, ctx: PushContext): boolean {
  switch (kind) {
    case 'content': {
      const body = event.content['body'];
      return typeof rule.pattern === 'string' && typeof body === 'string' && globMatchesWords(rule.pattern, body);
    }
    case 'room':
      return event.room_id === rule.rule_id;
    case 'sender':
      return event.sender === rule.rule_id;
    default:
      return (rule.conditions ?? []).every((condition) => conditionHolds(event, condition, ctx));
  }
}

/**
 * Legacy body-mention rules were "disabled if the `m.mentions` field was
 * present" (mentions.md), so that an intentional-mentions client is not
 * second-guessed by matching names in the body.
 */
function isSkippedLegacyRule(rule: PushRule, event: PushEvent): boolean {
  return rule.default && LEGACY_MENTION_RULE_IDS.has(rule.rule_id) && Object.hasOwn(event.content, 'm.mentions');
}

function firstMatch(
  event: PushEvent,
  ruleset: PushRuleset,
  ctx: PushContext,
): { kind: PushRuleKind; rule: PushRule } | undefined {
  for (const kind of PUSH_RULE_KINDS) {
    for (const rule of ruleset[kind]) {
      if (!rule.enabled || isSkippedLegacyRule(rule, event)) continue;
      if (ruleMatches(kind, rule, event, ctx)) return { kind, rule };
    }
  }
  return undefined;
}

/**
 * What `ctx.userId`'s rules say about `event`: the actions of the first
 * enabled rule that matches, checking kinds in the spec's order. A user's own
 * events never notify them ("Homeservers MUST NOT notify the Push Gateway for
 * events that the user has sent themselves").
 */
export function evaluatePushRules(event: PushEvent, ruleset: PushRuleset, ctx: PushContext): PushEvaluation {
  if (event.sender === ctx.userId) return nothing();
  const match = firstMatch(event, ruleset, ctx);
  if (match === undefined) return nothing();
  const actions = stripHistoricalActions(match.rule.actions);
  const notify = actionsNotify(actions);
  const tweaks = actionTweaks(actions);
  const sound = tweaks['sound'];
  return {
    actions,
    ruleId: match.rule.rule_id,
    kind: match.kind,
    notify,
    highlight: notify && tweaks['highlight'] === true,
    ...(notify && typeof sound === 'string' ? { sound } : {}),
    tweaks,
  };
}
