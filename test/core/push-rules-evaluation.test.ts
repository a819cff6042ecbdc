import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, JsonObject } from '../../src/core/types.js';
import {
  actionTweaks,
  containsPhrase,
  defaultPushRules,
  evaluatePushRules,
  globMatchesWhole,
  globMatchesWords,
  lookupProperty,
  mergeRulesets,
  parsePropertyPath,
  stripHistoricalActions,
  type PushCondition,
  type PushContext,
  type PushEvent,
  type PushRule,
  type PushRuleset,
} from '../../src/core/push-rules/index.js';

const ME = '@alice:example.org';
const BOB = '@bob:example.org';
const ROOM = '!room:example.org';

const levels: Record<string, number> = { [BOB]: 0, '@mod:example.org': 50 };
const ctx: PushContext = {
  userId: ME,
  displayName: 'Alice',
  roomMemberCount: 10,
  powerLevels: {
    canTriggerNotification: (userId, key) => (levels[userId] ?? 0) >= (key === 'room' ? 50 : 100),
  },
};

function event(content: JsonObject, extra: Partial<PushEvent> = {}): PushEvent {
  return { type: 'm.room.message', sender: BOB, room_id: ROOM, content, ...extra };
}

function emptyRuleset(): PushRuleset {
  return { override: [], content: [], room: [], sender: [], underride: [] };
}

function overrideRule(conditions: PushCondition[], rule_id = 'custom'): PushRule {
  return { rule_id, default: false, enabled: true, conditions, actions: ['notify'] };
}

/** Whether a single user override rule with these conditions matches the event. */
function holds(conditions: PushCondition[], ev: PushEvent, context: PushContext = ctx): boolean {
  const ruleset = emptyRuleset();
  ruleset.override.push(overrideRule(conditions));
  return evaluatePushRules(ev, ruleset, context).ruleId === 'custom';
}

describe('glob matching', () => {
  test('the spec examples for a whole value', () => {
    for (const topic of ['Lunch plans', 'LUNCH', 'lunch']) assert.ok(globMatchesWhole('lunc?*', topic), topic);
    for (const topic of [' lunch', 'lunc']) assert.ok(!globMatchesWhole('lunc?*', topic), topic);
  });

  test('the spec examples for content.body', () => {
    for (const body of ['An example event.', 'exple', 'An exciting triple-whammy']) {
      assert.ok(globMatchesWords('ex*ple', body), body);
    }
    assert.ok(!globMatchesWords('ex*ple', 'An examples event'));
    assert.ok(!globMatchesWords('ex*ple', 'reexample'));
  });

  test('regular expression characters are literal', () => {
    assert.ok(globMatchesWhole('a.b+c(d)[e]{2}|f^$\\g/-', 'a.b+c(d)[e]{2}|f^$\\g/-'));
    assert.ok(!globMatchesWhole('a.c', 'abc'));
    assert.ok(!globMatchesWhole('a|b', 'a'));
  });

  test('? is exactly one character, including one beyond the BMP; * may be empty', () => {
    assert.ok(globMatchesWhole('a?c', 'a😀c'));
    assert.ok(!globMatchesWhole('a?c', 'ac'));
    assert.ok(globMatchesWhole('a*c', 'ac'));
    assert.ok(globMatchesWhole('*', ''));
    assert.ok(!globMatchesWhole('', 'x'));
    assert.ok(globMatchesWhole('', ''));
  });

  test('wildcards cross line breaks and case folds beyond ASCII', () => {
    assert.ok(globMatchesWhole('a*b', 'a\nb'));
    assert.ok(globMatchesWhole('ÉCOLE', 'école'));
  });

  test('word boundaries: anything outside [A-Za-z0-9_] and the ends of the value', () => {
    assert.ok(globMatchesWords('cake', 'cake'));
    assert.ok(globMatchesWords('cake', 'I like cake!'));
    assert.ok(globMatchesWords('cake', 'é-cake-é'));
    assert.ok(!globMatchesWords('cake', 'cakes'));
    assert.ok(!globMatchesWords('cake', 'cake_lover'));
    assert.ok(!globMatchesWords('cake', 'cupcake'));
    assert.ok(globMatchesWords('@room', 'hi @room'));
  });

  test('display names match on word boundaries, literally, and never when empty', () => {
    assert.ok(containsPhrase('Alice', 'hey alice, lunch?'));
    assert.ok(containsPhrase('A.B*', 'ping a.b*!'));
    assert.ok(!containsPhrase('A.B*', 'ping axb*'));
    assert.ok(!containsPhrase('Alice', 'Alice2'));
    assert.ok(!containsPhrase('', 'anything'));
  });
});

describe('dot-separated property paths', () => {
  test('escapes: \\. is a dot, \\\\ a backslash, other escapes stay', () => {
    assert.deepEqual(parsePropertyPath('content.m\\.relates_to.rel_type'), ['content', 'm.relates_to', 'rel_type']);
    assert.deepEqual(parsePropertyPath('content.m\\\\foo'), ['content', 'm\\foo']);
    assert.deepEqual(parsePropertyPath('content.m\\\\.foo'), ['content', 'm\\', 'foo']);
    assert.deepEqual(parsePropertyPath('content.\\x'), ['content', '\\x']);
    assert.deepEqual(parsePropertyPath('a..b'), ['a', '', 'b']);
  });

  test('lookup follows objects only and own properties only', () => {
    const ev = event({ 'm.mentions': { user_ids: [ME] }, list: [{ a: 1 }], 'm\\foo': 'x', 'a.b': { c: 2 } });
    assert.deepEqual(lookupProperty(ev, 'content.m\\.mentions.user_ids'), [ME]);
    assert.equal(lookupProperty(ev, 'content.m.mentions.user_ids'), undefined);
    assert.equal(lookupProperty(ev, 'content.m\\\\foo'), 'x');
    assert.equal(lookupProperty(ev, 'content.a\\.b.c'), 2);
    assert.equal(lookupProperty(ev, 'content.list.0.a'), undefined);
    assert.equal(lookupProperty(ev, 'content.constructor'), undefined);
    assert.equal(lookupProperty(ev, 'content.__proto__'), undefined);
    assert.equal(lookupProperty(ev, 'type'), 'm.room.message');
  });
});

describe('conditions', () => {
  test('event_match needs a string value, even for *', () => {
    assert.ok(holds([{ kind: 'event_match', key: 'content.topic', pattern: '*' }], event({ topic: '' })));
    assert.ok(!holds([{ kind: 'event_match', key: 'content.topic', pattern: '*' }], event({ topic: null })));
    assert.ok(!holds([{ kind: 'event_match', key: 'content.topic', pattern: '*' }], event({ topic: 3 })));
    assert.ok(!holds([{ kind: 'event_match', key: 'content.topic', pattern: '*' }], event({})));
    assert.ok(!holds([{ kind: 'event_match', key: 'content.topic' }], event({ topic: 'x' })));
  });

  test('event_match on content.body matches words; on other keys the whole value', () => {
    assert.ok(holds([{ kind: 'event_match', key: 'content.body', pattern: 'beer' }], event({ body: 'Beer o’clock' })));
    assert.ok(!holds([{ kind: 'event_match', key: 'content.text', pattern: 'beer' }], event({ text: 'Beer time' })));
  });

  test('event_property_is compares exactly, without casting', () => {
    const create = event({ 'm.federate': true, n: 1, s: 'true', z: null, f: 1.5 }, { type: 'm.room.create', state_key: '' });
    const is = (key: string, value: PushCondition[string]) => holds([{ kind: 'event_property_is', key, value }], create);
    assert.ok(is('content.m\\.federate', true));
    assert.ok(!is('content.m\\.federate', 'true'));
    assert.ok(!is('content.m\\.federate', 1));
    assert.ok(is('content.n', 1));
    assert.ok(!is('content.n', true));
    assert.ok(is('content.s', 'true'));
    assert.ok(is('content.z', null));
    assert.ok(!is('content.missing', null));
    assert.ok(!is('content.f', 1.5), 'floats are not canonical JSON');
    assert.ok(!is('content', {}), 'compound values never match');
  });

  test('event_property_contains needs an array holding the exact value', () => {
    const alias = event({ alt_aliases: ['#somewhere:example.org', '#myroom:example.com', 3, { a: 1 }] });
    const contains = (value: PushCondition[string], key = 'content.alt_aliases') =>
      holds([{ kind: 'event_property_contains', key, value }], alias);
    assert.ok(contains('#myroom:example.com'));
    assert.ok(!contains(':example.com'));
    assert.ok(!contains('#MYROOM:example.com'));
    assert.ok(contains(3));
    assert.ok(!contains('3'));
    assert.ok(!contains({ a: 1 }));
    assert.ok(!holds([{ kind: 'event_property_contains', key: 'content.s', value: 'a' }], event({ s: 'abc' })));
  });

  test('room_member_count understands ==, <, >, <=, >= and no prefix', () => {
    const count = (is: string, members: number) =>
      holds([{ kind: 'room_member_count', is }], event({}), { ...ctx, roomMemberCount: members });
    assert.ok(count('2', 2));
    assert.ok(!count('2', 3));
    assert.ok(count('==10', 10));
    assert.ok(count('<10', 9) && !count('<10', 10));
    assert.ok(count('>10', 11) && !count('>10', 10));
    assert.ok(count('<=10', 10) && !count('<=10', 11));
    assert.ok(count('>=10', 10) && !count('>=10', 9));
    for (const bad of ['', '=2', '=>2', '2.0', ' 2', 'two', '!=2']) assert.ok(!count(bad, 2), bad);
  });

  test('sender_notification_permission asks the power levels about the sender', () => {
    const condition: PushCondition = { kind: 'sender_notification_permission', key: 'room' };
    assert.ok(holds([condition], event({}, { sender: '@mod:example.org' })));
    assert.ok(!holds([condition], event({})));
    assert.ok(!holds([{ kind: 'sender_notification_permission', key: 'other' }], event({}, { sender: '@mod:example.org' })));
  });

  test('contains_display_name looks at content.body', () => {
    assert.ok(holds([{ kind: 'contains_display_name' }], event({ body: 'thanks Alice' })));
    assert.ok(!holds([{ kind: 'contains_display_name' }], event({ body: 'thanks Alicia' })));
    assert.ok(!holds([{ kind: 'contains_display_name' }], event({ body: 'x' }), { ...ctx, displayName: '' }));
  });

  test('unknown conditions never match; all conditions must hold; none always matches', () => {
    assert.ok(!holds([{ kind: 'related_event_match', key: 'x', pattern: '*' }], event({})));
    assert.ok(!holds([{ kind: 'room_member_count', is: '10' }, { kind: 'nope' }], event({})));
    assert.ok(holds([], event({})));
  });
});

describe('rule kinds and precedence', () => {
  test('room and sender rules match by rule ID; content rules by words of the body', () => {
    const ruleset = emptyRuleset();
    ruleset.room.push({ rule_id: ROOM, default: false, enabled: true, actions: [] });
    ruleset.sender.push({ rule_id: BOB, default: false, enabled: true, actions: ['notify'] });
    ruleset.content.push({ rule_id: 'cake', default: false, enabled: true, pattern: 'cake*lie', actions: ['notify'] });
    assert.equal(evaluatePushRules(event({ body: 'the cake is a lie' }), ruleset, ctx).ruleId, 'cake');
    assert.equal(evaluatePushRules(event({ body: 'hi' }), ruleset, ctx).ruleId, ROOM);
    assert.equal(evaluatePushRules(event({ body: 'hi' }, { room_id: '!other:x' }), ruleset, ctx).ruleId, BOB);
    assert.equal(evaluatePushRules(event({ body: 'hi' }, { room_id: '!other:x', sender: '@c:x' }), ruleset, ctx).ruleId, undefined);
  });

  test('a full PDU can be evaluated as it is', () => {
    const pdu: Event = {
      event_id: '$e',
      room_id: ROOM,
      sender: BOB,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'hi' },
      origin_server_ts: 1,
      depth: 3,
      prev_events: [],
      auth_events: [],
      hashes: { sha256: 'x' },
      signatures: {},
    };
    assert.equal(evaluatePushRules(pdu, defaultPushRules(ME), ctx).ruleId, '.m.rule.message');
  });

  test('a content rule without a pattern or a body without a string never matches', () => {
    const ruleset = emptyRuleset();
    ruleset.content.push({ rule_id: 'broken', default: false, enabled: true, actions: ['notify'] });
    ruleset.content.push({ rule_id: 'star', default: false, enabled: true, pattern: '*', actions: ['notify'] });
    assert.equal(evaluatePushRules(event({ body: 'x' }), ruleset, ctx).ruleId, 'star');
    assert.equal(evaluatePushRules(event({ body: 5 }), ruleset, ctx).ruleId, undefined);
  });

  test('disabled rules are skipped', () => {
    const ruleset = defaultPushRules(ME);
    ruleset.underride.find((r) => r.rule_id === '.m.rule.message')!.enabled = false;
    assert.equal(evaluatePushRules(event({ body: 'x', msgtype: 'm.text' }), ruleset, ctx).notify, false);
  });

  test('historical actions are stripped and ignored', () => {
    assert.deepEqual(stripHistoricalActions(['dont_notify', 'notify', 'coalesce']), ['notify']);
    const ruleset = emptyRuleset();
    ruleset.override.push({ rule_id: 'old', default: false, enabled: true, conditions: [], actions: ['dont_notify'] });
    const result = evaluatePushRules(event({}), ruleset, ctx);
    assert.equal(result.ruleId, 'old');
    assert.deepEqual(result.actions, []);
    assert.equal(result.notify, false);
  });

  test('tweaks: highlight without value is true; explicit false is false; other tweaks pass through', () => {
    assert.deepEqual(actionTweaks(['notify', { set_tweak: 'highlight' }]), { highlight: true });
    assert.deepEqual(actionTweaks([{ set_tweak: 'highlight', value: false }, { set_tweak: 'led', value: 'red' }]), {
      highlight: false,
      led: 'red',
    });
    const ruleset = emptyRuleset();
    ruleset.override.push({
      rule_id: 'quiet-highlight',
      default: false,
      enabled: true,
      conditions: [],
      actions: [{ set_tweak: 'highlight' }, { set_tweak: 'sound', value: 'x' }],
    });
    const result = evaluatePushRules(event({}), ruleset, ctx);
    assert.equal(result.notify, false);
    assert.equal(result.highlight, false, 'only a notifying event highlights');
    assert.equal(result.sound, undefined);
  });
});

describe('mergeRulesets', () => {
  const defaults = defaultPushRules(ME);

  test('user rules come before server-default rules of the same kind, master first', () => {
    const mine = overrideRule([{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }], 'mute-messages');
    mine.actions = [];
    const merged = mergeRulesets(defaults, { rules: { override: [mine] } });
    assert.deepEqual(merged.override.slice(0, 3).map((r) => r.rule_id), ['.m.rule.master', 'mute-messages', '.m.rule.suppress_notices']);
    assert.equal(merged.override.length, defaults.override.length + 1);
    const mention = event({ body: 'x', 'm.mentions': { user_ids: [ME] } });
    assert.equal(evaluatePushRules(mention, merged, ctx).ruleId, 'mute-messages');
    assert.equal(evaluatePushRules(mention, merged, ctx).notify, false);
  });

  test('an enabled master rule beats the user rules', () => {
    const loud = overrideRule([], 'everything');
    const merged = mergeRulesets(defaults, {
      rules: { override: [loud] },
      defaultChanges: { override: { '.m.rule.master': { enabled: true } } },
    });
    assert.equal(evaluatePushRules(event({ body: 'x' }), merged, ctx).ruleId, '.m.rule.master');
  });

  test('user underride rules come before the default underride rules', () => {
    const mine: PushRule = { ...overrideRule([{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }], 'u'), actions: [] };
    const merged = mergeRulesets(defaults, { rules: { underride: [mine] } });
    assert.equal(merged.underride[0]?.rule_id, 'u');
    assert.equal(evaluatePushRules(event({ body: 'x' }), merged, ctx).ruleId, 'u');
  });

  test("the user's changes to default rules apply to enabled and actions only", () => {
    const merged = mergeRulesets(defaults, {
      defaultChanges: {
        override: { '.m.rule.suppress_notices': { enabled: false } },
        underride: { '.m.rule.message': { actions: ['notify', { set_tweak: 'sound', value: 'ping' }] } },
      },
    });
    const notice = event({ msgtype: 'm.notice', body: 'bot' });
    const result = evaluatePushRules(notice, merged, ctx);
    assert.equal(result.ruleId, '.m.rule.message');
    assert.equal(result.sound, 'ping');
    assert.equal(merged.override[1]?.default, true);
    assert.deepEqual(defaults.underride[3]?.actions, ['notify'], 'the defaults are not mutated');
  });

  test('user rules are marked as not default; with no user rules the defaults come back as they were', () => {
    const merged = mergeRulesets(defaults, { rules: { sender: [{ rule_id: BOB, default: true, enabled: true, actions: [] }] } });
    assert.equal(merged.sender[0]?.default, false);
    assert.deepEqual(mergeRulesets(defaults), defaults);
  });
});
