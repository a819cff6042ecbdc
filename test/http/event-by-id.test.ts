// The deprecated GET /_matrix/client/v3/events/{eventId} (old_sync.yaml):
// the same event and the same history visibility as
// GET /rooms/{roomId}/event/{eventId}, without naming the room.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

for (const engine of ENGINES) {
  for (const roomVersion of ['10', '12']) {
    describe(`GET /events/{eventId} (${engine}, room version ${roomVersion})`, () => {
      let hs: TestHomeserver;
      let alice: TestUser;
      let bob: TestUser;
      let carol: TestUser;
      const api = (method: string, path: string, body: unknown, user: TestUser) => call(hs.baseUrl, method, `/_matrix/client/v3${path}`, body, user.accessToken);
      const send = async (roomId: string, text: string) =>
        (await api('PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${text.replace(/\W/g, '')}`, { msgtype: 'm.text', body: text }, alice)).body.event_id as string;
      const byId = (eventId: string, user: TestUser) => api('GET', `/events/${encodeURIComponent(eventId)}`, undefined, user);

      before(async () => {
        hs = await startTestHomeserver({ engine });
        [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((name) => registerUser(hs.baseUrl, name)));
      });
      after(async () => hs.close());

      test('members read the event as GET /rooms/{roomId}/event/{eventId} shows it; others get 404', async () => {
        const roomId = (await api('POST', '/createRoom', { preset: 'private_chat', invite: [bob.userId], room_version: roomVersion }, alice)).body.room_id as string;
        assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
        const eventId = await send(roomId, 'hello bob');
        const res = await byId(eventId, bob);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const inRoom = await api('GET', `/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`, undefined, bob);
        const withoutAge = (body: Record<string, unknown>) => ({ ...body, unsigned: { ...(body.unsigned as object), age: 0 } });
        assert.deepEqual(withoutAge(res.body), withoutAge(inRoom.body));
        assert.deepEqual([res.body.room_id, (res.body.content as { body: string }).body], [roomId, 'hello bob']);
        const outsider = await byId(eventId, carol);
        assert.deepEqual([outsider.status, outsider.body.errcode], [404, 'M_NOT_FOUND']);
        assert.equal((await byId('$nosuchevent', bob)).status, 404);
      });

      test('history visibility applies: after leaving, later events are hidden; world_readable rooms are open', async () => {
        const roomId = (await api('POST', '/createRoom', { preset: 'public_chat', room_version: roomVersion }, alice)).body.room_id as string;
        assert.equal((await api('POST', `/join/${encodeURIComponent(roomId)}`, {}, bob)).status, 200);
        const before = await send(roomId, 'while bob is here');
        assert.equal((await api('POST', `/rooms/${encodeURIComponent(roomId)}/leave`, {}, bob)).status, 200);
        const afterLeave = await send(roomId, 'after bob left');
        assert.equal((await byId(before, bob)).status, 200);
        assert.equal((await byId(afterLeave, bob)).status, 404);
        await api('PUT', `/rooms/${encodeURIComponent(roomId)}/state/m.room.history_visibility/`, { history_visibility: 'world_readable' }, alice);
        const open = await send(roomId, 'for everyone');
        assert.equal((await byId(open, carol)).status, 200);
      });
    });
  }
}
