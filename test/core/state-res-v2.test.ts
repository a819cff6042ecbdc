import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveState } from '../../src/core/state-res/index.js';
import { roomVersion, type RoomVersionRules } from '../../src/core/room-versions.js';
import { stateKeyString, type StateMap } from '../../src/core/types.js';
import {
  ALICE,
  BOB,
  CAROL,
  DAVE,
  EVE,
  type Branch,
  joinRules,
  member,
  powerLevels,
  readable,
  startRoom,
  topic,
} from './fixtures/state-res-room.js';
import { CHECKERS } from './fixtures/state-res-checkers.js';

const PL = stateKeyString('m.room.power_levels', '');
const JR = stateKeyString('m.room.join_rules', '');
const TOPIC = stateKeyString('m.room.topic', '');
const memberKey = (userId: string) => stateKeyString('m.room.member', userId);

function resolve(branches: Branch[], check: (typeof CHECKERS)[number][1]): StateMap {
  const room = branches[0]!.room;
  return resolveState(room.rules, branches.map((b) => b.state), room.lookup, check);
}

// Room version 2 carries [id, hash] references, 10 plain strings; both use v2.
const VERSIONS: RoomVersionRules[] = [roomVersion('2')!, roomVersion('10')!];

for (const [checkerName, check] of CHECKERS) {
  for (const rules of VERSIONS) {
    describe(`state resolution v2, room version ${rules.id}, ${checkerName}`, () => {
      test('a higher-power sender demoting a concurrent lower-power changer wins, whatever the timestamps', () => {
        const main = startRoom(rules, { [ALICE]: 100, [BOB]: 50 });
        main.send(member('$dave-join', DAVE, DAVE, 'join', 6));
        const a = main.fork();
        const b = main.fork();
        a.send(powerLevels('$pl-alice', ALICE, { [ALICE]: 100, [BOB]: 0 }, 20));
        b.send(powerLevels('$pl-bob', BOB, { [ALICE]: 100, [BOB]: 50, [DAVE]: 50 }, 10));
        // Alice's change is ordered first (greater power); Bob then lacks the power for his.
        assert.equal(resolve([a, b], check).get(PL), '$pl-alice');
        assert.equal(resolve([b, a], check).get(PL), '$pl-alice');
      });

      test('power events of higher-power senders are replayed first, so a still-valid later one lands last', () => {
        const main = startRoom(rules, { [ALICE]: 100, [BOB]: 50 });
        const a = main.fork();
        const b = main.fork();
        a.send(powerLevels('$pl-alice', ALICE, { [ALICE]: 100, [BOB]: 50, [CAROL]: 10 }, 10));
        b.send(powerLevels('$pl-bob', BOB, { [ALICE]: 100, [BOB]: 50, [DAVE]: 50 }, 20));
        assert.equal(resolve([a, b], check).get(PL), '$pl-bob');
      });

      test('between equally powerful senders the earlier power change wins when it invalidates the other', () => {
        const users = { [ALICE]: 100, [BOB]: 50, [CAROL]: 50 };
        for (const [bobTs, carolTs, winner] of [
          [10, 20, '$pl-bob'],
          [20, 10, '$pl-carol'],
        ] as const) {
          const main = startRoom(rules, users);
          main.send(member('$carol-join', CAROL, CAROL, 'join', 6));
          const a = main.fork();
          const b = main.fork();
          // Each adds a peer at 50; the other's event then removes a user at the sender's own level.
          a.send(powerLevels('$pl-bob', BOB, { ...users, [DAVE]: 50 }, bobTs));
          b.send(powerLevels('$pl-carol', CAROL, { ...users, [EVE]: 50 }, carolTs));
          assert.equal(resolve([a, b], check).get(PL), winner, `bob at ${bobTs}, carol at ${carolTs}`);
        }
      });

      test('a ban racing a join: the ban wins even though the join is earlier', () => {
        const main = startRoom(rules);
        const a = main.fork();
        const b = main.fork();
        a.send(member('$ban-eve', ALICE, EVE, 'ban', 20));
        b.send(member('$eve-join', EVE, EVE, 'join', 10));
        const resolved = resolve([a, b], check);
        assert.equal(resolved.get(memberKey(EVE)), '$ban-eve');
        assert.equal(resolved.get(memberKey(BOB)), '$bob-join');
      });

      test('a join racing a switch from public to invite-only is dropped', () => {
        const main = startRoom(rules);
        const a = main.fork();
        const b = main.fork();
        a.send(joinRules('$invite-only', ALICE, 'invite', 20));
        b.send(member('$eve-join', EVE, EVE, 'join', 10));
        const resolved = resolve([a, b], check);
        assert.equal(resolved.get(JR), '$invite-only');
        assert.equal(resolved.has(memberKey(EVE)), false);
      });

      test('topics: the one based on the later power levels wins over an earlier-based one with a later timestamp', () => {
        const main = startRoom(rules, { [ALICE]: 100, [BOB]: 50 });
        const a = main.fork();
        const b = main.fork();
        a.send(powerLevels('$pl1', ALICE, { [ALICE]: 100, [BOB]: 50, [CAROL]: 10 }, 10));
        a.send(topic('$topic-a', BOB, 'from a', 11));
        b.send({ ...topic('$topic-b', BOB, 'from b', 30), depth: 50 });
        const resolved = resolve([a, b], check);
        assert.equal(resolved.get(PL), '$pl1');
        // $topic-b sits at mainline position 1 ($pl0), $topic-a at 0 ($pl1), so $topic-a is applied last.
        assert.equal(resolved.get(TOPIC), '$topic-a');
      });

      test('topics on the same mainline position: later origin_server_ts wins, then the greater event ID', () => {
        const main = startRoom(rules);
        const a = main.fork();
        const b = main.fork();
        a.send(topic('$topic-late', ALICE, 'late', 30));
        b.send(topic('$topic-early', ALICE, 'early', 20));
        assert.equal(resolve([a, b], check).get(TOPIC), '$topic-late');

        const main2 = startRoom(rules);
        const c = main2.fork();
        const d = main2.fork();
        c.send(topic('$topic-b', ALICE, 'b', 20));
        d.send(topic('$topic-a', ALICE, 'a', 20));
        assert.equal(resolve([c, d], check).get(TOPIC), '$topic-b');
      });

      test('unconflicted state passes through untouched, even where it would fail auth now', () => {
        const main = startRoom(rules);
        main.send(topic('$topic', ALICE, 'kept', 6));
        const a = main.fork();
        const b = main.fork();
        a.send(member('$alice-leave', ALICE, ALICE, 'leave', 7));
        b.send(member('$alice-leave-too', ALICE, ALICE, 'leave', 8));
        const resolved = resolve([a, b], check);
        assert.equal(resolved.get(TOPIC), '$topic');
        assert.equal(resolved.get(PL), '$pl0');
        assert.deepEqual(
          readable(resolveState(rules, [main.state, main.fork().state], main.room.lookup, check)),
          readable(main.state),
        );
      });
    });
  }
}

describe('state resolution v2 edge cases', () => {
  const rules = roomVersion('10')!;
  const [, check] = CHECKERS[0]!;

  test('no state sets resolve to the empty state, one state set to itself', () => {
    const main = startRoom(rules);
    assert.equal(resolveState(rules, [], main.room.lookup, check).size, 0);
    assert.deepEqual(readable(resolveState(rules, [main.state], main.room.lookup, check)), readable(main.state));
  });

  test('a conflicted event whose auth events are missing is resolved without throwing', () => {
    const main = startRoom(rules);
    const a = main.fork();
    const b = main.fork();
    a.send(topic('$topic-a', ALICE, 'a', 20));
    b.send(topic('$topic-b', ALICE, 'b', 10));
    const lookup = (id: string) => (id === '$pl0' || id === '$alice-join' ? undefined : main.room.lookup(id));
    // Without Alice's membership and the power levels, neither topic can be authorised.
    const resolved = resolveState(rules, [a.state, b.state], lookup, check);
    assert.equal(resolved.has(TOPIC), false);
    assert.equal(resolved.get(PL), '$pl0');
  });
});
