import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { createRoom, enc, V3 } from './user-data-helpers.js';

const status = (user: TestUser | string) => `${V3}/presence/${enc(typeof user === 'string' ? user : user.userId)}/status`;

describe('presence', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let now = 1_000_000;

  before(async () => {
    hs = await startTestHomeserver({ clock: () => now });
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
    carol = await registerUser(hs.baseUrl, 'carol');
    await createRoom(hs.baseUrl, alice, [bob]);
  });
  after(() => hs.close());

  test('PUT then GET: presence, status_msg, last_active_ago, currently_active', async () => {
    const notifier = hs.server.services.notifier;
    const waiting = notifier.waitForChange(bob.userId, new Set((await hs.server.services.roomStore.memberships.roomsForUser(bob.userId)).map((r) => r.roomId)), 5000);
    const started = Date.now();
    assert.equal((await call(hs.baseUrl, 'PUT', status(alice), { presence: 'online', status_msg: 'here' }, alice.accessToken)).status, 200);
    await waiting;
    assert.ok(Date.now() - started < 4000, 'a room member was woken');
    now += 5000;
    const got = await call(hs.baseUrl, 'GET', status(alice), undefined, bob.accessToken);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, { presence: 'online', status_msg: 'here', last_active_ago: 5000, currently_active: true });
  });

  test('/sync set_presence keeps the status message and only streams visible changes', async () => {
    const presence = hs.server.services.userData.presence;
    const position = await presence.currentPosition();
    await presence.setPresence(alice.userId, 'online');
    assert.equal(await presence.currentPosition(), position, 'a repeated online state is not a change');
    await presence.setPresence(alice.userId, 'unavailable');
    const changes = await presence.presenceSince(position, [alice.userId, bob.userId]);
    assert.deepEqual(changes.map((e) => [e.sender, (e.content as { presence: string; status_msg: string }).presence, (e.content as { status_msg: string }).status_msg]), [
      [alice.userId, 'unavailable', 'here'],
    ]);
  });

  test('syncing while online refreshes last_active only past the granularity, so a sync is not a write', async () => {
    const presence = hs.server.services.userData.presence;
    await presence.setPresence(carol.userId, 'online');
    const lastActive = async () => (await call(hs.baseUrl, 'GET', status(carol), undefined, carol.accessToken)).body.last_active_ago as number;
    now += 10_000;
    await presence.setPresence(carol.userId, 'online');
    assert.equal(await lastActive(), 10_000, 'a sync 10 s later left the stored timestamp alone');
    now += 25_000;
    await presence.setPresence(carol.userId, 'online');
    assert.equal(await lastActive(), 0, 'after 35 s the sync refreshed it');
  });

  test('someone with no presence reads as offline', async () => {
    const got = await call(hs.baseUrl, 'GET', status(bob), undefined, bob.accessToken);
    assert.deepEqual(got.body, { presence: 'offline' });
  });

  test('errors: setting another user 403, a user sharing no room 403, bad state 400', async () => {
    const other = await call(hs.baseUrl, 'PUT', status(alice), { presence: 'online' }, bob.accessToken);
    assert.equal(other.status, 403);
    assert.equal(other.body.errcode, 'M_FORBIDDEN');
    const stranger = await call(hs.baseUrl, 'GET', status(alice), undefined, carol.accessToken);
    assert.equal(stranger.status, 403);
    const bad = await call(hs.baseUrl, 'PUT', status(alice), { presence: 'busy' }, alice.accessToken);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errcode, 'M_INVALID_PARAM');
    const missing = await call(hs.baseUrl, 'PUT', status(alice), {}, alice.accessToken);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errcode, 'M_MISSING_PARAM');
  });
});

describe('presence disabled (presence.enabled: false)', () => {
  let hs: TestHomeserver;
  let alice: TestUser;

  before(async () => {
    hs = await startTestHomeserver({ config: { presence: { enabled: false } } });
    alice = await registerUser(hs.baseUrl, 'alice');
  });
  after(() => hs.close());

  test('PUT is accepted but ignored; GET reads offline', async () => {
    assert.equal((await call(hs.baseUrl, 'PUT', status(alice), { presence: 'online', status_msg: 'x' }, alice.accessToken)).status, 200);
    assert.deepEqual((await call(hs.baseUrl, 'GET', status(alice), undefined, alice.accessToken)).body, { presence: 'offline' });
    assert.equal(await hs.server.services.userData.presence.currentPosition(), 0);
  });
});
