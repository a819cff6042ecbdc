import { test, describe } from 'node:test';
import type { JsonObject } from '../../src/core/types.js';
import { ALICE, BOB, CAROL, DAVE, TestRoom, assertAllowed, assertDenied, standardRoom } from './fixtures/auth-room.js';

describe('ordinary events', () => {
  test('the sender must be joined', () => {
    const room = standardRoom('10');
    assertDenied(room.check({ type: 'm.room.message', sender: BOB, content: { body: 'hi' } }), /@bob:b.example is not joined to the room/);
    room.send(room.member(BOB, 'join'));
    assertAllowed(room.check({ type: 'm.room.message', sender: BOB, content: { body: 'hi' } }));
  });

  test('state events need state_default, messages events_default, and events overrides both', () => {
    const room = standardRoom('10', { powerLevels: { events_default: 10, events: { 'm.room.topic': 0, 'm.reaction': 60 } }, users: { [BOB]: 20 } });
    room.send(room.member(BOB, 'join'));
    room.send(room.member(DAVE, 'join'));
    assertDenied(room.check({ type: 'm.room.message', sender: DAVE }), /needs power level 10 to send m.room.message events, but has power level 0/);
    assertAllowed(room.check({ type: 'm.room.message', sender: BOB }));
    assertDenied(room.check({ type: 'm.room.name', sender: BOB, state_key: '' }), /needs power level 50 to send m.room.name/);
    assertAllowed(room.check({ type: 'm.room.topic', sender: DAVE, state_key: '' }));
    assertDenied(room.check({ type: 'm.reaction', sender: BOB }), /needs power level 60/);
  });

  test('a state key that is another user\'s ID is reserved to that user', () => {
    const room = standardRoom('10');
    assertDenied(room.check({ type: 'm.custom', sender: ALICE, state_key: BOB }), /state key @bob:b.example is a user ID other than the sender's/);
    assertAllowed(room.check({ type: 'm.custom', sender: ALICE, state_key: ALICE }));
  });

  test('without a power levels event, the creator has 100, others 0, and state needs 50', () => {
    for (const version of ['1', '10', '11']) {
      const room = new TestRoom(version);
      room.send(room.member(ALICE, 'join'));
      room.send(room.joinRules(ALICE, 'public'));
      room.send(room.member(BOB, 'join'));
      assertAllowed(room.check({ type: 'm.room.name', sender: ALICE, state_key: '' }));
      assertDenied(room.check({ type: 'm.room.name', sender: BOB, state_key: '' }), /needs power level 50 to send m.room.name events, but has power level 0/);
      assertAllowed(room.check({ type: 'm.room.message', sender: BOB }));
      assertAllowed(room.check(room.member(BOB, 'ban', ALICE)), 'creator at 100 may ban');
    }
  });
});

describe('v12 room creators', () => {
  test('creators have infinite power and cannot be kicked or banned', () => {
    const room = standardRoom('12', { createContent: { additional_creators: [CAROL] }, users: { [BOB]: 100 } });
    room.send(room.member(BOB, 'join'));
    room.setMembership(CAROL, 'join');
    assertDenied(room.check(room.member(ALICE, 'ban', BOB)), /cannot ban @alice:a.example, whose infinite power \(room creator\) is not below their own power level 100/);
    assertDenied(room.check(room.member(CAROL, 'leave', BOB)), /cannot kick @carol/);
    assertAllowed(room.check(room.member(BOB, 'ban', CAROL)), 'an additional creator outranks a 100');
    assertDenied(room.check(room.member(ALICE, 'ban', CAROL)), /cannot ban @alice:a.example, whose infinite power/);
  });

  test('a creator can do what any level allows', () => {
    const room = standardRoom('12', { powerLevels: { events: { 'm.room.name': 9007199254740991 } } });
    assertAllowed(room.check({ type: 'm.room.name', sender: ALICE, state_key: '' }));
  });

  test('without a power levels event, v12 creators still have infinite power', () => {
    const v12 = new TestRoom('12', ALICE, { additional_creators: [BOB] });
    v12.send(v12.member(ALICE, 'join'));
    v12.setMembership(BOB, 'join');
    v12.setMembership(CAROL, 'join');
    assertAllowed(v12.check(v12.member(CAROL, 'ban', BOB)));
    assertDenied(v12.check(v12.member(BOB, 'ban', ALICE)), /infinite power/);
  });

  test('creators cannot be listed in users, not even in the first power levels event', () => {
    const room = new TestRoom('12', ALICE, { additional_creators: [BOB] });
    room.send(room.member(ALICE, 'join'));
    assertDenied(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100 } })), /Room creator @alice:a.example cannot be listed/);
    assertDenied(room.check(room.powerLevels(ALICE, { users: { [BOB]: 50 } })), /Room creator @bob:b.example cannot be listed/);
    assertAllowed(room.check(room.powerLevels(ALICE, { users: { [CAROL]: 100 } })));
  });

  test('v11 lets the creator be listed and demoted', () => {
    const room = standardRoom('11');
    assertAllowed(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 10 } })));
  });
});

describe('m.room.power_levels changes', () => {
  function roomWithLevels(version: string, users: JsonObject = {}, extra: JsonObject = {}): TestRoom {
    const room = standardRoom(version, { users: { [BOB]: 50, [CAROL]: 50, [DAVE]: 10, ...users }, powerLevels: extra });
    room.setMembership(BOB, 'join');
    room.setMembership(CAROL, 'join');
    room.setMembership(DAVE, 'join');
    return room;
  }
  const creatorEntry = (room: TestRoom): JsonObject => (room.rules.privilegedCreators ? {} : { [ALICE]: 100 });

  for (const version of ['1', '10', '12']) {
    test(`v${version}: a user cannot raise anyone above their own level`, () => {
      const room = roomWithLevels(version, {}, { state_default: 0, events: { 'm.room.power_levels': 50 } });
      const base = { ...creatorEntry(room), [BOB]: 50, [CAROL]: 50, [DAVE]: 10 };
      assertDenied(room.check(room.powerLevels(BOB, { state_default: 0, events: { 'm.room.power_levels': 50 }, users: { ...base, [BOB]: 75 } })), /cannot give @bob:b.example power level 75: it is above their own level 50/);
      assertDenied(room.check(room.powerLevels(BOB, { state_default: 0, events: { 'm.room.power_levels': 50 }, users: { ...base, [DAVE]: 51 } })), /cannot give @dave/);
      assertAllowed(room.check(room.powerLevels(BOB, { state_default: 0, events: { 'm.room.power_levels': 50 }, users: { ...base, [DAVE]: 50 } })));
    });
  }

  test('a user cannot change users at or above their level, but can lower themselves', () => {
    const room = roomWithLevels('10');
    const base = { [ALICE]: 100, [BOB]: 50, [CAROL]: 50, [DAVE]: 10 };
    assertDenied(room.check(room.powerLevels(BOB, { users: { ...base, [CAROL]: 0 } })), /cannot change the power level of @carol:c.example \(50\)/);
    const { [CAROL]: _removed, ...withoutCarol } = base;
    assertDenied(room.check(room.powerLevels(BOB, { users: withoutCarol })), /cannot change the power level of @carol/);
    assertAllowed(room.check(room.powerLevels(BOB, { users: { ...base, [BOB]: 0 } })));
    assertAllowed(room.check(room.powerLevels(BOB, { users: { ...base, [DAVE]: 0 } })));
  });

  test('top-level levels: neither the old nor the new value may exceed the sender\'s', () => {
    const room = roomWithLevels('10', {}, { kick: 80 });
    const users = { [ALICE]: 100, [BOB]: 50, [CAROL]: 50, [DAVE]: 10 };
    assertDenied(room.check(room.powerLevels(BOB, { users, kick: 40 })), /cannot change "kick" from 80/);
    assertDenied(room.check(room.powerLevels(BOB, { users, kick: 80, ban: 60 })), /cannot set "ban" to 60/);
    assertAllowed(room.check(room.powerLevels(BOB, { users, kick: 80, invite: 50 })));
    assertDenied(room.check(room.powerLevels(BOB, { users })), /cannot change "kick" from 80/);
  });

  test('events entries: neither the old nor the new value may exceed the sender\'s', () => {
    const room = roomWithLevels('10', {}, { events: { 'm.room.name': 70 } });
    const users = { [ALICE]: 100, [BOB]: 50, [CAROL]: 50, [DAVE]: 10 };
    assertDenied(room.check(room.powerLevels(BOB, { users, events: {} })), /cannot change "events.m.room.name" from 70/);
    assertDenied(room.check(room.powerLevels(BOB, { users, events: { 'm.room.name': 70, 'm.room.topic': 51 } })), /cannot set "events.m.room.topic" to 51/);
    assertAllowed(room.check(room.powerLevels(BOB, { users, events: { 'm.room.name': 70, 'm.room.topic': 50 } })));
  });

  test('notifications: only limited from v6 on', () => {
    for (const [version, limited] of [['5', false], ['6', true]] as const) {
      const room = roomWithLevels(version, {}, { notifications: { room: 90 } });
      const users = { [ALICE]: 100, [BOB]: 50, [CAROL]: 50, [DAVE]: 10 };
      const decision = room.check(room.powerLevels(BOB, { users, notifications: { room: 0 } }));
      if (limited) assertDenied(decision, /cannot change "notifications.room" from 90/);
      else assertAllowed(decision, `v${version}`);
    }
  });

  test('the first power levels event is not compared with anything', () => {
    const room = new TestRoom('10');
    room.send(room.member(ALICE, 'join'));
    assertAllowed(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100, [BOB]: 1000 }, ban: 500 })));
  });

  test('users keys must be user IDs', () => {
    const room = standardRoom('9');
    assertDenied(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100, bob: 10 } })), /not a valid user ID: "bob"/);
  });

  test('stringy power levels: accepted up to v9, denied from v10', () => {
    const stringy = { users: { [ALICE]: '100', [BOB]: ' +050 ' }, ban: '50', events: { 'm.room.name': '0050' } };
    for (const version of ['1', '5', '9']) {
      const room = standardRoom(version);
      assertAllowed(room.check(room.powerLevels(ALICE, stringy)), `v${version}`);
    }
    for (const version of ['10', '11']) {
      const room = standardRoom(version);
      assertDenied(room.check(room.powerLevels(ALICE, stringy)), /not a valid power level in room version/);
      assertDenied(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100 }, events: { 'm.room.name': '50' } })), /"events.m.room.name" is not a valid power level/);
      assertDenied(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100 }, kick: '50' })), /"kick" is not a valid power level/);
      assertDenied(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100 }, notifications: 5 })), /"notifications" must be an object/);
    }
  });

  test('stringy values that are not integers are denied even in v1–9', () => {
    const room = standardRoom('9');
    assertDenied(room.check(room.powerLevels(ALICE, { users: { [ALICE]: '1.5' } })), /"users.@alice:a.example" is not a valid power level/);
    assertDenied(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100 }, ban: 'high' })), /"ban" is not a valid power level/);
  });

  test('floats are truncated in v1–5; v6+ (canonical JSON) refuses them', () => {
    const v5 = standardRoom('5');
    assertAllowed(v5.check(v5.powerLevels(ALICE, { users: { [ALICE]: 100.9, [BOB]: 50.57 } })));
    const v6 = standardRoom('6');
    assertDenied(v6.check(v6.powerLevels(ALICE, { users: { [ALICE]: 100, [BOB]: 50.5 } })), /"users.@bob:b.example" is not a valid power level/);
  });

  test('changes are compared on parsed values: "50" → 50 is no change in v9', () => {
    const room = standardRoom('9', { users: { [BOB]: '50' }, powerLevels: { kick: '80' } });
    room.setMembership(BOB, 'join');
    assertAllowed(room.check(room.powerLevels(BOB, { users: { [ALICE]: 100, [BOB]: 50 }, kick: 80 })));
  });
});

describe('m.room.aliases', () => {
  test('v1–5: a server may set its own aliases without being in the room', () => {
    for (const version of ['1', '5']) {
      const room = standardRoom(version);
      assertAllowed(room.check({ type: 'm.room.aliases', sender: BOB, state_key: 'b.example', content: { aliases: ['#x:b.example'] } }));
      assertDenied(room.check({ type: 'm.room.aliases', sender: BOB, state_key: 'a.example', content: {} }), /only set m.room.aliases for their own server b.example, not a.example/);
      assertDenied(room.check({ type: 'm.room.aliases', sender: BOB, content: {} }), /must have a state key/);
    }
  });

  test('v6+: m.room.aliases is an ordinary state event', () => {
    const room = standardRoom('6');
    assertDenied(room.check({ type: 'm.room.aliases', sender: BOB, state_key: 'b.example', content: {} }), /not joined/);
    room.send(room.member(BOB, 'join'));
    assertDenied(room.check({ type: 'm.room.aliases', sender: BOB, state_key: 'b.example', content: {} }), /needs power level 50 to send m.room.aliases/);
    assertAllowed(room.check({ type: 'm.room.aliases', sender: ALICE, state_key: 'b.example', content: {} }));
  });
});

describe('m.room.redaction', () => {
  test('v1–2: without the redact level, only events from the same server may be redacted', () => {
    for (const version of ['1', '2']) {
      const room = standardRoom(version);
      room.send(room.member(BOB, 'join'));
      room.send(room.member(DAVE, 'join'));
      const fromB = room.send({ type: 'm.room.message', sender: BOB });
      const fromA = room.send({ type: 'm.room.message', sender: ALICE });
      assertAllowed(room.check({ type: 'm.room.redaction', sender: BOB, redacts: fromB.event_id }));
      assertDenied(room.check({ type: 'm.room.redaction', sender: BOB, redacts: fromA.event_id }), /needs power level 50 to redact events from other servers/);
      assertAllowed(room.check({ type: 'm.room.redaction', sender: DAVE, redacts: fromA.event_id }), 'same server a.example');
      assertAllowed(room.check({ type: 'm.room.redaction', sender: ALICE, redacts: fromB.event_id }), 'alice has the redact level');
    }
  });

  test('v3+: the redact level is not an auth rule; events/events_default are', () => {
    const room = standardRoom('3', { powerLevels: { events: { 'm.room.redaction': 5 } }, users: { [CAROL]: 5 } });
    room.send(room.member(BOB, 'join'));
    room.setMembership(CAROL, 'join');
    const fromA = room.send({ type: 'm.room.message', sender: ALICE });
    assertDenied(room.check({ type: 'm.room.redaction', sender: BOB, redacts: fromA.event_id }), /needs power level 5 to send m.room.redaction/);
    assertAllowed(room.check({ type: 'm.room.redaction', sender: CAROL, redacts: fromA.event_id }));
  });
});
