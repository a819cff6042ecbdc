// The edge's own endpoints on a real homeserver: versions, well-known (client, server, support, policy_server), key server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64 } from '../../src/core/base64.js';
import { verifyJsonSignature } from '../../src/core/signing.js';
import type { JsonObject } from '../../src/core/types.js';
import { KEY_VALIDITY_MS } from '../../src/federation/own-keys.js';
import { ENGINES } from '../helpers/databases.js';
import { call, registerUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

const NOW = Date.UTC(2026, 0, 1);

let hs: TestHomeserver;
before(async () => {
  hs = await startTestHomeserver({
    config: {
      serveServerWellknown: true,
      publicBaseUrl: 'https://matrix.example.org/',
      support: { contacts: [{ role: 'm.role.admin', matrixId: '@admin:example.org', emailAddress: 'admin@example.org' }], supportPage: 'https://example.org/help' },
    },
    clock: () => NOW,
  });
});
after(async () => hs.close());

const getJson = async (path: string) => {
  const res = await fetch(`${hs.baseUrl}${path}`);
  return { status: res.status, headers: res.headers, json: (await res.json()) as JsonObject };
};

describe('GET /_matrix/client/versions', () => {
  test('lists r0.6.1 and v1.1 … v1.12, needs no token, and claims no unstable feature it lacks', async () => {
    const r = await getJson('/_matrix/client/versions');
    assert.equal(r.status, 200);
    const versions = r.json['versions'] as string[];
    for (const v of ['r0.6.1', 'v1.1', 'v1.5', 'v1.12']) assert.ok(versions.includes(v), `missing ${v}`);
    // Only what is built: simplified sliding sync (MSC4186) and dehydrated devices (MSC3814).
    assert.deepEqual(r.json['unstable_features'], { 'org.matrix.simplified_msc3575': true, 'org.matrix.msc3814': true, 'uk.tcpip.msc4133.stable': true });
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });
});

describe('/.well-known/matrix', () => {
  test('client: m.homeserver.base_url is public_baseurl', async () => {
    const r = await getJson('/.well-known/matrix/client');
    assert.deepEqual([r.status, r.json], [200, { 'm.homeserver': { base_url: 'https://matrix.example.org/' } }]);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });

  test('server: public_baseurl host on 443 when serve_server_wellknown is on', async () => {
    assert.deepEqual((await getJson('/.well-known/matrix/server')).json, { 'm.server': 'matrix.example.org:443' });
  });

  test('support: the configured contacts and page', async () => {
    const r = await getJson('/.well-known/matrix/support');
    assert.deepEqual([r.status, r.json], [
      200,
      { contacts: [{ role: 'm.role.admin', matrix_id: '@admin:example.org', email_address: 'admin@example.org' }], support_page: 'https://example.org/help' },
    ]);
  });

  test('policy_server: 404 M_NOT_FOUND, Axon is not a Policy Server', async () => {
    const r = await getJson('/.well-known/matrix/policy_server');
    assert.deepEqual([r.status, r.json.errcode], [404, 'M_NOT_FOUND']);
  });

  test('server and support: 404 M_NOT_FOUND when not configured', async () => {
    const off = await startTestHomeserver();
    try {
      for (const name of ['server', 'support']) {
        const res = await fetch(`${off.baseUrl}/.well-known/matrix/${name}`);
        assert.deepEqual([res.status, ((await res.json()) as JsonObject).errcode], [404, 'M_NOT_FOUND'], name);
      }
    } finally {
      await off.close();
    }
  });
});

describe('GET /_matrix/key/v2/server', () => {
  for (const path of ['/_matrix/key/v2/server', '/_matrix/key/v2/server/ed25519:whatever']) {
    test(`${path}: the published key verifies the response's own signature`, async () => {
      const r = await getJson(path);
      assert.equal(r.status, 200);
      assert.equal(r.json['server_name'], hs.config.serverName);
      assert.deepEqual(r.json['old_verify_keys'], {});
      assert.equal(r.json['valid_until_ts'], NOW + KEY_VALIDITY_MS);
      const verifyKeys = r.json['verify_keys'] as Record<string, { key: string }>;
      assert.deepEqual(Object.keys(verifyKeys), [hs.signingKey.keyId]);
      const publicKey = decodeBase64(verifyKeys[hs.signingKey.keyId]!.key);
      assert.deepEqual(publicKey, hs.signingKey.publicKey);
      assert.ok(verifyJsonSignature(r.json, hs.config.serverName, hs.signingKey.keyId, publicKey));
      // Tampering breaks it, so the check above is meaningful.
      assert.ok(!verifyJsonSignature({ ...r.json, valid_until_ts: 1 }, hs.config.serverName, hs.signingKey.keyId, publicKey));
    });
  }

  test('valid_until_ts lies in the future with the real clock', async () => {
    const live = await startTestHomeserver();
    try {
      const body = (await (await fetch(`${live.baseUrl}/_matrix/key/v2/server`)).json()) as JsonObject;
      assert.ok((body['valid_until_ts'] as number) > Date.now());
    } finally {
      await live.close();
    }
  });
});

describe('endpoints of features Axon does not offer answer the spec’s error', () => {
  test('SSO redirects: 404 M_NOT_FOUND (no identity provider is recognised)', async () => {
    for (const path of ['/_matrix/client/v3/login/sso/redirect?redirectUrl=https://client.example/', '/_matrix/client/v3/login/sso/redirect/oidc-github']) {
      const r = await getJson(path);
      assert.deepEqual([r.status, r.json.errcode], [404, 'M_NOT_FOUND'], path);
    }
  });

  test('application service endpoints: 403 M_FORBIDDEN for a token that is not an application service’s', async () => {
    const user = await registerUser(hs.baseUrl, 'not-an-appservice');
    const ping = await call(hs.baseUrl, 'POST', '/_matrix/client/v1/appservice/irc/ping', { transaction_id: 't' }, user.accessToken);
    assert.deepEqual([ping.status, ping.body.errcode], [403, 'M_FORBIDDEN']);
    const list = await call(hs.baseUrl, 'PUT', `/_matrix/client/v3/directory/list/appservice/irc/${encodeURIComponent('!r:example.org')}`, { visibility: 'public' }, user.accessToken);
    assert.deepEqual([list.status, list.body.errcode], [403, 'M_FORBIDDEN']);
    assert.equal((await call(hs.baseUrl, 'POST', '/_matrix/client/v1/appservice/irc/ping', {})).body.errcode, 'M_MISSING_TOKEN');
  });
});

for (const engine of ENGINES) {
  describe(`composition root mounts the accounts routes and authenticator (${engine})`, () => {
    test("a registered user's token authenticates, under v3 and r0; a made-up one is M_UNKNOWN_TOKEN", async () => {
      const server = await startTestHomeserver({ engine });
      try {
        const registered = await fetch(`${server.baseUrl}/_matrix/client/v3/register`, {
          method: 'POST',
          body: JSON.stringify({ username: 'alice', password: 'correct horse battery staple', auth: { type: 'm.login.dummy' } }),
        });
        assert.equal(registered.status, 200);
        const { access_token: token, user_id: userId } = (await registered.json()) as { access_token: string; user_id: string };
        for (const version of ['v3', 'r0']) {
          const whoami = await fetch(`${server.baseUrl}/_matrix/client/${version}/account/whoami`, { headers: { Authorization: `Bearer ${token}` } });
          assert.equal(whoami.status, 200);
          assert.equal(((await whoami.json()) as { user_id: string }).user_id, userId);
        }
        const bogus = await fetch(`${server.baseUrl}/_matrix/client/v3/account/whoami`, { headers: { Authorization: 'Bearer made_up' } });
        assert.deepEqual([bogus.status, ((await bogus.json()) as { errcode: string }).errcode], [401, 'M_UNKNOWN_TOKEN']);
      } finally {
        await server.close();
      }
    });
  });
}
