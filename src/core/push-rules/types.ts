// The push rule data shapes of client-server-api/modules/push.md and
// data/api/client-server/definitions/push_rule.yaml, push_condition.yaml and
// push_ruleset.yaml, with the spec's own names.

import type { JsonObject, JsonValue } from '../types.js';

/** The five kinds of rule, in the order they are checked ("Push Rules"). */
export const PUSH_RULE_KINDS = ['override', 'content', 'room', 'sender', 'underride'] as const;
export type PushRuleKind = (typeof PUSH_RULE_KINDS)[number];

/** A tweak action, e.g. `{ "set_tweak": "sound", "value": "default" }`. */
export interface SetTweakAction {
  set_tweak: string;
  value?: JsonValue;
}

/**
 * `dont_notify` and `coalesce` are historical: they may still arrive from
 * clients or stored rules, and are ignored ("Historical Actions").
 */
export type PushAction = 'notify' | 'dont_notify' | 'coalesce' | SetTweakAction;

export interface PushCondition {
  kind: string;
  [key: string]: JsonValue;
}

export interface PushRule {
  rule_id: string;
  /** Whether this is a server-default rule (its rule_id starts with "."). */
  default: boolean;
  enabled: boolean;
  actions: PushAction[];
  /** Only for `override` and `underride` rules; none (or empty) always matches. */
  conditions?: PushCondition[];
  /** Only for `content` rules: the glob matched against words of `content.body`. */
  pattern?: string;
}

/** Rules of each kind, highest priority first. */
export type PushRuleset = Record<PushRuleKind, PushRule[]>;

/**
 * The event fields push rules look at. Any `Event` or client-format event
 * fits; conditions may address any property by its dotted path.
 */
export interface PushEvent {
  type: string;
  sender: string;
  content: JsonObject;
  state_key?: string;
  room_id?: string;
  event_id?: string;
  [key: string]: JsonValue | undefined;
}

/**
 * What `sender_notification_permission` needs to know about the room's power
 * levels. `RoomPowerLevels` (../power-levels.ts) provides it.
 */
export interface NotificationPermissions {
  canTriggerNotification(userId: string, key: string): boolean;
}

/** The recipient and room facts that conditions depend on, as of the event. */
export interface PushContext {
  /** The user whose rules are evaluated. */
  userId: string;
  /** The user's display name in the room (`contains_display_name`). */
  displayName?: string;
  /** Joined members of the room (`room_member_count`). */
  roomMemberCount: number;
  powerLevels: NotificationPermissions;
}

export interface PushEvaluation {
  /** The matching rule's actions without the historical ones; empty when nothing matched. */
  actions: PushAction[];
  ruleId?: string;
  kind?: PushRuleKind;
  /** Whether the event generates a notification (the actions contain `notify`). */
  notify: boolean;
  /** The `highlight` tweak of a notifying event; false when it does not notify. */
  highlight: boolean;
  /** The `sound` tweak of a notifying event, when it has a string value. */
  sound?: string;
  /** Every tweak the actions set, as sent to the push gateway (`highlight` without value is true). */
  tweaks: JsonObject;
}
