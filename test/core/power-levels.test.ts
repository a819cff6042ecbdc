import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../../src/core/types.js';
import {
  RoomPowerLevels,
  isValidUserIdForAuth,
  parsePowerLevelValue,
  parsePowerLevelsContent,
  powerLevelsChangeDenial,
  roomCreators,
} from '../../src/core/power-levels.js';
import { rulesFor } from './fixtures/auth-room.js';

const ALICE = '@alice:a';
const BOB = '@bob:b';
const CAROL = '@carol:c';
const v1 = rulesFor('1');
const v6 = rulesFor('6');
const v9 = rulesFor('9');
const v10 = rulesFor('10');
const v11 = rulesFor('11');
const v12 = rulesFor('12');

const create = (content: JsonObject, sender = ALICE) => ({ sender, content });
const pl = (content: JsonObject) => ({ content });

describe('parsePowerLevelValue', () => {
  test('integers are accepted in every version', () => {
    for (const rules of [v1, v9, v10, v12]) assert.equal(parsePowerLevelValue(42, rules), 42);
  });

  test('integer strings in the stringy format are accepted up to v9', () => {
    for (const [text, value] of [['100', 100], ['000100', 100], ['+100', 100], ['-100', -100], [' 100 ', 100], [' +0100\t', 100]] as const) {
      assert.equal(parsePowerLevelValue(text, v9), value, JSON.stringify(text));
      assert.equal(parsePowerLevelValue(text, v10), undefined, JSON.stringify(text));
    }
  });

  test('strings that are not integers are refused', () => {
    for (const text of ['1.5', '1e3', '', ' ', '+-1', 'ten', '0x10']) assert.equal(parsePowerLevelValue(text, v1), undefined, text);
  });

  test('floats are truncated in v1–5 and refused from v6', () => {
    assert.equal(parsePowerLevelValue(50.57, v1), 50);
    assert.equal(parsePowerLevelValue(-50.57, v1), -50);
    assert.equal(parsePowerLevelValue(5.114698e4, v1), 51146);
    assert.equal(parsePowerLevelValue(50.57, v6), undefined);
    assert.equal(parsePowerLevelValue(Infinity, v1), undefined);
  });

  test('other JSON values are refused', () => {
    for (const value of [true, null, [], {}]) assert.equal(parsePowerLevelValue(value, v1), undefined);
  });

  test('v6+ refuse integers outside the canonical JSON range', () => {
    assert.equal(parsePowerLevelValue(2 ** 60, v6), undefined);
    assert.equal(parsePowerLevelValue(2 ** 60, v1), 2 ** 60);
  });
});

describe('parsePowerLevelsContent', () => {
  test('keeps well-formed values and names the malformed ones', () => {
    const parsed = parsePowerLevelsContent({ ban: 'x', kick: 60, users: { [ALICE]: 100, nobody: 5 }, events: { 'm.room.name': 'ten' } }, v9);
    assert.deepEqual(parsed.content.levels, { kick: 60 });
    assert.deepEqual([...parsed.content.users], [[ALICE, 100]]);
    assert.equal(parsed.content.events.size, 0);
    assert.equal(parsed.problems.length, 3);
  });
});

describe('isValidUserIdForAuth', () => {
  test('accepts historical localparts, refuses what is not a user ID', () => {
    assert.ok(isValidUserIdForAuth('@alice:example.org'));
    assert.ok(isValidUserIdForAuth('@Ünïcode!:example.org'));
    assert.ok(isValidUserIdForAuth('@:example.org'));
    assert.ok(!isValidUserIdForAuth('alice:example.org'));
    assert.ok(!isValidUserIdForAuth('@alice'));
    assert.ok(!isValidUserIdForAuth('@alice:'));
    assert.ok(!isValidUserIdForAuth(`@${'a'.repeat(250)}:example.org`));
  });
});

describe('roomCreators', () => {
  test('v1–10 content.creator, v11 sender, v12 sender plus additional_creators', () => {
    assert.deepEqual(roomCreators(create({ creator: BOB }), v10), [BOB]);
    assert.deepEqual(roomCreators(create({ creator: BOB }), v11), [ALICE]);
    assert.deepEqual(roomCreators(create({ additional_creators: [BOB, ALICE, CAROL] }), v11), [ALICE]);
    assert.deepEqual(roomCreators(create({ additional_creators: [BOB, ALICE, CAROL] }), v12), [ALICE, BOB, CAROL]);
    assert.deepEqual(roomCreators(undefined, v12), []);
  });
});

describe('RoomPowerLevels', () => {
  test('defaults without a power levels event', () => {
    const levels = RoomPowerLevels.fromEvents(undefined, create({ creator: ALICE }), v10);
    assert.equal(levels.hasPowerLevelsEvent, false);
    assert.equal(levels.userPowerLevel(ALICE), 100);
    assert.equal(levels.userPowerLevel(BOB), 0);
    assert.equal(levels.requiredPowerForEvent('m.room.name', true), 50);
    assert.equal(levels.requiredPowerForEvent('m.room.message', false), 0);
    assert.deepEqual(
      ['ban', 'kick', 'redact', 'invite'].map((k) => levels.level(k as 'ban')),
      [50, 50, 50, 0],
    );
    assert.equal(levels.notificationLevel('room'), 50);
  });

  test('defaults for keys a power levels event leaves out', () => {
    const levels = RoomPowerLevels.fromEvents(pl({ users: { [BOB]: 20 } }), create({ creator: ALICE }), v10);
    assert.equal(levels.userPowerLevel(ALICE), 0, 'the creator rule only applies without a power levels event');
    assert.equal(levels.userPowerLevel(BOB), 20);
    assert.equal(levels.requiredPowerForEvent('m.room.name', true), 50);
    assert.equal(levels.level('kick'), 50);
    assert.equal(levels.notificationLevel('room'), 50);
  });

  test('stated values win, events overrides the defaults', () => {
    const levels = RoomPowerLevels.fromEvents(
      pl({ users_default: 5, state_default: 30, events_default: 10, events: { 'm.room.topic': 1 }, notifications: { room: 20 } }),
      create({}, ALICE),
      v11,
    );
    assert.equal(levels.userPowerLevel(CAROL), 5);
    assert.equal(levels.requiredPowerForEvent('m.room.name', true), 30);
    assert.equal(levels.requiredPowerForEvent('m.room.message', false), 10);
    assert.equal(levels.requiredPowerForEvent('m.room.topic', true), 1);
    assert.equal(levels.notificationLevel('room'), 20);
    assert.ok(levels.canTriggerNotification(CAROL, 'room') === false);
  });

  test('stringy levels are read in v9 and ignored (defaults apply) in v10', () => {
    const content = { users: { [BOB]: '75' }, kick: '10' };
    const v9Levels = RoomPowerLevels.fromEvents(pl(content), create({ creator: ALICE }), v9);
    assert.equal(v9Levels.userPowerLevel(BOB), 75);
    assert.equal(v9Levels.level('kick'), 10);
    const v10Levels = RoomPowerLevels.fromEvents(pl(content), create({ creator: ALICE }), v10);
    assert.equal(v10Levels.userPowerLevel(BOB), 0);
    assert.equal(v10Levels.level('kick'), 50);
  });

  test('v12 creators have infinite power, with or without a power levels event', () => {
    const createEvent = create({ additional_creators: [BOB] });
    for (const plEvent of [undefined, pl({ users: { [CAROL]: 100 } })]) {
      const levels = RoomPowerLevels.fromEvents(plEvent, createEvent, v12);
      assert.equal(levels.userPowerLevel(ALICE), Infinity);
      assert.equal(levels.userPowerLevel(BOB), Infinity);
      assert.ok(levels.isCreator(BOB));
      assert.ok(!levels.canKick(ALICE, BOB), 'a creator cannot kick another creator');
      assert.ok(levels.canBan(BOB, CAROL));
    }
  });

  test('client-side permission helpers', () => {
    const levels = RoomPowerLevels.fromEvents(
      pl({ users: { [ALICE]: 100, [BOB]: 50 }, ban: 60, redact: 40, invite: 10, events: { 'm.room.redaction': 45 } }),
      create({ creator: ALICE }),
      v10,
    );
    assert.ok(levels.canKick(BOB, CAROL));
    assert.ok(!levels.canKick(BOB, ALICE));
    assert.ok(!levels.canBan(BOB, CAROL));
    assert.ok(!levels.canUnban(BOB, CAROL));
    assert.ok(levels.canUnban(ALICE, BOB));
    assert.ok(levels.canInvite(BOB));
    assert.ok(!levels.canInvite(CAROL));
    assert.ok(levels.canRedactOthersEvents(BOB));
    assert.ok(levels.canSendEvent(BOB, 'm.room.name', true));
    assert.ok(!levels.canSendEvent(CAROL, 'm.room.name', true));
    assert.ok(levels.canSendEvent(CAROL, 'm.room.message', false));
  });
});

describe('powerLevelsChangeDenial', () => {
  const parse = (content: JsonObject) => parsePowerLevelsContent(content, v10).content;

  test('an unchanged event is allowed even with values above the sender', () => {
    const content = parse({ users: { [ALICE]: 100, [BOB]: 50 }, ban: 100 });
    assert.equal(powerLevelsChangeDenial(BOB, 50, content, content, v10), undefined);
  });

  test('adding a key above the sender is denied; adding one at their level is not', () => {
    const before = parse({ users: { [BOB]: 50 } });
    assert.match(powerLevelsChangeDenial(BOB, 50, before, parse({ users: { [BOB]: 50 }, redact: 51 }), v10) ?? '', /cannot set "redact" to 51/);
    assert.equal(powerLevelsChangeDenial(BOB, 50, before, parse({ users: { [BOB]: 50 }, redact: 50 }), v10), undefined);
  });

  test('removing another user at the sender\'s level is denied; removing a lower one is allowed', () => {
    const before = parse({ users: { [BOB]: 50, [CAROL]: 50, [ALICE]: 10 } });
    assert.match(powerLevelsChangeDenial(BOB, 50, before, parse({ users: { [BOB]: 50, [ALICE]: 10 } }), v10) ?? '', /@carol:c \(50\)/);
    assert.equal(powerLevelsChangeDenial(BOB, 50, before, parse({ users: { [BOB]: 50, [CAROL]: 50 } }), v10), undefined);
  });

  test('an infinitely powerful creator may change anything', () => {
    const before = parse({ users: { [BOB]: 9007199254740991 }, ban: 9007199254740991 });
    assert.equal(powerLevelsChangeDenial(ALICE, Infinity, before, parse({}), v12), undefined);
  });
});
