import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../../src/core/types.js';
import { RoomPowerLevels } from '../../src/core/power-levels.js';
import { roomVersion } from '../../src/core/room-versions.js';
import {
  defaultPushRules,
  evaluatePushRules,
  type PushContext,
  type PushEvent,
  type PushRuleset,
} from '../../src/core/push-rules/index.js';

const ME = '@alice:example.org';
const BOB = '@bob:example.org';
const MOD = '@mod:example.org';
const ROOM = '!room:example.org';

const powerLevels = RoomPowerLevels.fromEvents(
  { content: { users: { [MOD]: 50 }, users_default: 0 } },
  { sender: MOD, content: { room_version: '10' } },
  roomVersion('10')!,
);

function ctx(overrides: Partial<PushContext> = {}): PushContext {
  return { userId: ME, displayName: 'Alice', roomMemberCount: 5, powerLevels, ...overrides };
}

function message(content: JsonObject, extra: Partial<PushEvent> = {}): PushEvent {
  return { type: 'm.room.message', sender: BOB, room_id: ROOM, content: { msgtype: 'm.text', ...content }, ...extra };
}

const rules = defaultPushRules(ME);
const legacyRules = defaultPushRules(ME, { legacyMentionRules: true });

function evaluate(event: PushEvent, context: PushContext = ctx(), ruleset: PushRuleset = rules) {
  return evaluatePushRules(event, ruleset, context);
}

describe('defaultPushRules', () => {
  test('lists the spec rules in the spec order', () => {
    assert.deepEqual(
      rules.override.map((r) => r.rule_id),
      [
        '.m.rule.master',
        '.m.rule.suppress_notices',
        '.m.rule.invite_for_me',
        '.m.rule.member_event',
        '.m.rule.is_user_mention',
        '.m.rule.is_room_mention',
        '.m.rule.tombstone',
        '.m.rule.reaction',
        '.m.rule.room.server_acl',
        '.m.rule.suppress_edits',
      ],
    );
    assert.deepEqual(rules.content, []);
    assert.deepEqual(rules.room, []);
    assert.deepEqual(rules.sender, []);
    assert.deepEqual(
      rules.underride.map((r) => r.rule_id),
      [
        '.m.rule.call',
        '.m.rule.encrypted_room_one_to_one',
        '.m.rule.room_one_to_one',
        '.m.rule.message',
        '.m.rule.encrypted',
      ],
    );
  });

  test('all are server-default rules; only the master rule starts disabled', () => {
    for (const kind of ['override', 'content', 'underride'] as const) {
      for (const rule of legacyRules[kind]) {
        assert.equal(rule.default, true, rule.rule_id);
        assert.ok(rule.rule_id.startsWith('.'), rule.rule_id);
        assert.equal(rule.enabled, rule.rule_id !== '.m.rule.master', rule.rule_id);
      }
    }
  });

  test('definitions match the spec JSON', () => {
    const byId = (id: string) => rules.override.find((r) => r.rule_id === id);
    assert.deepEqual(byId('.m.rule.master'), {
      rule_id: '.m.rule.master',
      default: true,
      enabled: false,
      conditions: [],
      actions: [],
    });
    assert.deepEqual(byId('.m.rule.is_user_mention'), {
      rule_id: '.m.rule.is_user_mention',
      default: true,
      enabled: true,
      conditions: [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: ME }],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
    });
    assert.deepEqual(byId('.m.rule.invite_for_me')?.conditions?.[2], {
      key: 'state_key',
      kind: 'event_match',
      pattern: ME,
    });
    assert.deepEqual(rules.underride[0]?.actions, ['notify', { set_tweak: 'sound', value: 'ring' }]);
  });

  test('returns fresh objects each call', () => {
    const a = defaultPushRules(ME);
    a.override[4]!.actions.push('coalesce');
    assert.equal(defaultPushRules(ME).override[4]!.actions.length, 3);
  });

  test('legacy mention rules are opt-in and placed where they used to be', () => {
    assert.deepEqual(
      legacyRules.override.map((r) => r.rule_id).slice(4, 8),
      ['.m.rule.is_user_mention', '.m.rule.contains_display_name', '.m.rule.is_room_mention', '.m.rule.roomnotif'],
    );
    assert.deepEqual(legacyRules.content, [
      {
        rule_id: '.m.rule.contains_user_name',
        default: true,
        enabled: true,
        pattern: 'alice',
        actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
      },
    ]);
  });

  test('legacy rules need a user ID to take the localpart from', () => {
    assert.throws(() => defaultPushRules('alice', { legacyMentionRules: true }), /not a user ID/);
  });
});

describe('default rules in action', () => {
  test('a plain group message notifies without sound or highlight (.m.rule.message)', () => {
    const result = evaluate(message({ body: 'hello' }));
    assert.equal(result.ruleId, '.m.rule.message');
    assert.equal(result.kind, 'underride');
    assert.equal(result.notify, true);
    assert.equal(result.highlight, false);
    assert.equal(result.sound, undefined);
  });

  test('the master rule, once enabled, silences everything, mentions included', () => {
    const muted = defaultPushRules(ME);
    muted.override[0]!.enabled = true;
    const result = evaluate(message({ body: 'hi', 'm.mentions': { user_ids: [ME] } }), ctx(), muted);
    assert.equal(result.ruleId, '.m.rule.master');
    assert.equal(result.notify, false);
    assert.deepEqual(result.actions, []);
  });

  test('notices are suppressed, other msgtypes are not', () => {
    assert.equal(evaluate(message({ msgtype: 'm.notice', body: 'bot says' })).ruleId, '.m.rule.suppress_notices');
    assert.equal(evaluate(message({ msgtype: 'm.notice', body: 'x' })).notify, false);
    assert.equal(evaluate(message({ msgtype: 'm.noticeboard', body: 'x' })).ruleId, '.m.rule.message');
  });

  test('an invite for me notifies with sound; an invite for someone else does not', () => {
    const invite = (target: string): PushEvent => ({
      type: 'm.room.member',
      sender: BOB,
      room_id: ROOM,
      state_key: target,
      content: { membership: 'invite' },
    });
    const mine = evaluate(invite(ME));
    assert.equal(mine.ruleId, '.m.rule.invite_for_me');
    assert.equal(mine.notify, true);
    assert.equal(mine.sound, 'default');
    assert.equal(mine.highlight, false);
    const theirs = evaluate(invite('@carol:example.org'));
    assert.equal(theirs.ruleId, '.m.rule.member_event');
    assert.equal(theirs.notify, false);
  });

  test('other membership events are silent (.m.rule.member_event)', () => {
    const join: PushEvent = { type: 'm.room.member', sender: BOB, room_id: ROOM, state_key: BOB, content: { membership: 'join' } };
    assert.equal(evaluate(join).ruleId, '.m.rule.member_event');
    assert.equal(evaluate(join).notify, false);
  });

  test('a user mention via m.mentions.user_ids highlights with sound', () => {
    const result = evaluate(message({ body: 'hey', 'm.mentions': { user_ids: ['@x:y', ME] } }));
    assert.equal(result.ruleId, '.m.rule.is_user_mention');
    assert.equal(result.notify, true);
    assert.equal(result.highlight, true);
    assert.equal(result.sound, 'default');
    assert.deepEqual(result.tweaks, { sound: 'default', highlight: true });
  });

  test('near misses of a user mention do not highlight', () => {
    // Body text alone no longer mentions (spec v1.17 removed the legacy rules).
    assert.equal(evaluate(message({ body: 'Alice @alice:example.org alice' })).highlight, false);
    // A string instead of an array, someone else, and a key without the escaped dot.
    assert.equal(evaluate(message({ body: 'x', 'm.mentions': { user_ids: ME } })).highlight, false);
    assert.equal(evaluate(message({ body: 'x', 'm.mentions': { user_ids: [BOB] } })).highlight, false);
    assert.equal(evaluate(message({ body: 'x', m: { mentions: { user_ids: [ME] } } })).highlight, false);
  });

  test('a room mention highlights only when the sender may notify the room', () => {
    const fromMod = evaluate(message({ body: 'all', 'm.mentions': { room: true } }, { sender: MOD }));
    assert.equal(fromMod.ruleId, '.m.rule.is_room_mention');
    assert.equal(fromMod.highlight, true);
    assert.equal(fromMod.sound, undefined);
    const fromBob = evaluate(message({ body: 'all', 'm.mentions': { room: true } }));
    assert.equal(fromBob.ruleId, '.m.rule.message');
    assert.equal(fromBob.highlight, false);
    const notTrue = evaluate(message({ body: 'all', 'm.mentions': { room: 'true' } }, { sender: MOD }));
    assert.equal(notTrue.ruleId, '.m.rule.message');
  });

  test('a tombstone state event highlights; one with a state key does not', () => {
    const tombstone = (stateKey: string | undefined): PushEvent => ({
      type: 'm.room.tombstone',
      sender: MOD,
      room_id: ROOM,
      content: { body: 'moved', replacement_room: '!new:example.org' },
      ...(stateKey === undefined ? {} : { state_key: stateKey }),
    });
    const upgrade = evaluate(tombstone(''));
    assert.equal(upgrade.ruleId, '.m.rule.tombstone');
    assert.equal(upgrade.notify, true);
    assert.equal(upgrade.highlight, true);
    assert.equal(evaluate(tombstone('x')).notify, false);
    assert.equal(evaluate(tombstone(undefined)).notify, false, 'a timeline event of that type is no tombstone');
  });

  test('reactions do not notify, even in a 1:1 room', () => {
    const reaction: PushEvent = {
      type: 'm.reaction',
      sender: BOB,
      room_id: ROOM,
      content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$e', key: '👍' } },
    };
    const result = evaluate(reaction, ctx({ roomMemberCount: 2 }));
    assert.equal(result.ruleId, '.m.rule.reaction');
    assert.equal(result.notify, false);
  });

  test('server ACL changes do not notify', () => {
    const acl: PushEvent = { type: 'm.room.server_acl', sender: MOD, room_id: ROOM, state_key: '', content: { allow: ['*'] } };
    assert.equal(evaluate(acl).ruleId, '.m.rule.room.server_acl');
    assert.equal(evaluate(acl).notify, false);
  });

  test('edits are suppressed, other relations are not', () => {
    const edit = message({ body: '* fixed', 'm.relates_to': { rel_type: 'm.replace', event_id: '$e' } });
    assert.equal(evaluate(edit).ruleId, '.m.rule.suppress_edits');
    assert.equal(evaluate(edit).notify, false);
    const thread = message({ body: 'reply', 'm.relates_to': { rel_type: 'm.thread', event_id: '$e' } });
    assert.equal(evaluate(thread).ruleId, '.m.rule.message');
  });

  test('a call invite rings', () => {
    const call: PushEvent = { type: 'm.call.invite', sender: BOB, room_id: ROOM, content: { call_id: '1' } };
    const result = evaluate(call);
    assert.equal(result.ruleId, '.m.rule.call');
    assert.equal(result.sound, 'ring');
  });

  test('1:1 rooms play a sound, group rooms do not; encrypted events alike', () => {
    const encrypted: PushEvent = { type: 'm.room.encrypted', sender: BOB, room_id: ROOM, content: { algorithm: 'm.megolm.v1.aes-sha2' } };
    const dm = ctx({ roomMemberCount: 2 });
    assert.equal(evaluate(encrypted, dm).ruleId, '.m.rule.encrypted_room_one_to_one');
    assert.equal(evaluate(encrypted, dm).sound, 'default');
    assert.equal(evaluate(encrypted).ruleId, '.m.rule.encrypted');
    assert.equal(evaluate(encrypted).sound, undefined);
    assert.equal(evaluate(encrypted).notify, true);
    assert.equal(evaluate(message({ body: 'hi' }), dm).ruleId, '.m.rule.room_one_to_one');
    assert.equal(evaluate(message({ body: 'hi' }), ctx({ roomMemberCount: 3 })).ruleId, '.m.rule.message');
  });

  test('events no rule matches do not notify', () => {
    const topic: PushEvent = { type: 'm.room.topic', sender: BOB, room_id: ROOM, state_key: '', content: { topic: 'x' } };
    const result = evaluate(topic);
    assert.equal(result.ruleId, undefined);
    assert.equal(result.notify, false);
    assert.deepEqual(result.actions, []);
  });

  test("the user's own events never notify them", () => {
    const result = evaluate(message({ body: 'hi', 'm.mentions': { user_ids: [ME] } }, { sender: ME }));
    assert.equal(result.notify, false);
    assert.equal(result.ruleId, undefined);
  });
});

describe('legacy mention rules (opt-in)', () => {
  const legacy = (event: PushEvent, context: PushContext = ctx()) => evaluate(event, context, legacyRules);

  test('the display name in the body highlights, on word boundaries only', () => {
    assert.equal(legacy(message({ body: 'hi ALICE!' })).ruleId, '.m.rule.contains_display_name');
    assert.equal(legacy(message({ body: 'hi ALICE!' })).highlight, true);
    // The localpart is "alice" too, so Alicent must miss the content rule as well.
    assert.equal(legacy(message({ body: 'Alicent' })).ruleId, '.m.rule.message');
    assert.equal(legacy(message({ body: 'Alice_x' }), ctx({ displayName: 'Alice' })).ruleId, '.m.rule.message');
  });

  test('an empty or missing display name matches nothing', () => {
    const context = ctx({ displayName: '' });
    assert.notEqual(legacy(message({ body: 'anything' }), context).ruleId, '.m.rule.contains_display_name');
    assert.notEqual(legacy(message({ body: 'anything' }), ctx({ displayName: undefined })).ruleId, '.m.rule.contains_display_name');
  });

  test('the localpart in the body highlights (.m.rule.contains_user_name)', () => {
    const result = legacy(message({ body: 'ping alice.' }), ctx({ displayName: 'Al' }));
    assert.equal(result.ruleId, '.m.rule.contains_user_name');
    assert.equal(result.kind, 'content');
    assert.equal(result.highlight, true);
  });

  test('@room needs the notification power level', () => {
    assert.equal(legacy(message({ body: '@room lunch' }, { sender: MOD })).ruleId, '.m.rule.roomnotif');
    assert.equal(legacy(message({ body: '@room lunch' })).ruleId, '.m.rule.message');
  });

  test('an event with m.mentions skips the legacy rules', () => {
    const result = legacy(message({ body: 'Alice alice @room', 'm.mentions': {} }, { sender: MOD }));
    assert.equal(result.ruleId, '.m.rule.message');
    assert.equal(result.highlight, false);
  });
});
