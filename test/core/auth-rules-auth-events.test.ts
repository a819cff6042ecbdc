import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, JsonObject } from '../../src/core/types.js';
import { authEventKeys, authStateFromEvents, checkAuthEventsList, checkEventAuth } from '../../src/core/auth-rules.js';
import { ALICE, BOB, CAROL, TestRoom, assertAllowed, assertDenied, rulesFor, standardRoom } from './fixtures/auth-room.js';

const member = (sender: string, stateKey: string, content: JsonObject) => ({ type: 'm.room.member', sender, state_key: stateKey, content });

describe('authEventKeys', () => {
  test('the create event has no auth events', () => {
    assert.deepEqual(authEventKeys({ type: 'm.room.create', sender: ALICE, state_key: '', content: {} }, rulesFor('10')), []);
  });

  test('a message needs create, power levels and the sender\'s membership', () => {
    assert.deepEqual(authEventKeys({ type: 'm.room.message', sender: BOB, content: {} }, rulesFor('10')), [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', BOB],
    ]);
  });

  test('v12 never selects the create event', () => {
    assert.deepEqual(authEventKeys({ type: 'm.room.message', sender: BOB, content: {} }, rulesFor('12')), [
      ['m.room.power_levels', ''],
      ['m.room.member', BOB],
    ]);
  });

  test('a join adds the join rules; the target and sender membership appear once', () => {
    assert.deepEqual(authEventKeys(member(BOB, BOB, { membership: 'join' }), rulesFor('10')), [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', BOB],
      ['m.room.join_rules', ''],
    ]);
  });

  test('a kick adds the target but not the join rules', () => {
    assert.deepEqual(authEventKeys(member(ALICE, BOB, { membership: 'leave' }), rulesFor('10')), [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', ALICE],
      ['m.room.member', BOB],
    ]);
  });

  test('a third-party invite adds the m.room.third_party_invite of its token', () => {
    const invite = member(ALICE, BOB, { membership: 'invite', third_party_invite: { signed: { mxid: BOB, token: 'tok' } } });
    assert.deepEqual(authEventKeys(invite, rulesFor('10')).at(-1), ['m.room.third_party_invite', 'tok']);
  });

  test('join_authorised_via_users_server adds the authoriser\'s membership from v8 on', () => {
    const join = member(BOB, BOB, { membership: 'join', join_authorised_via_users_server: CAROL });
    assert.deepEqual(authEventKeys(join, rulesFor('8')).at(-1), ['m.room.member', CAROL]);
    assert.deepEqual(authEventKeys(join, rulesFor('7')).at(-1), ['m.room.join_rules', '']);
  });
});

describe('checkAuthEventsList', () => {
  function setup(version: string): { room: TestRoom; event: Event; authEvents: Event[] } {
    const room = standardRoom(version);
    const authEvents = authEventKeys({ type: 'm.room.member', sender: BOB, state_key: BOB, content: { membership: 'join' } }, room.rules)
      .map(([type, stateKey]) => room.lookup(type, stateKey))
      .filter((e): e is Event => e !== undefined);
    const event = room.build(room.member(BOB, 'join'));
    event.auth_events = authEvents.map((e) => e.event_id);
    return { room, event, authEvents };
  }

  function withAuth(event: Event, authEvents: Event[]): Event {
    return { ...event, auth_events: authEvents.map((e) => e.event_id) };
  }

  test('the selected auth events are accepted, and authorise the event', () => {
    for (const version of ['1', '10', '12']) {
      const { room, event, authEvents } = setup(version);
      assertAllowed(checkAuthEventsList(event, authEvents, room.rules));
      const state = room.rules.roomIdIsCreateEventHash ? [room.create, ...authEvents] : authEvents;
      assertAllowed(checkEventAuth(event, room.rules, authStateFromEvents(state)));
    }
  });

  test('v1–2 references ([id, hashes] pairs) are understood', () => {
    const { room, event, authEvents } = setup('1');
    const refs = authEvents.map((e): [string, { sha256: string }] => [e.event_id, { sha256: 'h' }]);
    assertAllowed(checkAuthEventsList({ ...event, auth_events: refs }, authEvents, room.rules));
  });

  test('duplicate (type, state_key) pairs are denied', () => {
    const { room, event, authEvents } = setup('10');
    const extraPl = { ...room.lookup('m.room.power_levels', '')!, event_id: '$otherpl' };
    const list = [...authEvents, extraPl];
    assertDenied(checkAuthEventsList(withAuth(event, list), list, room.rules), /more than one m.room.power_levels/);
  });

  test('entries outside the selection are denied', () => {
    const { room, event, authEvents } = setup('10');
    const name = room.send({ type: 'm.room.name', sender: ALICE, state_key: '', content: { name: 'x' } });
    const list = [...authEvents, name];
    assertDenied(checkAuthEventsList(withAuth(event, list), list, room.rules), /lists m.room.name .* does not give @bob:b.example permission/);
  });

  test('v12: listing the create event is denied', () => {
    const { room, event, authEvents } = setup('12');
    const list = [room.create, ...authEvents];
    assertDenied(checkAuthEventsList(withAuth(event, list), list, room.rules), /room ID stands for the create event/);
  });

  test('v1–11: the create event must be listed', () => {
    const { room, event, authEvents } = setup('10');
    const list = authEvents.filter((e) => e.type !== 'm.room.create');
    assertDenied(checkAuthEventsList(withAuth(event, list), list, room.rules), /does not include the m.room.create event/);
  });

  test('rejected auth events are denied', () => {
    const { room, event, authEvents } = setup('10');
    const pl = room.lookup('m.room.power_levels', '')!;
    const decision = checkAuthEventsList(event, authEvents, room.rules, { isRejected: (id) => id === pl.event_id });
    assertDenied(decision, new RegExp(`Auth event \\${pl.event_id} \\(m.room.power_levels\\) was itself rejected`));
  });

  test('auth events from another room are denied', () => {
    const { room, event, authEvents } = setup('10');
    const list = authEvents.map((e) => (e.type === 'm.room.join_rules' ? { ...e, room_id: '!elsewhere:x' } : e));
    assertDenied(checkAuthEventsList(event, list, room.rules), /belongs to room !elsewhere:x/);
  });

  test('the supplied events must be exactly the referenced ones', () => {
    const { room, event, authEvents } = setup('10');
    assertDenied(checkAuthEventsList(event, authEvents.slice(1), room.rules), /Auth event .* is missing/);
    assertDenied(checkAuthEventsList({ ...event, auth_events: event.auth_events.slice(1) as string[] }, authEvents, room.rules), /does not reference it/);
  });
});
