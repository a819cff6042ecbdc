// GET /_matrix/client/v1/mutual_rooms over real HTTP (mutual_rooms.yaml).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { MUTUAL_ROOMS_BATCH } from '../../src/services/rooms/mutual-rooms.js';

function harness(engine: (typeof ENGINES)[number]) {
  const ctx = {} as { hs: TestHomeserver; alice: TestUser; bob: TestUser };
  before(async () => {
    ctx.hs = await startTestHomeserver({ engine });
    [ctx.alice, ctx.bob] = await Promise.all([registerUser(ctx.hs.baseUrl, 'alice'), registerUser(ctx.hs.baseUrl, 'bob')]);
  });
  after(async () => ctx.hs.close());
  const api = (method: string, path: string, body?: unknown, user = ctx.alice) => call(ctx.hs.baseUrl, method, `/_matrix/client${path}`, body, user.accessToken);
  /** A room alice creates (in `roomVersion`) and bob joins. */
  const shared = async (roomVersion: string): Promise<string> => {
    const roomId = (await api('POST', '/v3/createRoom', { preset: 'public_chat', room_version: roomVersion })).body.room_id as string;
    assert.equal((await api('POST', `/v3/join/${encodeURIComponent(roomId)}`, {}, ctx.bob)).status, 200);
    return roomId;
  };
  const mutual = (query: string, user = ctx.alice) => api('GET', `/v1/mutual_rooms?${query}`, undefined, user);
  return { ctx, api, shared, mutual };
}

for (const engine of ENGINES) {
  describe(`mutual rooms (${engine})`, () => {
    const { ctx, api, shared, mutual } = harness(engine);

    test('only rooms both users are joined to, in v10 and v12 rooms, sorted, with their count', async () => {
      const joined = [await shared('10'), await shared('12')].sort();
      const invited = (await api('POST', '/v3/createRoom', { preset: 'private_chat', invite: [ctx.bob.userId] })).body.room_id as string;
      const left = await shared('12');
      assert.equal((await api('POST', `/v3/rooms/${encodeURIComponent(left)}/leave`, {}, ctx.bob)).status, 200);
      const res = await mutual(`user_id=${encodeURIComponent(ctx.bob.userId)}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { joined, count: 2 });
      assert.ok(!(res.body.joined as string[]).includes(invited));
      assert.deepEqual((await mutual(`user_id=${encodeURIComponent(ctx.alice.userId)}`, ctx.bob)).body, { joined, count: 2 });
    });

    test('an unknown user shares nothing; yourself, bad IDs and bad tokens are 400', async () => {
      assert.deepEqual((await mutual(`user_id=${encodeURIComponent(`@ghost:${ctx.hs.config.serverName}`)}`)).body, { joined: [], count: 0 });
      for (const query of [
        `user_id=${encodeURIComponent(ctx.alice.userId)}`,
        'user_id=not-a-user',
        `user_id=${encodeURIComponent('@Upper Case:example.org')}`,
        `user_id=${encodeURIComponent(ctx.bob.userId)}&from=%21%21%21`,
        `user_id=${encodeURIComponent(ctx.bob.userId)}&user_id=${encodeURIComponent(ctx.bob.userId)}`,
      ]) {
        const res = await mutual(query);
        assert.deepEqual([res.status, res.body.errcode], [400, 'M_INVALID_PARAM'], query);
      }
      assert.equal((await mutual('')).body.errcode, 'M_MISSING_PARAM');
    });
  });
}

describe('mutual rooms in batches (sqlite)', () => {
  const { ctx, shared, mutual } = harness('sqlite');

  test(`more than ${MUTUAL_ROOMS_BATCH} shared rooms come in batches joined by next_batch`, async () => {
    const rooms: string[] = [];
    for (let i = 0; i < MUTUAL_ROOMS_BATCH + 3; i += 10) {
      rooms.push(...(await Promise.all(Array.from({ length: Math.min(10, MUTUAL_ROOMS_BATCH + 3 - i) }, (_, j) => shared((i + j) % 2 === 0 ? '10' : '12')))));
    }
    rooms.sort();
    const query = `user_id=${encodeURIComponent(ctx.bob.userId)}`;
    const first = await mutual(query);
    assert.deepEqual([first.body.count, (first.body.joined as string[]).length], [rooms.length, MUTUAL_ROOMS_BATCH]);
    const token = first.body.next_batch as string;
    assert.match(token, /^[A-Za-z0-9_-]{1,255}$/, 'an opaque identifier');
    const second = await mutual(`${query}&from=${token}`);
    assert.deepEqual(second.body, { joined: rooms.slice(MUTUAL_ROOMS_BATCH), count: rooms.length });
    assert.deepEqual([...(first.body.joined as string[]), ...(second.body.joined as string[])], rooms);
  });
});
