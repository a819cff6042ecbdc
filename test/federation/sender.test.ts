// The outbound federation queue: room events reach the servers in the room
// in order, in transactions of at most 50 PDUs; a destination that fails is
// backed off and loses nothing; a peer that contacts us is retried at once;
// and the queue survives a restart of the sender.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, JsonValue } from '../../src/core/types.js';
import { FederationSender } from '../../src/federation/outbound/sender.js';
import type { FederationRequester, FederationRequestOptions } from '../../src/federation/requester.js';
import { FederationOutboxStore } from '../../src/storage/federation-outbox.js';
import { ENGINES, useTestDatabase } from '../helpers/databases.js';
import { ALICE, PipelineRooms } from '../helpers/pipeline-room.js';
import { FakeRemoteServer } from '../helpers/remote-events.js';

const BOB = '@bob:remote.test';

/** Records /send transactions; fails while `down` is set. */
class FakePeer implements FederationRequester {
  readonly transactions: Array<{ destination: string; body: JsonObject }> = [];
  down = false;
  waiters: Array<() => void> = [];

  /** Set: requests get no answer until abandoned, as from a server that stopped responding. */
  silent = false;
  abandoned = 0;

  async request<T>(destination: string, _method: string, _path: string, opts?: FederationRequestOptions): Promise<T> {
    if (this.down) throw Object.assign(new Error(`connection to ${destination} refused`), { kind: 'connect' });
    if (this.silent) {
      this.waiters.splice(0).forEach((w) => w());
      await new Promise((_resolve, reject) =>
        opts?.signal?.addEventListener('abort', () => {
          this.abandoned++;
          reject(new Error('aborted'));
        }),
      );
    }
    this.transactions.push({ destination, body: opts!.body as JsonObject });
    this.waiters.splice(0).forEach((w) => w());
    return { pdus: {} } as T;
  }

  bodies(): string[] {
    return this.transactions.flatMap((t) => (t.body['pdus'] as JsonObject[]).map((p) => String((p['content'] as JsonObject)['body'] ?? p['type'])));
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/** Waits for the sender to have recorded a failed delivery to remote.test. */
async function failureRecorded(sender: FederationSender) {
  for (;;) {
    const health = (await sender.destinations()).find((d) => d.destination === 'remote.test');
    if (health && health.lastFailureTs !== null && health.failures > 0) return health;
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const engine of ENGINES) {
  describe(`federation sender (${engine})`, () => {
    const database = useTestDatabase(engine);
    const remote = new FakeRemoteServer('remote.test');
    let rooms: PipelineRooms;

    /** A sender on a fresh pipeline (so no other test's sender hooks its events), over the shared database. */
    const newSender = (peer: FakePeer, minBackoffMs = 60_000): FederationSender => {
      rooms = new PipelineRooms(database.db, '12');
      const sender = new FederationSender({
        db: database.db,
        client: peer,
        outbox: new FederationOutboxStore(database.db),
        events: rooms.store.events,
        serverName: 'local.test',
        clock: () => Date.now(),
        isAllowed: () => true,
        log: () => undefined,
        minBackoffMs,
      });
      rooms.pipeline.onPersisting(async (event, room) => {
        if (event.sender.endsWith(':local.test')) await sender.queueRoomEvent(event, room);
      });
      return sender;
    };

    /** A room Bob of remote.test has joined. */
    const sharedRoom = async (): Promise<string> => {
      const roomId = await rooms.createRoom();
      const join = remote.event(rooms.rules, roomId, {
        type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join' },
        prev: await rooms.tip(roomId), auth: await rooms.auth(roomId, await rooms.state(roomId, 'm.room.join_rules')),
      });
      assert.equal((await rooms.pipeline.receive(roomId, join.received)).status, 'accepted');
      return roomId;
    };
    const say = (roomId: string, body: string) => rooms.pipeline.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body } });

    test('events go to the servers in the room, in order, at most 50 per transaction; a down peer gets them all later', async () => {
      const peer = new FakePeer();
      const sender = newSender(peer);
      const roomId = await sharedRoom();
      peer.down = true;
      await say(roomId, 'while down');
      const health = await failureRecorded(sender);
      assert.equal(health.failures, 1);
      assert.match(health.lastError ?? '', /refused/);
      assert.ok(health.retryAfterTs > Date.now() + 30_000, 'backed off');
      for (let i = 0; i < 59; i++) await say(roomId, `m${i}`);
      assert.equal(peer.transactions.length, 0, 'nothing is sent while backing off');
      peer.down = false;
      await sender.peerIsUp('remote.test');
      await peer.until(() => peer.bodies().length === 60);
      assert.deepEqual(peer.bodies(), ['while down', ...Array.from({ length: 59 }, (_, i) => `m${i}`)]);
      assert.deepEqual(peer.transactions.map((t) => (t.body['pdus'] as JsonValue[]).length), [50, 10]);
      assert.ok(peer.transactions.every((t) => t.destination === 'remote.test' && t.body['origin'] === 'local.test'));
      await sender.stop();
    });

    test('the queue survives a restart of the sender', async () => {
      const peer = new FakePeer();
      const first = newSender(peer);
      const roomId = await sharedRoom();
      peer.down = true;
      await say(roomId, 'queued before the restart');
      await failureRecorded(first);
      await first.stop();
      peer.down = false;
      await new FederationOutboxStore(database.db).clearBackoff('remote.test');
      const second = newSender(peer);
      await second.start();
      await peer.until(() => peer.bodies().includes('queued before the restart'));
      await second.stop();
    });

    test('stopping abandons a transaction a server does not answer; it stays queued, with no failure recorded, and goes after a restart', async () => {
      const peer = new FakePeer();
      const first = newSender(peer);
      const roomId = await sharedRoom();
      peer.silent = true;
      const inFlight = new Promise<void>((resolve) => peer.waiters.push(resolve));
      await say(roomId, 'in flight at shutdown');
      await inFlight;
      const started = Date.now();
      await first.stop();
      assert.ok(Date.now() - started < 1000, 'stop did not wait for the request timeout');
      assert.equal(peer.abandoned, 1);
      assert.equal((await first.destinations()).find((d) => d.destination === 'remote.test')?.failures ?? 0, 0);
      assert.ok((await first.queued()).pdu >= 1, 'the abandoned events are still queued');
      peer.silent = false;
      const second = newSender(peer);
      await second.start();
      await peer.until(() => peer.bodies().includes('in flight at shutdown'));
      await second.stop();
    });

    test('EDUs travel with PDUs, and a room without other servers queues nothing', async () => {
      const peer = new FakePeer();
      const sender = newSender(peer);
      await sender.queueEdu({ edu_type: 'm.typing', content: { room_id: '!r', user_id: ALICE, typing: true } }, ['remote.test', 'local.test']);
      await peer.until(() => peer.transactions.length === 1);
      assert.deepEqual(peer.transactions[0]!.body['edus'], [{ edu_type: 'm.typing', content: { room_id: '!r', user_id: ALICE, typing: true } }]);
      const lonely = await rooms.createRoom();
      await say(lonely, 'nobody else here');
      assert.equal(await new FederationOutboxStore(database.db).backlog('remote.test'), 0);
      await sender.stop();
    });
  });
}
