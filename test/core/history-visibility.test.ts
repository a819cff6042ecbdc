// The history visibility rules (client-server-api/modules/history_visibility.md,
// "Server behaviour") as pure functions, rule by rule and at their boundaries.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { historyVisibilityOf, serverMaySee, userMaySee, type UserViewOfEvent } from '../../src/core/history-visibility.js';

const view = (v: Partial<UserViewOfEvent>): UserViewOfEvent => ({ visibility: 'shared', membership: undefined, joinedLater: false, ...v });
const sees = (v: Partial<UserViewOfEvent>) => userMaySee(view(v)).visible;

describe('history visibility rules', () => {
  test('a missing or unknown value counts as shared', () => {
    assert.equal(historyVisibilityOf(undefined), 'shared');
    assert.equal(historyVisibilityOf({ history_visibility: 'everyone' }), 'shared');
    assert.equal(historyVisibilityOf({ history_visibility: 7 }), 'shared');
    assert.equal(historyVisibilityOf({ history_visibility: 'joined' }), 'joined');
  });

  test('the five rules, for a user who was not joined at the event', () => {
    // 1. world_readable: anyone.
    assert.equal(sees({ visibility: 'world_readable' }), true);
    // 2. joined then: always.
    for (const visibility of ['shared', 'invited', 'joined'] as const) assert.equal(sees({ visibility, membership: 'join' }), true);
    // 3. shared: only if they joined afterwards.
    assert.equal(sees({ visibility: 'shared', joinedLater: true }), true);
    assert.equal(sees({ visibility: 'shared', membership: 'invite' }), false);
    // 4. invited: invited then.
    assert.equal(sees({ visibility: 'invited', membership: 'invite' }), true);
    assert.equal(sees({ visibility: 'invited', membership: 'leave', joinedLater: true }), false);
    // 5. otherwise not.
    assert.equal(sees({ visibility: 'joined', membership: 'invite', joinedLater: true }), false);
    assert.equal(sees({ visibility: 'joined', membership: 'knock' }), false);
  });

  test('a history_visibility change is judged by the less restrictive side', () => {
    assert.equal(sees({ visibility: 'joined', visibilitySet: 'world_readable' }), true);
    assert.equal(sees({ visibility: 'world_readable', visibilitySet: 'joined' }), true);
    assert.equal(sees({ visibility: 'shared', visibilitySet: 'joined', joinedLater: true }), true);
    assert.equal(sees({ visibility: 'joined', visibilitySet: 'invited', joinedLater: true }), false);
    assert.equal(sees({ visibility: 'invited', visibilitySet: 'shared', joinedLater: true }), true);
  });

  test("a user's own membership change is judged by the more joined side", () => {
    assert.equal(sees({ visibility: 'joined', membership: 'invite', membershipSet: 'join' }), true);
    assert.equal(sees({ visibility: 'joined', membership: 'join', membershipSet: 'leave' }), true);
    assert.equal(sees({ visibility: 'joined', membership: 'join', membershipSet: 'ban' }), true);
    assert.equal(sees({ visibility: 'invited', membership: undefined, membershipSet: 'invite' }), true);
    // An invite under `joined` is not visible from the invite alone…
    assert.equal(sees({ visibility: 'joined', membership: undefined, membershipSet: 'invite' }), false);
    // …but rejecting it is (Synapse), or the room would never leave the client.
    assert.equal(sees({ visibility: 'joined', membership: 'invite', membershipSet: 'leave' }), true);
  });

  test('joined tells whether the user was joined at the event (what erasure redaction asks)', () => {
    assert.deepEqual(userMaySee(view({ visibility: 'world_readable' })), { visible: true, joined: false });
    assert.deepEqual(userMaySee(view({ visibility: 'joined', membership: 'join' })), { visible: true, joined: true });
    assert.deepEqual(userMaySee(view({ visibility: 'joined', membership: 'join', membershipSet: 'leave' })), { visible: true, joined: false });
  });

  test('a server sees shared and world_readable history, and joined or invited history through its users', () => {
    assert.equal(serverMaySee({ visibility: 'shared', memberships: [], senderErased: false }), true);
    assert.equal(serverMaySee({ visibility: 'world_readable', memberships: [], senderErased: false }), true);
    assert.equal(serverMaySee({ visibility: 'joined', memberships: ['leave', 'join'], senderErased: false }), true);
    assert.equal(serverMaySee({ visibility: 'joined', memberships: ['invite'], senderErased: false }), false);
    assert.equal(serverMaySee({ visibility: 'invited', memberships: ['invite'], senderErased: false }), true);
    assert.equal(serverMaySee({ visibility: 'world_readable', memberships: ['join'], senderErased: true }), false);
  });
});
