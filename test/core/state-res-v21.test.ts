import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthGraph,
  type AuthChecker,
  conflictedSubgraph,
  resolveState,
  senderPowerLevel,
} from '../../src/core/state-res/index.js';
import { roomVersion, type RoomVersionRules } from '../../src/core/room-versions.js';
import { stateKeyString } from '../../src/core/types.js';
import {
  ALICE,
  BOB,
  CAROL,
  DAVE,
  EVE,
  Room,
  joinRules,
  member,
  powerLevels,
  startRoom,
  topic,
} from './fixtures/state-res-room.js';
import { CHECKERS } from './fixtures/state-res-checkers.js';

const PL = stateKeyString('m.room.power_levels', '');
const JR = stateKeyString('m.room.join_rules', '');
const memberKey = (userId: string) => stateKeyString('m.room.member', userId);
const V11 = roomVersion('11')!;
const V12 = roomVersion('12')!;

/** Room version 12 creators may not appear in `users`; before it, Alice needs her 100 there. */
function usersFor(rules: RoomVersionRules, users: Record<string, number>): Record<string, number> {
  return rules.privilegedCreators ? users : { [ALICE]: 100, ...users };
}

/**
 * Bob raises Dave on one side while Alice bans Bob on the other. The first
 * state set comes from a server that accepted Bob's change before it learnt
 * of the ban, so the ban is unconflicted and only the power levels conflict.
 */
function banAfterPowerChange(rules: RoomVersionRules) {
  const users = usersFor(rules, { [BOB]: 50 });
  const main = startRoom(rules, users);
  const a = main.fork();
  const b = main.fork();
  a.send(powerLevels('$pl-bob', BOB, { ...users, [DAVE]: 50 }, 10));
  b.send(member('$ban-bob', ALICE, BOB, 'ban', 20));
  const first = new Map(a.state).set(memberKey(BOB), '$ban-bob');
  return { room: main.room, stateSets: [first, b.state] };
}

/** Alice's two power level changes, with Carol (made an admin by the first) joining between them. */
function subgraphFork(rules: RoomVersionRules) {
  const main = startRoom(rules, usersFor(rules, {}));
  main.send(powerLevels('$pl1', ALICE, usersFor(rules, { [CAROL]: 100 }), 6));
  main.send(member('$carol-join', CAROL, CAROL, 'join', 7));
  const a = main.fork();
  const b = main.fork();
  a.send(powerLevels('$pl2', CAROL, usersFor(rules, { [CAROL]: 100, [DAVE]: 10 }), 8));
  b.send(topic('$topic-b', ALICE, 'b', 9));
  return { room: main.room, stateSets: [a.state, b.state] };
}

for (const [checkerName, check] of CHECKERS) {
  describe(`state resolution v2.1 (room version 12), ${checkerName}`, () => {
    test('power events are replayed onto the empty state, so later unconflicted state cannot veto them', () => {
      const v12 = banAfterPowerChange(V12);
      const resolved = resolveState(V12, v12.stateSets, v12.room.lookup, check);
      assert.equal(resolved.get(PL), '$pl-bob');
      assert.equal(resolved.get(memberKey(BOB)), '$ban-bob');

      // v2 checks Bob's change against the unconflicted ban and refuses it.
      const v11 = banAfterPowerChange(V11);
      assert.equal(resolveState(V11, v11.stateSets, v11.room.lookup, check).get(PL), '$pl0');
    });

    test('creators rank above every power level when ordering power events', () => {
      const main = startRoom(V12, { [BOB]: 100 });
      const a = main.fork();
      const b = main.fork();
      a.send(joinRules('$jr-alice', ALICE, 'invite', 20));
      b.send(joinRules('$jr-bob', BOB, 'knock', 10));
      // Alice (infinite) is replayed before Bob (100) despite her later timestamp, so Bob's lands last.
      assert.equal(resolveState(V12, [a.state, b.state], main.room.lookup, check).get(JR), '$jr-bob');
    });

    test('events on auth paths between conflicted events are replayed too', () => {
      const checked = (rules: RoomVersionRules): string[] => {
        const { room, stateSets } = subgraphFork(rules);
        const seen: string[] = [];
        const spy: AuthChecker = (event, r, authState) => {
          seen.push(event.event_id);
          return check(event, r, authState);
        };
        const resolved = resolveState(rules, stateSets, room.lookup, spy);
        assert.equal(resolved.get(PL), '$pl2');
        assert.equal(resolved.get(memberKey(CAROL)), '$carol-join');
        return seen;
      };
      // $pl2 → $carol-join → $pl1: Carol's join is in every auth chain, so only the subgraph brings it in.
      assert.ok(checked(V12).includes('$carol-join'));
      assert.ok(!checked(V11).includes('$carol-join'));
    });

    test('a rejected event is not taken from auth_events to fill a key the state lacks', () => {
      const main = startRoom(V12, {});
      const a = main.fork();
      const b = main.fork();
      a.send(member('$eve-join', EVE, EVE, 'join', 10));
      b.send(topic('$topic-b', ALICE, 'b', 10));
      const states = [a.state, b.state];
      assert.equal(resolveState(V12, states, main.room.lookup, check).get(memberKey(EVE)), '$eve-join');
      const isRejected = (id: string) => id === '$public';
      assert.equal(resolveState(V12, states, main.room.lookup, check, { isRejected }).has(memberKey(EVE)), false);
    });
  });
}

describe('conflicted state subgraph', () => {
  test('holds every event on an auth path between conflicted events, endpoints included, and nothing else', () => {
    const { room } = subgraphFork(V12);
    const graph = new AuthGraph(V12, room.lookup);
    const subgraph = conflictedSubgraph(new Set(['$pl2', '$pl1', '$topic-b']), graph);
    assert.deepEqual([...subgraph].sort(), ['$carol-join', '$pl1', '$pl2', '$topic-b']);
  });

  test('ignores conflicted events that cannot be found', () => {
    const { room } = subgraphFork(V12);
    const graph = new AuthGraph(V12, room.lookup);
    assert.deepEqual([...conflictedSubgraph(new Set(['$missing', '$pl1']), graph)], ['$pl1']);
  });
});

describe('sender power level for ordering', () => {
  test('room version 12 creators, additional creators included, have infinite power', () => {
    const room = new Room(V12);
    const main = room.branch();
    main.send({ id: '$create', type: 'm.room.create', stateKey: '', sender: ALICE, content: { additional_creators: [CAROL] }, ts: 1 });
    main.send(member('$alice-join', ALICE, ALICE, 'join', 2));
    main.send(powerLevels('$pl0', ALICE, { [BOB]: 100 }, 3));
    main.send(member('$carol-join', CAROL, CAROL, 'join', 4));
    main.send(member('$bob-join', BOB, BOB, 'join', 5));
    const graph = new AuthGraph(V12, room.lookup);
    assert.equal(senderPowerLevel('$pl0', graph), Number.POSITIVE_INFINITY);
    assert.equal(senderPowerLevel('$carol-join', graph), Number.POSITIVE_INFINITY);
    assert.equal(senderPowerLevel('$bob-join', graph), 100);
  });

  test('before room version 12 the creator has 100 only without power levels, others 0 or their level', () => {
    const main = startRoom(V11, { [ALICE]: 75, [BOB]: '30' as unknown as number });
    const graph = new AuthGraph(V11, main.room.lookup);
    assert.equal(senderPowerLevel('$alice-join', graph), 100);
    assert.equal(senderPowerLevel('$public', graph), 75);
    // Strings were valid levels before room version 10.
    assert.equal(senderPowerLevel('$bob-join', graph), 30);
    const v1 = startRoom(roomVersion('1')!);
    assert.equal(senderPowerLevel('$alice-join', new AuthGraph(roomVersion('1')!, v1.room.lookup)), 100);
  });
});
