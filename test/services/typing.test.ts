import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier } from '../../src/services/notifier.js';
import { TypingService, type MembershipLookup, type Timers } from '../../src/services/user-data/index.js';
import { MAX_TYPING_TIMEOUT_MS, TYPING_RECENT_MS } from '../../src/services/user-data/typing.js';

/** A clock and timers that only move when the test says so. */
class FakeTime implements Timers {
  now = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now) {
        this.timers.delete(id);
        t.fn();
      }
    }
  }
  get pending(): number {
    return this.timers.size;
  }
}

const joined: MembershipLookup = {
  getMembership: async (roomId, userId) => ({ roomId, userId, membership: 'join', eventId: '$m', streamOrdering: 1, forgotten: false }),
  roomsForUser: async () => [],
};

function setup() {
  const time = new FakeTime();
  const notifier = new Notifier();
  const typing = new TypingService(joined, notifier, () => time.now, time);
  return { time, notifier, typing };
}

describe('TypingService', () => {
  test('typing expires after its timeout, which moves the stream and notifies the room', async () => {
    const { time, notifier, typing } = setup();
    await typing.setTyping('@a:x', '!r:x', '@a:x', true, 10_000);
    await typing.setTyping('@b:x', '!r:x', '@b:x', true, 20_000);
    assert.deepEqual(typing.typingSnapshot('!r:x'), ['@a:x', '@b:x']);
    assert.equal(typing.currentPosition(), 2);
    const woken = notifier.waitForChange('@c:x', new Set(['!r:x']), 60_000);
    time.advance(10_000);
    await woken;
    assert.deepEqual(typing.typingSnapshot('!r:x'), ['@b:x']);
    assert.equal(typing.currentPosition(), 3);
    assert.equal(notifier.position('typing'), 3);
    time.advance(10_000);
    assert.deepEqual(typing.typingSnapshot('!r:x'), []);
    assert.deepEqual(typing.changedRoomsSince(3), ['!r:x']);
    assert.deepEqual(typing.changedRoomsSince(4), []);
  });

  test('renewing moves the expiry without a new stream position', async () => {
    const { time, typing } = setup();
    await typing.setTyping('@a:x', '!r:x', '@a:x', true, 10_000);
    time.advance(8_000);
    await typing.setTyping('@a:x', '!r:x', '@a:x', true, 10_000);
    assert.equal(typing.currentPosition(), 1);
    time.advance(8_000);
    assert.deepEqual(typing.typingSnapshot('!r:x'), ['@a:x']);
    time.advance(2_000);
    assert.deepEqual(typing.typingSnapshot('!r:x'), []);
    assert.equal(time.pending, 0);
  });

  test('stopping cancels the timer; stopping when not typing changes nothing', async () => {
    const { time, typing } = setup();
    await typing.setTyping('@a:x', '!r:x', '@a:x', false);
    assert.equal(typing.currentPosition(), 0);
    await typing.setTyping('@a:x', '!r:x', '@a:x', true, 10_000);
    await typing.setTyping('@a:x', '!r:x', '@a:x', false);
    assert.equal(time.pending, 0);
    assert.equal(typing.currentPosition(), 2);
  });

  test('timeouts are capped and default when absent', async () => {
    const { time, typing } = setup();
    await typing.setTyping('@a:x', '!r:x', '@a:x', true, 10 * MAX_TYPING_TIMEOUT_MS);
    await typing.setTyping('@b:x', '!r:x', '@b:x', true);
    time.advance(30_000);
    assert.deepEqual(typing.typingSnapshot('!r:x'), ['@a:x']);
    time.advance(MAX_TYPING_TIMEOUT_MS - 30_000);
    assert.deepEqual(typing.typingSnapshot('!r:x'), []);
  });

  test('changedRoomsSince filters by rooms; a token from before a restart reports rooms with typists', async () => {
    const { typing } = setup();
    await typing.setTyping('@a:x', '!r1:x', '@a:x', true, 10_000);
    await typing.setTyping('@a:x', '!r2:x', '@a:x', true, 10_000);
    await typing.setTyping('@a:x', '!r2:x', '@a:x', false);
    assert.deepEqual(typing.changedRoomsSince(0, ['!r1:x']), ['!r1:x']);
    assert.deepEqual(typing.changedRoomsSince(1).sort(), ['!r2:x']);
    assert.deepEqual(typing.changedRoomsSince(500), ['!r1:x']);
  });

  test('a stop is reported from position 0: a client may have seen the start with a token of 0', async () => {
    // A /sync takes its positions before reading; a start landing in between
    // reaches the client with typing position 0 in its next_batch.
    const { typing } = setup();
    await typing.setTyping('@a:x', '!r:x', '@a:x', true, 10_000);
    await typing.setTyping('@a:x', '!r:x', '@a:x', false);
    assert.deepEqual(typing.changedRoomsSince(0), ['!r:x']);
    assert.deepEqual(typing.typingSnapshot('!r:x'), []);
  });

  test('an initial sync reports rooms with typists, and for a while those whose typing just stopped', async () => {
    const { time, typing } = setup();
    await typing.setTyping('@a:x', '!stopped:x', '@a:x', true, 10_000);
    await typing.setTyping('@a:x', '!stopped:x', '@a:x', false);
    await typing.setTyping('@a:x', '!typing:x', '@a:x', true, MAX_TYPING_TIMEOUT_MS);
    assert.deepEqual(typing.recentlyChangedRooms(['!stopped:x', '!typing:x', '!quiet:x']), ['!stopped:x', '!typing:x']);
    // Renewals change nothing clients see: the typist's room stays reported for its typist alone.
    for (let waited = 0; waited <= TYPING_RECENT_MS; waited += 60_000) {
      time.advance(60_000);
      await typing.setTyping('@a:x', '!typing:x', '@a:x', true, MAX_TYPING_TIMEOUT_MS);
    }
    assert.deepEqual(typing.recentlyChangedRooms(['!stopped:x', '!typing:x', '!quiet:x']), ['!typing:x']);
  });

  test('only for yourself, and only in rooms you joined', async () => {
    const notJoined: MembershipLookup = { getMembership: async () => undefined, roomsForUser: async () => [] };
    const typing = new TypingService(notJoined, new Notifier(), () => 0, new FakeTime());
    await assert.rejects(typing.setTyping('@a:x', '!r:x', '@b:x', true, 1000), { errcode: 'M_FORBIDDEN' });
    await assert.rejects(typing.setTyping('@a:x', '!r:x', '@a:x', true, 1000), { errcode: 'M_FORBIDDEN' });
  });
});
