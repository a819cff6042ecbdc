// The timeline read paths over real HTTP: /messages pagination and filters,
// history visibility, /context, /event, members and joined_members.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

interface Ev {
  event_id: string;
  type: string;
  sender: string;
  state_key?: string;
  content: Record<string, unknown>;
}
interface Page {
  start: string;
  end?: string;
  chunk: Ev[];
  state?: Ev[];
}

for (const engine of ENGINES) {
  describe(`/messages (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let txn = 0;
    const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown, user?: TestUser) =>
      call<T>(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);
    const r = (roomId: string) => `/rooms/${encodeURIComponent(roomId)}`;
    const send = async (user: TestUser, roomId: string, body: string, type = 'm.room.message') => {
      const res = await api('PUT', `${r(roomId)}/send/${type}/t${++txn}`, { msgtype: 'm.text', body }, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.event_id as string;
    };
    const createRoom = async (visibility: string, extra: Record<string, unknown> = {}) => {
      const res = await api('POST', '/createRoom', {
        preset: 'public_chat',
        initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: visibility } }],
        ...extra,
      }, alice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.room_id as string;
    };
    const messages = (user: TestUser, roomId: string, query: string) => api<Page>('GET', `${r(roomId)}/messages?${query}`, undefined, user);
    const bodies = (page: Page) => page.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob')]);
    });
    after(async () => hs.close());

    test('backward and forward pagination round-trip their tokens across pages', async () => {
      const roomId = await createRoom('shared');
      for (let i = 1; i <= 7; i++) await send(alice, roomId, `m${i}`);
      const filter = encodeURIComponent(JSON.stringify({ types: ['m.room.message'] }));
      const first = (await messages(alice, roomId, `dir=b&limit=3&filter=${filter}`)).body;
      assert.deepEqual(bodies(first), ['m7', 'm6', 'm5']);
      assert.ok(first.end);
      const second = (await messages(alice, roomId, `dir=b&limit=3&filter=${filter}&from=${first.end}`)).body;
      assert.deepEqual(bodies(second), ['m4', 'm3', 'm2']);
      assert.equal(second.start, first.end);
      const third = (await messages(alice, roomId, `dir=b&limit=3&filter=${filter}&from=${second.end}`)).body;
      assert.deepEqual(bodies(third), ['m1']);
      assert.equal(third.end, undefined, 'the start of the room ends pagination');
      // Forward again from the gap before m2: exactly the events after that gap.
      const forward = (await messages(alice, roomId, `dir=f&limit=2&filter=${filter}&from=${second.end}`)).body;
      assert.deepEqual(bodies(forward), ['m2', 'm3']);
      const forward2 = (await messages(alice, roomId, `dir=f&limit=10&filter=${filter}&from=${forward.end}`)).body;
      assert.deepEqual(bodies(forward2), ['m4', 'm5', 'm6', 'm7']);
      assert.equal(forward2.end, undefined);
      // `to` bounds a page.
      const bounded = (await messages(alice, roomId, `dir=b&limit=10&filter=${filter}&to=${second.end}`)).body;
      assert.deepEqual(bodies(bounded), ['m7', 'm6', 'm5', 'm4', 'm3', 'm2']);
    });

    test('filters: not_senders, types, and lazy-loaded member state', async () => {
      const roomId = await createRoom('shared');
      assert.equal((await api('POST', `${r(roomId)}/join`, {}, bob)).status, 200);
      await send(alice, roomId, 'from alice');
      await send(bob, roomId, 'from bob');
      const notBob = encodeURIComponent(JSON.stringify({ not_senders: [bob.userId], types: ['m.room.message'] }));
      assert.deepEqual(bodies((await messages(alice, roomId, `dir=b&filter=${notBob}`)).body), ['from alice']);
      const lazy = encodeURIComponent(JSON.stringify({ types: ['m.room.message'], lazy_load_members: true }));
      const page = (await messages(alice, roomId, `dir=b&filter=${lazy}`)).body;
      const members = (page.state ?? []).map((e) => e.state_key).sort();
      assert.deepEqual(members, [alice.userId, bob.userId].sort());
      assert.ok(page.state!.every((e) => e.type === 'm.room.member'));
    });

    test('joined: a later joiner cannot see earlier messages; shared: they can', async () => {
      for (const [visibility, expected] of [
        ['joined', ['after']],
        ['shared', ['after', 'before']],
      ] as const) {
        const roomId = await createRoom(visibility);
        await send(alice, roomId, 'before');
        await api('POST', `${r(roomId)}/join`, {}, bob);
        await send(alice, roomId, 'after');
        const page = (await messages(bob, roomId, 'dir=b&limit=50')).body;
        assert.deepEqual(bodies(page), expected, visibility);
        assert.ok(page.chunk.some((e) => e.type === 'm.room.member' && e.state_key === bob.userId), 'own join is visible');
      }
    });

    test('invited: history is visible from the invite on', async () => {
      const roomId = await createRoom('invited', { preset: 'private_chat' });
      await send(alice, roomId, 'before invite');
      assert.equal((await api('POST', `${r(roomId)}/invite`, { user_id: bob.userId }, alice)).status, 200);
      await send(alice, roomId, 'while invited');
      await api('POST', `${r(roomId)}/join`, {}, bob);
      await send(alice, roomId, 'joined');
      assert.deepEqual(bodies((await messages(bob, roomId, 'dir=b&limit=50')).body), ['joined', 'while invited']);
    });

    test('world_readable: a non-member may read; otherwise 403', async () => {
      const open = await createRoom('world_readable');
      await send(alice, open, 'public words');
      const res = await messages(bob, open, 'dir=b');
      assert.equal(res.status, 200);
      assert.deepEqual(bodies(res.body), ['public words']);
      const closed = await createRoom('shared');
      const refused = await messages(bob, closed, 'dir=b');
      assert.equal(refused.status, 403);
      assert.equal((refused.body as unknown as Record<string, unknown>).errcode, 'M_FORBIDDEN');
    });

    test('/context returns events around an event with tokens that continue pagination', async () => {
      const roomId = await createRoom('shared');
      const ids: string[] = [];
      for (let i = 1; i <= 5; i++) ids.push(await send(alice, roomId, `c${i}`));
      const res = await api<Record<string, unknown>>('GET', `${r(roomId)}/context/${encodeURIComponent(ids[2]!)}?limit=2`, undefined, alice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((res.body.event as Ev).content.body, 'c3');
      assert.deepEqual((res.body.events_before as Ev[]).map((e) => e.content.body), ['c2']);
      assert.deepEqual((res.body.events_after as Ev[]).map((e) => e.content.body), ['c4']);
      assert.ok((res.body.state as Ev[]).some((e) => e.type === 'm.room.create'));
      const older = (await messages(alice, roomId, `dir=b&limit=1&from=${res.body.start as string}`)).body;
      assert.deepEqual(bodies(older), ['c1']);
      const newer = (await messages(alice, roomId, `dir=f&limit=1&from=${res.body.end as string}`)).body;
      assert.deepEqual(bodies(newer), ['c5']);
    });

    test('/event serves a visible event and 404s one the user may not see', async () => {
      const roomId = await createRoom('joined');
      const hidden = await send(alice, roomId, 'secret');
      await api('POST', `${r(roomId)}/join`, {}, bob);
      const seen = await send(alice, roomId, 'hello bob');
      const ok = await api('GET', `${r(roomId)}/event/${encodeURIComponent(seen)}`, undefined, bob);
      assert.equal(ok.status, 200);
      assert.equal((ok.body.content as Record<string, unknown>).body, 'hello bob');
      const notSeen = await api('GET', `${r(roomId)}/event/${encodeURIComponent(hidden)}`, undefined, bob);
      assert.equal(notSeen.status, 404);
      assert.equal(notSeen.body.errcode, 'M_NOT_FOUND');
      assert.equal((await api('GET', `${r(roomId)}/event/%24nope`, undefined, alice)).status, 404);
    });

    test('members with at/membership/not_membership, and joined_members', async () => {
      const roomId = await createRoom('shared');
      const beforeBob = (await messages(alice, roomId, 'dir=b&limit=1')).body.start;
      await api('POST', `${r(roomId)}/join`, {}, bob);
      const all = await api<{ chunk: Ev[] }>('GET', `${r(roomId)}/members`, undefined, alice);
      assert.deepEqual(all.body.chunk.map((e) => e.state_key).sort(), [alice.userId, bob.userId].sort());
      const atToken = await api<{ chunk: Ev[] }>('GET', `${r(roomId)}/members?at=${beforeBob}`, undefined, alice);
      assert.deepEqual(atToken.body.chunk.map((e) => e.state_key), [alice.userId]);
      await api('POST', `${r(roomId)}/leave`, {}, bob);
      const joined = await api<{ chunk: Ev[] }>('GET', `${r(roomId)}/members?membership=join`, undefined, alice);
      assert.deepEqual(joined.body.chunk.map((e) => e.state_key), [alice.userId]);
      const notJoined = await api<{ chunk: Ev[] }>('GET', `${r(roomId)}/members?not_membership=join`, undefined, alice);
      assert.deepEqual(notJoined.body.chunk.map((e) => e.state_key), [bob.userId]);
      const jm = await api<{ joined: Record<string, unknown> }>('GET', `${r(roomId)}/joined_members`, undefined, alice);
      assert.deepEqual(Object.keys(jm.body.joined), [alice.userId]);
      const outsider = await registerUser(hs.baseUrl, `outsider${engine}`);
      assert.equal((await api('GET', `${r(roomId)}/joined_members`, undefined, outsider)).status, 403);
    });
  });
}
