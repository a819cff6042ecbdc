import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from '../../src/core/types.js';
import { checkEventAuth } from '../../src/core/auth-rules.js';
import { ALICE, ALL_VERSIONS, BOB, TestRoom, assertAllowed, assertDenied, rulesFor, standardRoom } from './fixtures/auth-room.js';

function createOf(room: TestRoom, changes: Partial<Event>): Event {
  return { ...room.create, ...changes };
}

const noState = (): undefined => undefined;

describe('m.room.create', () => {
  for (const version of ALL_VERSIONS) {
    test(`v${version}: a well-formed create event is allowed`, () => {
      const room = new TestRoom(version);
      assertAllowed(checkEventAuth(room.create, room.rules, noState));
    });

    test(`v${version}: a create event with prev_events is denied`, () => {
      const room = new TestRoom(version);
      assertDenied(checkEventAuth(createOf(room, { prev_events: ['$other'] }), room.rules, noState), /must not have prev_events/);
    });

    test(`v${version}: an unknown content.room_version is denied`, () => {
      const room = new TestRoom(version);
      const create = createOf(room, { content: { ...room.create.content, room_version: '999' } });
      assertDenied(checkEventAuth(create, room.rules, noState), /"999", which is not recognised/);
    });
  }

  test('v1–10 require content.creator; v11 and v12 do not', () => {
    for (const version of ALL_VERSIONS) {
      const room = new TestRoom(version);
      const { creator: _creator, ...content } = room.create.content;
      const decision = checkEventAuth(createOf(room, { content }), room.rules, noState);
      if (Number(version) <= 10) assertDenied(decision, /has no "creator"/);
      else assertAllowed(decision, `v${version}`);
    }
  });

  test('v1–11: the room ID must be on the sender\'s server', () => {
    for (const version of ALL_VERSIONS.slice(0, 11)) {
      const room = new TestRoom(version);
      const create = createOf(room, { room_id: '!abc:elsewhere.example' });
      assertDenied(checkEventAuth(create, room.rules, noState), /not on the server of its creator/);
    }
  });

  test('v12: a room_id other than the one derived from the event ID is denied', () => {
    const room = new TestRoom('12');
    assert.equal(room.roomId, `!${room.create.event_id.slice(1)}`);
    const create = createOf(room, { room_id: '!abc:a.example' });
    assertDenied(checkEventAuth(create, room.rules, noState), /must not have a room_id/);
  });

  test('v12: additional_creators must be an array of valid user IDs', () => {
    const rules = rulesFor('12');
    const room = new TestRoom('12');
    const withCreators = (value: unknown): Event =>
      createOf(room, { content: { ...room.create.content, additional_creators: value as string[] } });
    assertAllowed(checkEventAuth(withCreators([BOB]), rules, noState));
    assertAllowed(checkEventAuth(withCreators([]), rules, noState));
    assertDenied(checkEventAuth(withCreators('@bob:b.example'), rules, noState), /additional_creators/);
    assertDenied(checkEventAuth(withCreators(['bob']), rules, noState), /additional_creators/);
    assertDenied(checkEventAuth(withCreators([BOB, 5]), rules, noState), /additional_creators/);
  });

  test('v11: additional_creators is not validated', () => {
    const room = new TestRoom('11');
    const create = createOf(room, { content: { ...room.create.content, additional_creators: 'nonsense' } });
    assertAllowed(checkEventAuth(create, room.rules, noState));
  });
});

describe('the create event in the checked state', () => {
  test('an event checked against state without a create event is denied', () => {
    const room = standardRoom('10');
    const event = room.build({ type: 'm.room.message', sender: ALICE, content: { body: 'hi' } });
    assertDenied(checkEventAuth(event, room.rules, noState), /no m.room.create event/);
  });

  test('v1–11: a create event from another room is denied', () => {
    const room = standardRoom('11');
    const event = { ...room.build({ type: 'm.room.message', sender: ALICE }), room_id: '!other:a.example' };
    assertDenied(room.check(event), /belongs to room/);
  });

  test('v12: the room ID must name the create event', () => {
    const room = standardRoom('12');
    assertAllowed(room.check({ type: 'm.room.message', sender: ALICE }));
    const event = { ...room.build({ type: 'm.room.message', sender: ALICE }), room_id: '!someotherhash' };
    assertDenied(room.check(event), /does not name the room's create event/);
  });

  test('m.federate false keeps out users of other servers', () => {
    for (const version of ['1', '6', '12']) {
      const room = standardRoom(version, { createContent: { 'm.federate': false } });
      assertDenied(room.check(room.member(BOB, 'join')), /does not federate/);
      assertAllowed(room.check(room.member('@dave:a.example', 'join')));
    }
  });
});
