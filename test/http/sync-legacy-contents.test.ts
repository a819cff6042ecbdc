// What the deprecated GET /initialSync, GET /rooms/{roomId}/initialSync and
// GET /events (old_sync.yaml, room_initial_sync.yaml) carry, as Synapse
// serves them: the user's own membership and presence, receipts and account
// data; rooms the user left, up to their departure; world_readable rooms
// peeked at, by guests too; and /events catching up on every event, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { EVENTS_PAGE } from '../../src/services/sync/legacy.js';
import { enc, V3 } from './user-data-helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of ENGINES) {
  describe(`legacy sync contents (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let txn = 0;
    const api = (method: string, path: string, body: unknown, user: TestUser) => call<Json>(hs.baseUrl, method, `${V3}${path}`, body, user.accessToken);
    const say = async (user: TestUser, roomId: string, body: string) => {
      const res = await api('PUT', `/rooms/${enc(roomId)}/send/m.room.message/c${++txn}`, { msgtype: 'm.text', body }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.event_id as string;
    };
    const createRoom = async (version: string, extra: Json = {}) => {
      const res = await api('POST', '/createRoom', { preset: 'public_chat', room_version: version, ...extra }, alice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.room_id as string;
    };
    const bodies = (events: Json[]) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

    before(async () => {
      hs = await startTestHomeserver({ engine, config: { allowGuestAccess: true } });
      alice = await registerUser(hs.baseUrl, 'alice');
    });
    after(async () => hs.close());

    test('initialSync carries the user’s membership, own presence, receipts and account data', async () => {
      const bob = await registerUser(hs.baseUrl, 'bob');
      const roomId = await createRoom('10');
      assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, bob)).status, 200);
      const read = await say(alice, roomId, 'read me');
      assert.equal((await api('POST', `/rooms/${enc(roomId)}/receipt/m.read/${enc(read)}`, {}, bob)).status, 200);
      await api('PUT', `/user/${enc(bob.userId)}/rooms/${enc(roomId)}/tags/u.work`, { order: 0.25 }, bob);
      await api('PUT', `/user/${enc(bob.userId)}/account_data/org.example.setting`, { on: true }, bob);

      const all = await api('GET', '/initialSync?limit=5', undefined, bob);
      assert.equal(all.status, 200, JSON.stringify(all.body));
      const room = (all.body.rooms as Json[]).find((r) => r.room_id === roomId)!;
      assert.equal(room.membership, 'join');
      const bobMember = (room.state as Json[]).find((e) => e.type === 'm.room.member' && e.state_key === bob.userId);
      assert.equal(bobMember?.content.membership, 'join');
      assert.equal(bobMember?.user_id, bob.userId, 'the v1 name of the sender, as Synapse serves it here');
      assert.deepEqual(room.account_data, [{ type: 'm.tag', content: { tags: { 'u.work': { order: 0.25 } } } }]);
      assert.deepEqual((all.body.account_data as Json[]).find((e) => e.type === 'org.example.setting')?.content, { on: true });
      // As Synapse's legacy APIs, presence content names its user too.
      assert.deepEqual((all.body.presence as Json[]).find((e) => e.sender === bob.userId)?.content, { presence: 'offline', user_id: bob.userId }, 'never set: offline');
      const receipt = (all.body.receipts as Json[]).find((e) => e.room_id === roomId);
      assert.ok(receipt?.content[read]?.['m.read']?.[bob.userId], JSON.stringify(all.body.receipts));

      const one = await api('GET', `/rooms/${enc(roomId)}/initialSync?limit=5`, undefined, bob);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(one.body.membership, 'join');
      assert.deepEqual(one.body.account_data, room.account_data);
      assert.ok((one.body.presence as Json[]).some((e) => e.sender === bob.userId), 'own presence');
      const alicePresence = (one.body.presence as Json[]).find((e) => e.sender === alice.userId)?.content;
      assert.equal(alicePresence?.user_id, alice.userId, 'every member’s presence, also one never set');
      assert.ok((one.body.receipts as Json[]).some((e) => e.type === 'm.receipt' && e.content[read]), JSON.stringify(one.body.receipts));
    });

    for (const version of ['10', '12']) {
      test(`a room the user left: its state and history up to the departure, nothing after (v${version})`, async () => {
        const carol = await registerUser(hs.baseUrl, `carol${version}`);
        const roomId = await createRoom(version, { name: 'Before' });
        assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, carol)).status, 200);
        await say(alice, roomId, 'while carol was here');
        assert.equal((await api('POST', `/rooms/${enc(roomId)}/leave`, {}, carol)).status, 200);
        await say(alice, roomId, 'after carol left');
        await api('PUT', `/rooms/${enc(roomId)}/state/m.room.name/`, { name: 'After' }, alice);

        const one = await api('GET', `/rooms/${enc(roomId)}/initialSync?limit=10`, undefined, carol);
        assert.equal(one.status, 200, JSON.stringify(one.body));
        assert.equal(one.body.membership, 'leave');
        const chunk = one.body.messages.chunk as Json[];
        assert.deepEqual(bodies(chunk), ['while carol was here']);
        assert.deepEqual([chunk.at(-1)!.type, chunk.at(-1)!.state_key, chunk.at(-1)!.content.membership], ['m.room.member', carol.userId, 'leave']);
        assert.equal((one.body.state as Json[]).find((e) => e.type === 'm.room.name')?.content.name, 'Before');
        // Presence is shared with those who share a room; receipts belong to its members.
        assert.deepEqual([one.body.presence, one.body.receipts], [[], []]);

        const archived = await api('GET', '/initialSync?archived=true&limit=10', undefined, carol);
        const left = (archived.body.rooms as Json[]).find((r) => r.room_id === roomId)!;
        assert.equal(left.membership, 'leave');
        assert.deepEqual(bodies(left.messages.chunk), ['while carol was here']);
        assert.equal((left.state as Json[]).find((e) => e.type === 'm.room.name')?.content.name, 'Before');
        const current = await api('GET', '/initialSync?limit=10', undefined, carol);
        assert.ok(!(current.body.rooms as Json[]).some((r) => r.room_id === roomId), 'left rooms only when archived');
      });

      test(`a room the user was banned from is reported with membership ban (v${version})`, async () => {
        const dave = await registerUser(hs.baseUrl, `dave${version}`);
        const roomId = await createRoom(version);
        assert.equal((await api('POST', `/join/${enc(roomId)}`, {}, dave)).status, 200);
        await say(alice, roomId, 'before the ban');
        assert.equal((await api('POST', `/rooms/${enc(roomId)}/ban`, { user_id: dave.userId }, alice)).status, 200);
        const one = await api('GET', `/rooms/${enc(roomId)}/initialSync?limit=10`, undefined, dave);
        assert.equal(one.status, 200, JSON.stringify(one.body));
        assert.equal(one.body.membership, 'ban');
        assert.deepEqual(bodies(one.body.messages.chunk as Json[]), ['before the ban']);
      });

      test(`a guest peeks into a world_readable room without joining (v${version})`, async () => {
        const roomId = await createRoom(version, { initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'world_readable' } }] });
        await say(alice, roomId, 'for everyone');
        const registered = await call<Json>(hs.baseUrl, 'POST', `${V3}/register?kind=guest`, {});
        const guest: TestUser = { userId: registered.body.user_id, accessToken: registered.body.access_token, deviceId: registered.body.device_id };
        const peek = await api('GET', `/rooms/${enc(roomId)}/initialSync?limit=10`, undefined, guest);
        assert.equal(peek.status, 200, JSON.stringify(peek.body));
        assert.equal(peek.body.membership, undefined);
        assert.deepEqual(bodies(peek.body.messages.chunk), ['for everyone']);
        assert.deepEqual(peek.body.receipts, []);
        const start = await api('GET', `/events?room_id=${enc(roomId)}&timeout=0`, undefined, guest);
        assert.equal(start.status, 200, JSON.stringify(start.body));
        await say(alice, roomId, 'still for everyone');
        const next = await api('GET', `/events?room_id=${enc(roomId)}&timeout=0&from=${enc(start.body.end)}`, undefined, guest);
        assert.deepEqual(bodies(next.body.chunk), ['still for everyone']);
        assert.equal((await api('GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(guest.userId)}`, undefined, alice)).status, 404, 'the guest never joined');
      });
    }

    test('/events takes a limit, as Synapse does, and refuses a bad one', async () => {
      const roomId = await createRoom('10');
      const start = (await api('GET', '/events?timeout=0', undefined, alice)).body.end as string;
      for (let i = 0; i < 3; i++) await say(alice, roomId, `limited ${i}`);
      const two = await api('GET', `/events?timeout=0&limit=2&from=${enc(start)}`, undefined, alice);
      assert.equal(two.status, 200, JSON.stringify(two.body));
      assert.deepEqual(bodies((two.body.chunk as Json[]).filter((e) => e.room_id === roomId)), ['limited 0', 'limited 1']);
      for (const bad of ['-1', 'ten']) {
        const res = await api('GET', `/events?timeout=0&limit=${bad}`, undefined, alice);
        assert.deepEqual([res.status, res.body.errcode], [400, 'M_INVALID_PARAM'], `limit=${bad}`);
      }
    });

    test(`/events catches up on every message in order, a page of at most ${EVENTS_PAGE} at a time`, async () => {
      const roomId = await createRoom('10');
      const other = await createRoom('10');
      const start = (await api('GET', '/events?timeout=0', undefined, alice)).body.end as string;
      // Let the presence change the first /events made settle out of the way.
      const settled = (await api('GET', `/events?timeout=0&from=${enc(start)}`, undefined, alice)).body.end as string;
      const sent: string[] = [];
      for (let i = 0; i < EVENTS_PAGE + 30; i++) {
        const body = `m${i}`;
        await say(alice, i % 3 === 0 ? other : roomId, body);
        sent.push(body);
      }
      const received: string[] = [];
      let from = settled;
      for (let page = 0; page < 5; page++) {
        const res = await api('GET', `/events?timeout=0&from=${enc(from)}`, undefined, alice);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const messages = (res.body.chunk as Json[]).filter((e) => e.type === 'm.room.message');
        assert.ok(messages.length <= EVENTS_PAGE);
        if (messages.length === 0) break;
        received.push(...bodies(messages));
        from = res.body.end as string;
      }
      assert.deepEqual(received, sent);
    });
  });
}
