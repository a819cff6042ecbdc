// The server-default rules of client-server-api/modules/push.md ("Predefined
// Rules"), in the spec's order, with conditions and actions as it defines them.

import { parseUserId } from '../identifiers.js';
import type { PushAction, PushRule, PushRuleset } from './types.js';

export interface DefaultPushRuleOptions {
  /**
   * Also include the legacy mention rules that spec v1.17 removed
   * (`.m.rule.contains_display_name`, `.m.rule.roomnotif`,
   * `.m.rule.contains_user_name`), for clients that still mention by name in
   * `body` without `m.mentions`. Off by default, as in the current spec.
   * The evaluator skips them for events that carry `m.mentions`
   * (mentions.md: "those push rules were disabled if the `m.mentions` field
   * was present").
   */
  legacyMentionRules?: boolean;
}

/** The rule IDs of the legacy body-mention rules (see `legacyMentionRules`). */
export const LEGACY_MENTION_RULE_IDS: ReadonlySet<string> = new Set([
  '.m.rule.contains_display_name',
  '.m.rule.roomnotif',
  '.m.rule.contains_user_name',
]);

const soundDefault = (): PushAction => ({ set_tweak: 'sound', value: 'default' });
const highlight = (): PushAction => ({ set_tweak: 'highlight' });

function rule(rule_id: string, conditions: PushRule['conditions'], actions: PushAction[], enabled = true): PushRule {
  return { rule_id, default: true, enabled, conditions, actions };
}

function overrideRules(userId: string, legacy: boolean): PushRule[] {
  const rules: PushRule[] = [
    rule('.m.rule.master', [], [], false),
    rule('.m.rule.suppress_notices', [{ kind: 'event_match', key: 'content.msgtype', pattern: 'm.notice' }], []),
    rule(
      '.m.rule.invite_for_me',
      [
        { key: 'type', kind: 'event_match', pattern: 'm.room.member' },
        { key: 'content.membership', kind: 'event_match', pattern: 'invite' },
        { key: 'state_key', kind: 'event_match', pattern: userId },
      ],
      ['notify', soundDefault()],
    ),
    rule('.m.rule.member_event', [{ key: 'type', kind: 'event_match', pattern: 'm.room.member' }], []),
    rule(
      '.m.rule.is_user_mention',
      [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: userId }],
      ['notify', soundDefault(), highlight()],
    ),
  ];
  if (legacy) {
    rules.push(rule('.m.rule.contains_display_name', [{ kind: 'contains_display_name' }], ['notify', soundDefault(), highlight()]));
  }
  rules.push(
    rule(
      '.m.rule.is_room_mention',
      [
        { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
        { kind: 'sender_notification_permission', key: 'room' },
      ],
      ['notify', highlight()],
    ),
  );
  if (legacy) {
    rules.push(
      rule(
        '.m.rule.roomnotif',
        [
          { kind: 'event_match', key: 'content.body', pattern: '@room' },
          { kind: 'sender_notification_permission', key: 'room' },
        ],
        ['notify', highlight()],
      ),
    );
  }
  rules.push(
    rule(
      '.m.rule.tombstone',
      [
        { kind: 'event_match', key: 'type', pattern: 'm.room.tombstone' },
        { kind: 'event_match', key: 'state_key', pattern: '' },
      ],
      ['notify', highlight()],
    ),
    rule('.m.rule.reaction', [{ kind: 'event_match', key: 'type', pattern: 'm.reaction' }], []),
    rule(
      '.m.rule.room.server_acl',
      [
        { kind: 'event_match', key: 'type', pattern: 'm.room.server_acl' },
        { kind: 'event_match', key: 'state_key', pattern: '' },
      ],
      [],
    ),
    rule(
      '.m.rule.suppress_edits',
      [{ kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' }],
      [],
    ),
  );
  return rules;
}

function contentRules(userId: string, legacy: boolean): PushRule[] {
  if (!legacy) return [];
  const localpart = parseUserId(userId)?.localpart;
  if (localpart === undefined) {
    throw new Error(`Cannot build the .m.rule.contains_user_name push rule: ${JSON.stringify(userId)} is not a user ID.`);
  }
  return [
    {
      rule_id: '.m.rule.contains_user_name',
      default: true,
      enabled: true,
      pattern: localpart,
      actions: ['notify', soundDefault(), highlight()],
    },
  ];
}

function underrideRules(): PushRule[] {
  return [
    rule('.m.rule.call', [{ key: 'type', kind: 'event_match', pattern: 'm.call.invite' }], [
      'notify',
      { set_tweak: 'sound', value: 'ring' },
    ]),
    rule(
      '.m.rule.encrypted_room_one_to_one',
      [
        { kind: 'room_member_count', is: '2' },
        { kind: 'event_match', key: 'type', pattern: 'm.room.encrypted' },
      ],
      ['notify', soundDefault()],
    ),
    rule(
      '.m.rule.room_one_to_one',
      [
        { kind: 'room_member_count', is: '2' },
        { kind: 'event_match', key: 'type', pattern: 'm.room.message' },
      ],
      ['notify', soundDefault()],
    ),
    rule('.m.rule.message', [{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }], ['notify']),
    rule('.m.rule.encrypted', [{ kind: 'event_match', key: 'type', pattern: 'm.room.encrypted' }], ['notify']),
  ];
}

/**
 * The server-default rules for `userId`. Every call returns fresh objects, so
 * callers may change them (e.g. to apply a user's enabled/actions changes).
 */
export function defaultPushRules(userId: string, options: DefaultPushRuleOptions = {}): PushRuleset {
  const legacy = options.legacyMentionRules ?? false;
  return {
    override: overrideRules(userId, legacy),
    content: contentRules(userId, legacy),
    room: [],
    sender: [],
    underride: underrideRules(),
  };
}
