// GET /_matrix/client/v1/room_summary/{roomIdOrAlias} over real HTTP
// (room_summary.yaml): who may see which room, by ID and by alias, with and
// without a token, in room versions 10 and 12.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

for (const engine of ENGINES) {
  for (const roomVersion of ['10', '12']) {
    describe(`room summaries (${engine}, room version ${roomVersion})`, () => {
      let hs: TestHomeserver;
      let alice: TestUser;
      let bob: TestUser;
      let carol: TestUser;
      let dave: TestUser;
      const rooms: Record<'public' | 'private' | 'readable' | 'knock' | 'restricted', string> = { public: '', private: '', readable: '', knock: '', restricted: '' };
      const summary = (roomIdOrAlias: string, user?: TestUser) =>
        call(hs.baseUrl, 'GET', `/_matrix/client/v1/room_summary/${encodeURIComponent(roomIdOrAlias)}`, undefined, user?.accessToken);
      const create = async (body: Record<string, unknown>): Promise<string> => {
        const res = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/createRoom', { room_version: roomVersion, ...body }, alice.accessToken);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body.room_id as string;
      };
      const state = (type: string, content: Record<string, unknown>) => ({ type, state_key: '', content });

      before(async () => {
        hs = await startTestHomeserver({ engine, config: { allowGuestAccess: true } });
        [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((name) => registerUser(hs.baseUrl, name)));
        rooms.public = await create({ preset: 'public_chat', name: 'Lobby', topic: 'Say hi', room_alias_name: 'lobby' });
        rooms.private = await create({
          preset: 'private_chat',
          name: 'Secret',
          invite: [bob.userId],
          initial_state: [state('m.room.encryption', { algorithm: 'm.megolm.v1.aes-sha2' })],
        });
        rooms.readable = await create({ preset: 'private_chat', initial_state: [state('m.room.history_visibility', { history_visibility: 'world_readable' })] });
        rooms.knock = await create({ preset: 'private_chat', initial_state: [state('m.room.join_rules', { join_rule: 'knock' })] });
        rooms.restricted = await create({
          preset: 'private_chat',
          initial_state: [state('m.room.join_rules', { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: rooms.public }] })],
        });
        assert.equal((await call(hs.baseUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(rooms.public)}`, {}, carol.accessToken)).status, 200);
      });
      after(async () => hs.close());

      test('a public room, by ID or alias, for anyone: the summary fields and the caller’s membership', async () => {
        const byId = await summary(rooms.public, alice);
        assert.equal(byId.status, 200, JSON.stringify(byId.body));
        assert.deepEqual(byId.body, {
          room_id: rooms.public,
          name: 'Lobby',
          topic: 'Say hi',
          canonical_alias: `#lobby:${hs.config.serverName}`,
          num_joined_members: 2,
          world_readable: false,
          guest_can_join: false,
          join_rule: 'public',
          room_version: roomVersion,
          membership: 'join',
        });
        const byAlias = await summary(`#lobby:${hs.config.serverName}`, dave);
        assert.deepEqual({ ...byAlias.body, membership: 'join' }, byId.body);
        assert.equal(byAlias.body.membership, 'leave', 'no membership reads as leave');
        const anonymous = await summary(rooms.public);
        assert.equal(anonymous.status, 200);
        assert.equal(anonymous.body.membership, undefined, 'unauthenticated: no membership');
      });

      test('a private room: members and invitees only; everyone else, with or without a token, gets 404', async () => {
        const member = await summary(rooms.private, alice);
        assert.equal(member.status, 200);
        assert.equal(member.body.encryption, 'm.megolm.v1.aes-sha2');
        assert.equal(member.body.join_rule, 'invite');
        assert.equal((await summary(rooms.private, bob)).body.membership, 'invite');
        for (const user of [dave, undefined]) {
          const hidden = await summary(rooms.private, user);
          assert.deepEqual([hidden.status, hidden.body.errcode], [404, 'M_NOT_FOUND']);
        }
      });

      test('world_readable and knockable rooms are open to unauthenticated callers', async () => {
        const readable = await summary(rooms.readable);
        assert.deepEqual([readable.status, readable.body.world_readable], [200, true]);
        const knock = await summary(rooms.knock);
        assert.deepEqual([knock.status, knock.body.join_rule], [200, 'knock']);
      });

      test('a restricted room: members of an allowed room see it, with allowed_room_ids; others do not', async () => {
        const allowed = await summary(rooms.restricted, carol);
        assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
        assert.deepEqual(allowed.body.allowed_room_ids, [rooms.public]);
        assert.equal(allowed.body.membership, 'leave');
        assert.equal((await summary(rooms.restricted, dave)).status, 404);
        assert.equal((await summary(rooms.restricted)).status, 404);
      });

      test('guests may ask; unknown rooms and aliases are 404; other strings 400', async () => {
        const guest = await call(hs.baseUrl, 'POST', '/_matrix/client/v3/register?kind=guest', {});
        const viaGuest = await call(hs.baseUrl, 'GET', `/_matrix/client/v1/room_summary/${encodeURIComponent(rooms.public)}`, undefined, guest.body.access_token as string);
        assert.deepEqual([viaGuest.status, viaGuest.body.membership], [200, 'leave']);
        assert.equal((await summary(`#nothing:${hs.config.serverName}`, alice)).status, 404);
        assert.equal((await summary('!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', alice)).status, 404);
        const bad = await summary('lobby', alice);
        assert.deepEqual([bad.status, bad.body.errcode], [400, 'M_INVALID_PARAM']);
      });
    });
  }
}
