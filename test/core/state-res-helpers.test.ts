import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthGraph,
  authChainOf,
  authDifference,
  isPowerEvent,
  mainlineOrder,
  referencedIds,
  resolveState,
  reverseTopologicalPowerOrder,
  separateStateSets,
} from '../../src/core/state-res/index.js';
import { MinHeap, compareCodePoints } from '../../src/core/state-res/heap.js';
import { roomVersion } from '../../src/core/room-versions.js';
import { stateKeyString } from '../../src/core/types.js';
import { ALICE, BOB, CAROL, EVE, Room, member, powerLevels, startRoom, stateOf, topic } from './fixtures/state-res-room.js';
import { testCheckAuth } from './fixtures/state-res-auth.js';

const V10 = roomVersion('10')!;

describe('event references', () => {
  test('reads string references and [id, hashes] pairs, skipping malformed entries', () => {
    assert.deepEqual(referencedIds(['$a', '$b']), ['$a', '$b']);
    assert.deepEqual(referencedIds([['$a:x', { sha256: 'h' }], ['$b:x', { sha256: 'h' }]]), ['$a:x', '$b:x']);
    assert.deepEqual(referencedIds([7, ['$c'], [null], { id: '$d' }]), ['$c']);
    assert.deepEqual(referencedIds(undefined), []);
  });
});

describe('auth chains', () => {
  test('follow auth_events in both event formats and stop at events that cannot be found', () => {
    for (const id of ['1', '10']) {
      const rules = roomVersion(id)!;
      const main = startRoom(rules);
      const chain = authChainOf(['$bob-join'], main.room.lookup, rules);
      assert.deepEqual([...chain].sort(), ['$alice-join', '$create', '$pl0', '$public']);
      const partial = authChainOf(['$bob-join'], (eid) => (eid === '$pl0' ? undefined : main.room.lookup(eid)), rules);
      assert.deepEqual([...partial].sort(), ['$alice-join', '$create', '$public']);
    }
  });

  test('in room version 12 the create event is implied by the room ID', () => {
    const rules = roomVersion('12')!;
    const main = startRoom(rules, {});
    assert.ok(!referencedIds(main.room.event('$bob-join').auth_events).includes('$create'));
    assert.ok(authChainOf(['$bob-join'], main.room.lookup, rules).has('$create'));
  });

  test('a chain 100 000 events long is walked without overflowing the stack', () => {
    const room = new Room(V10);
    room.add({ id: '$e0', type: 'm.room.create', stateKey: '', sender: ALICE, content: {}, ts: 0 }, [], []);
    for (let i = 1; i <= 100_000; i++) {
      room.add({ id: `$e${i}`, type: 'x', stateKey: '', sender: ALICE, content: {}, ts: i }, [], [`$e${i - 1}`]);
    }
    assert.equal(authChainOf(['$e100000'], room.lookup, V10).size, 100_000);
  });

  test('the auth difference counts the state events themselves as part of each chain', () => {
    const main = startRoom(V10);
    const a = main.fork();
    const b = main.fork();
    a.send(topic('$topic-a', ALICE, 'a', 10));
    b.send(member('$bob-leave', BOB, BOB, 'leave', 11));
    const graph = new AuthGraph(V10, main.room.lookup);
    // $bob-join is state on one side and cited by $bob-leave on the other: in both chains.
    assert.deepEqual([...authDifference([a.state.values(), b.state.values()], graph)].sort(), ['$bob-leave', '$topic-a']);
  });
});

describe('conflicted state', () => {
  test('a key missing from some state set is conflicted', () => {
    const { unconflicted, conflicted } = separateStateSets([
      stateOf(['t', '', '$1'], ['u', '', '$2']),
      stateOf(['t', '', '$1'], ['u', '', '$3'], ['v', '', '$4']),
    ]);
    assert.deepEqual([...unconflicted], [[stateKeyString('t', ''), '$1']]);
    assert.deepEqual([...conflicted].sort(), ['$2', '$3', '$4']);
  });

  test('power events are power levels, join rules, create, and kicks and bans of others', () => {
    const main = startRoom(V10);
    const ids = ['$create', '$alice-join', '$pl0', '$public', '$bob-join'];
    assert.deepEqual(ids.map((id) => isPowerEvent(main.room.event(id))), [true, false, true, true, false]);
    main.send(member('$kick', ALICE, BOB, 'leave', 6));
    main.send(member('$ban', ALICE, EVE, 'ban', 7));
    main.send(member('$alice-leave', ALICE, ALICE, 'leave', 8));
    assert.deepEqual(['$kick', '$ban', '$alice-leave'].map((id) => isPowerEvent(main.room.event(id))), [true, true, false]);
  });
});

describe('orderings', () => {
  test('the reverse topological power ordering puts auth events first, even lower-power ones', () => {
    const main = startRoom(V10, { [ALICE]: 100, [BOB]: 50 });
    main.send(powerLevels('$pl1', BOB, { [ALICE]: 100, [BOB]: 50, [CAROL]: 1 }, 50));
    main.send(powerLevels('$pl2', ALICE, { [ALICE]: 100, [BOB]: 50 }, 40));
    main.send(powerLevels('$pl3', ALICE, { [ALICE]: 100, [BOB]: 50, [CAROL]: 2 }, 60));
    const graph = new AuthGraph(V10, main.room.lookup);
    const all = new Set(['$pl0', '$pl1', '$pl2', '$pl3', '$public']);
    const sorted = reverseTopologicalPowerOrder(['$pl3', '$public', '$pl1'], all, graph);
    // $pl3 cites $pl2 cites $pl1 cites $pl0; $public only ties with $pl0 on power and comes after it by timestamp.
    assert.deepEqual(sorted, ['$pl0', '$public', '$pl1', '$pl2', '$pl3']);
  });

  test('mainline ordering: events off the mainline first, then older mainline positions, then timestamp', () => {
    const main = startRoom(V10, { [ALICE]: 100, [BOB]: 50 });
    const side = main.fork();
    main.send(topic('$t-on-pl0', ALICE, 'x', 30));
    main.send(powerLevels('$pl1', ALICE, { [ALICE]: 100, [BOB]: 51 }, 31));
    main.send(topic('$t-on-pl1', ALICE, 'y', 10));
    side.send(powerLevels('$pl-side', ALICE, { [ALICE]: 100, [BOB]: 49 }, 5));
    side.send(topic('$t-on-side', ALICE, 'z', 1));
    const room = main.room;
    room.add(topic('$t-no-pl', ALICE, 'w', 99), [], ['$create', '$alice-join']);
    const graph = new AuthGraph(V10, room.lookup);
    const events = ['$t-on-pl1', '$t-on-side', '$t-no-pl', '$t-on-pl0', '$bob-join'];
    // $pl-side's ancestry meets the mainline at $pl0 (position 1), like $t-on-pl0 and $bob-join.
    assert.deepEqual(mainlineOrder(events, '$pl1', graph), ['$t-no-pl', '$t-on-side', '$bob-join', '$t-on-pl0', '$t-on-pl1']);
  });

  test('the heap pops in comparator order', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 503);
    for (const v of values) heap.push(v);
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop()!);
    assert.deepEqual(popped, [...values].sort((a, b) => a - b));
    assert.equal(heap.pop(), undefined);
  });

  test('event IDs compare by code point', () => {
    assert.ok(compareCodePoints('$a', '$b') < 0);
    assert.ok(compareCodePoints('$ab', '$a') > 0);
    // U+1F600 (surrogates D83D DE00) is above U+FF5E, though its first UTF-16 unit is below.
    assert.ok(compareCodePoints('$\u{1F600}', '$\uFF5E') > 0);
    assert.ok('$\u{1F600}' < '$\uFF5E');
  });
});

describe('large rooms', () => {
  test('thousands of conflicting members and power events resolve in well under a few seconds', () => {
    const main = startRoom(V10, { [ALICE]: 100 });
    const a = main.fork();
    const b = main.fork();
    const n = 1500;
    for (let i = 0; i < n; i++) {
      a.send(member(`$a-join-${i}`, `@a${i}:x`, `@a${i}:x`, 'join', 100 + i));
      b.send(member(`$b-join-${i}`, `@b${i}:x`, `@b${i}:x`, 'join', 100 + i));
      if (i % 10 === 0) {
        a.send(powerLevels(`$a-pl-${i}`, ALICE, { [ALICE]: 100, [`@a${i}:x`]: 10 }, 100 + i));
        b.send(member(`$b-kick-${i}`, ALICE, `@a${i}:x`, 'ban', 100 + i));
      }
    }
    const started = performance.now();
    const resolved = resolveState(V10, [a.state, b.state], main.room.lookup, testCheckAuth);
    const elapsed = performance.now() - started;
    assert.equal(resolved.get(stateKeyString('m.room.member', '@b7:x')), '$b-join-7');
    assert.equal(resolved.get(stateKeyString('m.room.member', '@a10:x')), '$b-kick-10');
    assert.equal(resolved.get(stateKeyString('m.room.member', '@a11:x')), '$a-join-11');
    assert.equal(resolved.get(stateKeyString('m.room.power_levels', '')), `$a-pl-${n - 10}`);
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
  });
});
