import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import type { TurnConfig } from '../../src/config/types.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

const TURN_PATH = '/_matrix/client/v3/voip/turnServer';
const NOW = 1_800_000_000_000;

describe('GET /voip/turnServer', () => {
  const servers: TestHomeserver[] = [];
  const start = async (turn?: TurnConfig): Promise<[TestHomeserver, TestUser]> => {
    const hs = await startTestHomeserver({ config: turn ? { turn } : {}, clock: () => NOW });
    servers.push(hs);
    return [hs, await registerUser(hs.baseUrl, 'alice')];
  };
  after(async () => Promise.all(servers.map((hs) => hs.close())));

  test('without turn_uris the answer is {}', async () => {
    const [hs, alice] = await start();
    const res = await call(hs.baseUrl, 'GET', TURN_PATH, undefined, alice.accessToken);
    assert.deepEqual([res.status, res.body], [200, {}]);
  });

  test('with a shared secret the credentials are coturn\'s time-limited ones', async () => {
    const uris = ['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349'];
    const [hs, alice] = await start({ uris, sharedSecret: 's3cret', userLifetimeMs: 2 * 3600 * 1000, allowGuests: true });
    const res = await call<{ username: string; password: string; uris: string[]; ttl: number }>(hs.baseUrl, 'GET', TURN_PATH, undefined, alice.accessToken);
    assert.equal(res.status, 200);
    const expiry = Math.floor(NOW / 1000) + 7200;
    assert.equal(res.body.username, `${expiry}:${alice.userId}`);
    assert.equal(res.body.password, createHmac('sha1', 's3cret').update(res.body.username).digest('base64'));
    assert.deepEqual(res.body.uris, uris);
    assert.equal(res.body.ttl, 7200);
  });

  test('static credentials are returned as configured', async () => {
    const [hs, alice] = await start({ uris: ['turn:t.example'], username: 'u', password: 'p', userLifetimeMs: 3600_000, allowGuests: true });
    const res = await call(hs.baseUrl, 'GET', TURN_PATH, undefined, alice.accessToken);
    assert.deepEqual(res.body, { username: 'u', password: 'p', uris: ['turn:t.example'], ttl: 3600 });
  });

  test('guests are refused when turn_allow_guests is false', async () => {
    const [hs] = await start({ uris: ['turn:t.example'], sharedSecret: 'x', userLifetimeMs: 3600_000, allowGuests: false });
    // Guest registration is off on the test server, so make a guest directly.
    const guest = await registerUser(hs.baseUrl, 'guesty');
    await hs.server.db.execute('UPDATE users SET is_guest = 1 WHERE user_id = ?', [guest.userId]);
    const res = await call(hs.baseUrl, 'GET', TURN_PATH, undefined, guest.accessToken);
    assert.deepEqual([res.status, res.body.errcode], [403, 'M_FORBIDDEN']);
  });
});

describe('turn_* keys in homeserver.yaml', () => {
  const load = (extra: string) => parseConfig(`server_name: example.org\n${extra}`, '/etc/axon/homeserver.yaml', { warn: () => {}, defaultBindAddresses: ['::'] });

  test('Synapse\'s keys and defaults', () => {
    assert.deepEqual(load('').turn, { uris: [], userLifetimeMs: 3600_000, allowGuests: true });
    const turn = load('turn_uris: ["turn:a.example"]\nturn_shared_secret: abc\nturn_user_lifetime: 1d\nturn_allow_guests: false\n').turn;
    assert.deepEqual(turn, { uris: ['turn:a.example'], sharedSecret: 'abc', userLifetimeMs: 86_400_000, allowGuests: false });
    assert.equal(load('turn_user_lifetime: 90000\n').turn?.userLifetimeMs, 90000);
  });

  test('a bad lifetime names the key', () => {
    assert.throws(() => load('turn_user_lifetime: soon\n'), (err: unknown) => err instanceof ConfigError && /turn_user_lifetime/.test(err.message));
  });
});
