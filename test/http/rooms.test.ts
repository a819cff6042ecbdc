// Rooms over real HTTP: createRoom in every room version, membership changes
// checked by the authorisation rules, sending, state, redaction.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';

for (const engine of ENGINES) {
  describe(`rooms (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let bob: TestUser;
    let carol: TestUser;
    const api = (method: string, path: string, body?: unknown, user?: TestUser) =>
      call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user?.accessToken);

    before(async () => {
      hs = await startTestHomeserver({ engine });
      [alice, bob, carol] = await Promise.all([registerUser(hs.baseUrl, 'alice'), registerUser(hs.baseUrl, 'bob'), registerUser(hs.baseUrl, 'carol')]);
    });
    after(async () => hs.close());

    test('concurrent createRooms bringing the same new state keys in opposite orders all succeed', async () => {
      // Each pair of creations brings two state keys no room has had yet,
      // in opposite orders: both intern them at once, snapshot by snapshot.
      const created = await Promise.all(
        Array.from({ length: 6 }, (_, i) => [`org.test.race${i}.one`, `org.test.race${i}.two`]).flatMap((types) =>
          [types, [...types].reverse()].map((ordered) =>
            api('POST', '/createRoom', { initial_state: ordered.map((type) => ({ type, state_key: '', content: { v: 1 } })), name: 'after' }, alice),
          ),
        ),
      );
      assert.deepEqual(created.map((r) => r.status), created.map(() => 200), JSON.stringify(created.map((r) => r.body)));
    });

    test('createRoom writes the spec-ordered initial state in every room version', async () => {
      for (const version of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']) {
        const created = await api('POST', '/createRoom', { room_version: version, name: `v${version}`, topic: 'hello', preset: 'private_chat' }, alice);
        assert.equal(created.status, 200, `v${version}: ${JSON.stringify(created.body)}`);
        const roomId = created.body.room_id as string;
        if (version === '12') assert.match(roomId, /^![A-Za-z0-9_-]{43}$/);
        else assert.ok(roomId.endsWith(`:${hs.server.config.serverName}`));
        const state = await api('GET', `/rooms/${encodeURIComponent(roomId)}/state`, undefined, alice);
        assert.equal(state.status, 200);
        const types = (state.body as unknown as Array<{ type: string }>).map((e) => e.type).sort();
        assert.deepEqual(types, [
          'm.room.create',
          'm.room.guest_access',
          'm.room.history_visibility',
          'm.room.join_rules',
          'm.room.member',
          'm.room.name',
          'm.room.power_levels',
          'm.room.topic',
        ]);
        const create = await api('GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.create`, undefined, alice);
        assert.equal(create.body.room_version, version);
        const pl = await api('GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`, undefined, alice);
        if (version === '12') assert.deepEqual(pl.body.users, {});
        else assert.deepEqual(pl.body.users, { [alice.userId]: 100 });
      }
    });

    test('an unknown room version is refused with M_UNSUPPORTED_ROOM_VERSION', async () => {
      const res = await api('POST', '/createRoom', { room_version: '99' }, alice);
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, 'M_UNSUPPORTED_ROOM_VERSION');
    });

    test('invite-only rooms need an invite; invites, joins, kicks and bans follow the auth rules', async () => {
      const roomId = (await api('POST', '/createRoom', { preset: 'private_chat' }, alice)).body.room_id as string;
      const room = `/rooms/${encodeURIComponent(roomId)}`;
      const refused = await api('POST', `${room}/join`, {}, bob);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.errcode, 'M_FORBIDDEN');
      assert.match(refused.body.error as string, /invite/i);

      assert.equal((await api('POST', `${room}/invite`, { user_id: bob.userId }, alice)).status, 200);
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
      const joined = await api('GET', '/joined_rooms', undefined, bob);
      assert.ok((joined.body.joined_rooms as string[]).includes(roomId));

      // Bob (power 0) cannot kick Alice (100); Alice can kick Bob.
      const bobKicks = await api('POST', `${room}/kick`, { user_id: alice.userId }, bob);
      assert.equal(bobKicks.status, 403);
      assert.equal((await api('POST', `${room}/kick`, { user_id: bob.userId, reason: 'bye' }, alice)).status, 200);
      const member = await api('GET', `${room}/state/m.room.member/${encodeURIComponent(bob.userId)}`, undefined, alice);
      assert.deepEqual(member.body, { membership: 'leave', reason: 'bye' });

      // A ban wins over a later invite; the banned user reads no state, unlike one who left.
      assert.equal((await api('POST', `${room}/invite`, { user_id: carol.userId }, alice)).status, 200);
      assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, carol)).status, 200);
      assert.equal((await api('POST', `${room}/ban`, { user_id: carol.userId }, alice)).status, 200);
      const bannedReads = await api('GET', `${room}/state/m.room.member/${encodeURIComponent(carol.userId)}`, undefined, carol);
      assert.deepEqual([bannedReads.status, bannedReads.body.errcode], [403, 'M_FORBIDDEN']);
      const inviteBanned = await api('POST', `${room}/invite`, { user_id: carol.userId }, alice);
      assert.equal(inviteBanned.status, 403);
      assert.equal((await api('POST', `${room}/unban`, { user_id: carol.userId }, alice)).status, 200);
      assert.equal((await api('POST', `${room}/invite`, { user_id: carol.userId }, alice)).status, 200);
    });

    test('public rooms can be joined by alias, left and forgotten', async () => {
      const created = await api('POST', '/createRoom', { preset: 'public_chat', room_alias_name: `lobby-${engine}` }, alice);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const roomId = created.body.room_id as string;
      const alias = `#lobby-${engine}:${hs.server.config.serverName}`;
      const taken = await api('POST', '/createRoom', { room_alias_name: `lobby-${engine}` }, bob);
      assert.equal(taken.body.errcode, 'M_ROOM_IN_USE');
      const joined = await api('POST', `/join/${encodeURIComponent(alias)}`, {}, bob);
      assert.deepEqual(joined.body, { room_id: roomId });
      const room = `/rooms/${encodeURIComponent(roomId)}`;
      const notLeft = await api('POST', `${room}/forget`, {}, bob);
      assert.equal(notLeft.status, 400);
      assert.equal((await api('POST', `${room}/leave`, {}, bob)).status, 200);
      assert.equal((await api('POST', `${room}/forget`, {}, bob)).status, 200);
      // After leaving, the state as of the departure is still readable.
      const state = await api('GET', `${room}/state/m.room.member/${encodeURIComponent(bob.userId)}`, undefined, bob);
      assert.equal(state.body.membership, 'leave');
      const alias404 = await api('POST', `/join/${encodeURIComponent('#nope:' + hs.server.config.serverName)}`, {}, bob);
      assert.equal(alias404.status, 404);
    });

    test('sending is idempotent per transaction ID, needs membership, and redaction strips content', async () => {
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
      const room = `/rooms/${encodeURIComponent(roomId)}`;
      const first = await api('PUT', `${room}/send/m.room.message/txn1`, { msgtype: 'm.text', body: 'hi' }, alice);
      const again = await api('PUT', `${room}/send/m.room.message/txn1`, { msgtype: 'm.text', body: 'hi' }, alice);
      assert.equal(first.status, 200);
      assert.deepEqual(again.body, first.body);
      const other = await api('PUT', `${room}/send/m.room.message/txn2`, { msgtype: 'm.text', body: 'again' }, alice);
      assert.notEqual(other.body.event_id, first.body.event_id);

      const outsider = await api('PUT', `${room}/send/m.room.message/t`, { body: 'x' }, carol);
      assert.equal(outsider.status, 403);

      await api('POST', `${room}/join`, {}, bob);
      const bobRedacts = await api('PUT', `${room}/redact/${encodeURIComponent(first.body.event_id as string)}/r1`, { reason: 'no' }, bob);
      assert.equal(bobRedacts.status, 403);
      const redaction = await api('PUT', `${room}/redact/${encodeURIComponent(first.body.event_id as string)}/r1`, { reason: 'oops' }, alice);
      assert.equal(redaction.status, 200, JSON.stringify(redaction.body));
      const unknown = await api('PUT', `${room}/redact/${encodeURIComponent('$nope')}/r2`, {}, alice);
      assert.equal(unknown.status, 404);
    });

    test('a transaction ID is scoped to the endpoint: other rooms, event types and redactions are new requests', async () => {
      const [one, two] = await Promise.all([1, 2].map(async () => (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string));
      const send = (roomId: string, type: string) => api('PUT', `/rooms/${encodeURIComponent(roomId)}/send/${type}/same`, { msgtype: 'm.text', body: type }, alice);
      const inOne = await send(one!, 'm.room.message');
      const inTwo = await send(two!, 'm.room.message');
      const otherType = await send(one!, 'org.example.note');
      const ids = [inOne, inTwo, otherType].map((r) => r.body.event_id as string);
      assert.equal(new Set(ids).size, 3, JSON.stringify(ids));
      const events = await Promise.all(ids.map((id, i) => api('GET', `/rooms/${encodeURIComponent(i === 1 ? two! : one!)}/event/${encodeURIComponent(id)}`, undefined, alice)));
      assert.deepEqual(events.map((e) => [e.body.room_id, e.body.type]), [[one, 'm.room.message'], [two, 'm.room.message'], [one, 'org.example.note']]);
      const redaction = await api('PUT', `/rooms/${encodeURIComponent(one!)}/redact/${encodeURIComponent(ids[2]!)}/same`, {}, alice);
      assert.equal(redaction.status, 200);
      assert.ok(!ids.includes(redaction.body.event_id as string), 'the redaction is an event of its own');
      // Retransmissions on each endpoint still answer with their first event.
      assert.equal((await send(two!, 'm.room.message')).body.event_id, ids[1]);
      assert.equal((await api('PUT', `/rooms/${encodeURIComponent(one!)}/redact/${encodeURIComponent(ids[2]!)}/same`, {}, alice)).body.event_id, redaction.body.event_id);
    });

    test('a failing derived-data writer loses its own writes, never the event', async () => {
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
      const errors: unknown[] = [];
      let failing = true;
      hs.server.services.pipeline.onPersisting(async (event) => {
        if (!failing || event.room_id !== roomId || event.type !== 'm.room.message') return;
        await hs.server.db.execute('CREATE TABLE IF NOT EXISTS derived_probe (k TEXT)');
        await hs.server.db.execute('INSERT INTO derived_probe (k) VALUES (?)', [event.event_id]);
        errors.push(event.event_id);
        throw new Error('deriver bug');
      });
      const sent = await api('PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/derive1`, { msgtype: 'm.text', body: 'kept' }, alice);
      failing = false;
      assert.equal(sent.status, 200);
      assert.deepEqual(errors, [sent.body.event_id]);
      const stored = await hs.server.services.roomStore.events.getEvent(sent.body.event_id as string);
      assert.equal(stored?.roomId, roomId);
      // The deriver's own write was rolled back with it.
      const probe = await hs.server.db.query("SELECT k FROM derived_probe").catch(() => []);
      assert.deepEqual(probe, []);
    });

    test('state is set, read back, and refused without power', async () => {
      const roomId = (await api('POST', '/createRoom', { preset: 'public_chat' }, alice)).body.room_id as string;
      const room = `/rooms/${encodeURIComponent(roomId)}`;
      const set = await api('PUT', `${room}/state/m.room.topic/`, { topic: 'new topic' }, alice);
      assert.equal(set.status, 200);
      const topic = await api('GET', `${room}/state/m.room.topic`, undefined, alice);
      assert.deepEqual(topic.body, { topic: 'new topic' }, 'the content as the client sent it, nothing added');
      await api('POST', `${room}/join`, {}, bob);
      const denied = await api('PUT', `${room}/state/m.room.name`, { name: 'mine' }, bob);
      assert.equal(denied.status, 403);
      assert.match(denied.body.error as string, /power/i);
      const missing = await api('GET', `${room}/state/m.room.avatar`, undefined, alice);
      assert.equal(missing.status, 404);
      const outsider = await api('GET', `${room}/state`, undefined, carol);
      assert.equal(outsider.status, 403);
      const notObject = await call(hs.baseUrl, 'PUT', `/_matrix/client/v3${room}/state/m.room.topic`, [1, 2], alice.accessToken);
      assert.equal(notObject.status, 400);
    });
  });
}
