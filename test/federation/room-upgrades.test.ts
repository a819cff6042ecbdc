// Room upgrades (client-server-api/modules/room_upgrades.md) with members on
// two servers: the replacement room's create event names the tombstone, it
// gets private_chat's defaults beneath the copied state and the old room's
// bans, and members keep their push rules, tags and m.direct entry for the
// room — on the upgrading server at once, on another server when it joins
// the replacement. Room versions 12 and 10.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, type TestUser } from '../helpers/client.js';
import { startServerPair, type ServerPair } from '../helpers/federation.js';

type Json = Record<string, unknown>;

describe('room upgrades across two servers', () => {
  let pair: ServerPair;
  const r = (roomId: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;

  before(async () => {
    pair = await startServerPair({ hs1: ['alice', 'carol'], hs2: ['bob'] });
  });
  after(async () => pair.fed.close());

  async function ok<T = Json>(base: string, method: string, path: string, body: unknown, user: TestUser): Promise<T> {
    const res = await call<T>(base, method, path, body, user.accessToken);
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function roomRuleIds(base: string, user: TestUser): Promise<string[]> {
    const rules = await ok<{ global: { room: Array<{ rule_id: string }>; override: Array<{ rule_id: string; conditions?: Json[] }> } }>(
      base, 'GET', '/_matrix/client/v3/pushrules/', undefined, user,
    );
    return [...rules.global.room.map((rule) => `room ${rule.rule_id}`), ...rules.global.override.map((rule) => `override ${rule.rule_id} ${JSON.stringify(rule.conditions)}`)];
  }

  for (const version of ['12', '10']) {
    test(`v${version}: the replacement names its tombstone, gains guest access and bans, and members keep their room settings`, async () => {
      const { hs1, hs2, users: { alice, carol, bob } } = pair;
      const created = await ok(hs1, 'POST', '/_matrix/client/v3/createRoom', { room_version: version, preset: 'public_chat' }, alice);
      const roomId = created['room_id'] as string;
      await ok(hs1, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {}, carol);
      await ok(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?server_name=hs1.test`, {}, bob);
      await ok(hs1, 'POST', `${r(roomId)}/ban`, { user_id: '@mallory:elsewhere.test' }, alice);

      // Each member's own view of the old room: a room rule, an override on its ID, a tag, an m.direct entry.
      for (const [base, user] of [[hs1, carol], [hs2, bob]] as const) {
        await ok(base, 'PUT', `/_matrix/client/v3/pushrules/global/room/${encodeURIComponent(roomId)}`, { actions: ['notify'] }, user);
      }
      await ok(hs1, 'PUT', '/_matrix/client/v3/pushrules/global/override/quiet-old-room', {
        actions: [],
        conditions: [{ kind: 'event_match', key: 'room_id', pattern: roomId }],
      }, carol);
      await ok(hs1, 'PUT', `/_matrix/client/v3/user/${encodeURIComponent(carol.userId)}/rooms/${encodeURIComponent(roomId)}/tags/u.work`, { order: 0.5 }, carol);
      await ok(hs1, 'PUT', `/_matrix/client/v3/user/${encodeURIComponent(carol.userId)}/account_data/m.direct`, { [alice.userId]: [roomId] }, carol);

      const upgraded = await ok(hs1, 'POST', `${r(roomId)}/upgrade`, { new_version: version }, alice);
      const newRoomId = upgraded['replacement_room'] as string;

      const oldState = await ok<Array<{ type: string; event_id: string; content: Json }>>(hs1, 'GET', `${r(roomId)}/state`, undefined, alice);
      const tombstoneEvent = oldState.find((e) => e.type === 'm.room.tombstone')!;
      assert.equal(tombstoneEvent.content['replacement_room'], newRoomId);
      const create = await ok(hs1, 'GET', `${r(newRoomId)}/state/m.room.create`, undefined, alice);
      // Before v12 the predecessor names the tombstone; a v12 room ID hashes its create event, which cannot (room_upgrades.md, step 2).
      assert.deepEqual(create['predecessor'], version === '12' ? { room_id: roomId } : { room_id: roomId, event_id: tombstoneEvent.event_id });

      // The old room had no m.room.guest_access: the new one gets private_chat's can_join beneath the copied join rules.
      assert.deepEqual(await ok(hs1, 'GET', `${r(newRoomId)}/state/m.room.guest_access`, undefined, alice), { guest_access: 'can_join' });
      assert.deepEqual(await ok(hs1, 'GET', `${r(newRoomId)}/state/m.room.join_rules`, undefined, alice), { join_rule: 'public' });
      assert.equal((await ok(hs1, 'GET', `${r(newRoomId)}/state/m.room.member/${encodeURIComponent('@mallory:elsewhere.test')}`, undefined, alice))['membership'], 'ban');

      // Carol, on the upgrading server, has her settings for the new room before she joins it.
      const carolRules = await roomRuleIds(hs1, carol);
      assert.ok(carolRules.includes(`room ${newRoomId}`), JSON.stringify(carolRules));
      assert.ok(carolRules.includes(`override ${newRoomId} ${JSON.stringify([{ kind: 'event_match', key: 'room_id', pattern: newRoomId }])}`), JSON.stringify(carolRules));
      assert.ok(carolRules.includes(`room ${roomId}`), 'the old room keeps its rule');
      const tags = await ok(hs1, 'GET', `/_matrix/client/v3/user/${encodeURIComponent(carol.userId)}/rooms/${encodeURIComponent(newRoomId)}/tags`, undefined, carol);
      assert.deepEqual(tags, { tags: { 'u.work': { order: 0.5 } } });
      const direct = await ok(hs1, 'GET', `/_matrix/client/v3/user/${encodeURIComponent(carol.userId)}/account_data/m.direct`, undefined, carol);
      assert.deepEqual(direct, { [alice.userId]: [roomId, newRoomId] });

      // Bob's server learns of the upgrade when he joins the replacement through hs1.
      assert.ok(!(await roomRuleIds(hs2, bob)).includes(`room ${newRoomId}`));
      await ok(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(newRoomId)}?server_name=hs1.test`, {}, bob);
      assert.ok((await roomRuleIds(hs2, bob)).includes(`room ${newRoomId}`), 'copied before the join returns');
    });
  }
});
