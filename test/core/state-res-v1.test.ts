import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveState } from '../../src/core/state-res/index.js';
import { roomVersion, type RoomVersionRules } from '../../src/core/room-versions.js';
import { stateKeyString } from '../../src/core/types.js';
import { ALICE, BOB, CAROL, DAVE, EVE, joinRules, member, powerLevels, startRoom, topic } from './fixtures/state-res-room.js';
import { CHECKERS } from './fixtures/state-res-checkers.js';

const PL = stateKeyString('m.room.power_levels', '');
const JR = stateKeyString('m.room.join_rules', '');
const TOPIC = stateKeyString('m.room.topic', '');
const EVE_MEMBER = stateKeyString('m.room.member', EVE);
const V1 = roomVersion('1')!;
const V2 = roomVersion('2')!;

/** The same forks, built in a room of the given version. */
const forks = {
  equalPowerLevels(rules: RoomVersionRules) {
    const users = { [ALICE]: 100, [BOB]: 50, [CAROL]: 50 };
    const main = startRoom(rules, users);
    main.send(member('$carol-join', CAROL, CAROL, 'join', 6));
    const a = main.fork();
    const b = main.fork();
    a.send({ ...powerLevels('$pl-bob', BOB, { ...users, [DAVE]: 50 }, 10), depth: 20 });
    b.send({ ...powerLevels('$pl-carol', CAROL, { ...users, [EVE]: 50 }, 20), depth: 10 });
    return [a, b];
  },
  joinRuleRace(rules: RoomVersionRules) {
    const main = startRoom(rules);
    const a = main.fork();
    const b = main.fork();
    a.send(joinRules('$invite-only', ALICE, 'invite', 20));
    b.send(member('$eve-join', EVE, EVE, 'join', 10));
    return [a, b];
  },
  topics(rules: RoomVersionRules) {
    const main = startRoom(rules, { [ALICE]: 100, [BOB]: 50 });
    const a = main.fork();
    const b = main.fork();
    a.send(powerLevels('$pl1', ALICE, { [ALICE]: 100, [BOB]: 50, [CAROL]: 10 }, 10));
    a.send(topic('$topic-a', BOB, 'from a', 11));
    b.send({ ...topic('$topic-b', BOB, 'from b', 30), depth: 50 });
    return [a, b];
  },
  banRacingJoin(rules: RoomVersionRules) {
    const main = startRoom(rules);
    const a = main.fork();
    const b = main.fork();
    a.send(member('$ban-eve', ALICE, EVE, 'ban', 20));
    b.send(member('$eve-join', EVE, EVE, 'join', 10));
    return [a, b];
  },
};

for (const [checkerName, check] of CHECKERS) {
  const resolve = (rules: RoomVersionRules, build: (rules: RoomVersionRules) => ReturnType<typeof forks.topics>) => {
    const branches = build(rules);
    return resolveState(rules, branches.map((b) => b.state), branches[0]!.room.lookup, check);
  };

  describe(`state resolution v1 (room version 1), ${checkerName}`, () => {
    test('power levels are replayed by ascending depth, so the shallower change can block the deeper one', () => {
      // v1: $pl-carol (depth 10) first, then $pl-bob is refused under it.
      assert.equal(resolve(V1, forks.equalPowerLevels).get(PL), '$pl-carol');
      // v2 orders by power then timestamp instead: $pl-bob (ts 10) first blocks $pl-carol.
      assert.equal(resolve(V2, forks.equalPowerLevels).get(PL), '$pl-bob');
    });

    test('a key set on one side only is not a conflict in v1, so a join racing invite-only survives', () => {
      const v1 = resolve(V1, forks.joinRuleRace);
      assert.equal(v1.get(JR), '$invite-only');
      assert.equal(v1.get(EVE_MEMBER), '$eve-join');
      const v2 = resolve(V2, forks.joinRuleRace);
      assert.equal(v2.get(JR), '$invite-only');
      assert.equal(v2.has(EVE_MEMBER), false);
    });

    test('other conflicts take the deepest event that passes auth, not the mainline order', () => {
      const v1 = resolve(V1, forks.topics);
      assert.equal(v1.get(PL), '$pl1');
      assert.equal(v1.get(TOPIC), '$topic-b');
      assert.equal(resolve(V2, forks.topics).get(TOPIC), '$topic-a');
    });

    test('a ban racing a join wins in v1 as in v2', () => {
      assert.equal(resolve(V1, forks.banRacingJoin).get(EVE_MEMBER), '$ban-eve');
      assert.equal(resolve(V2, forks.banRacingJoin).get(EVE_MEMBER), '$ban-eve');
    });

    test('the deepest event is skipped when it fails auth', () => {
      const main = startRoom(V1);
      const a = main.fork();
      const b = main.fork();
      a.send({ ...topic('$topic-bob', BOB, 'bob has no power for this', 30), depth: 50 });
      b.send(topic('$topic-alice', ALICE, 'alice may', 20));
      const resolved = resolveState(V1, [a.state, b.state], main.room.lookup, check);
      assert.equal(resolved.get(TOPIC), '$topic-alice');
    });

    test('when no candidate passes auth, the shallowest is kept (as Synapse does) rather than dropping the key', () => {
      const main = startRoom(V1);
      const a = main.fork();
      const b = main.fork();
      a.send({ ...topic('$topic-deep', BOB, 'deep', 30), depth: 50 });
      b.send({ ...topic('$topic-shallow', BOB, 'shallow', 20), depth: 40 });
      const resolved = resolveState(V1, [a.state, b.state], main.room.lookup, check);
      assert.equal(resolved.get(TOPIC), '$topic-shallow');
    });

    test('a conflict whose events cannot be found keeps the one that can', () => {
      const [a, b] = forks.topics(V1);
      const lookup = (id: string) => (id === '$topic-b' ? undefined : a!.room.lookup(id));
      const resolved = resolveState(V1, [a!.state, b!.state], lookup, check);
      assert.equal(resolved.get(TOPIC), '$topic-a');
    });
  });
}
