// The key ring between real servers: direct fetches, notaries (and an
// unreachable one), the cache across restarts on both engines, historical
// keys for old events, and the notary endpoints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { encodeBase64 } from '../../src/core/base64.js';
import { finaliseEvent, type UnsignedPdu } from '../../src/core/event-signing.js';
import { ROOM_VERSIONS } from '../../src/core/room-versions.js';
import { generateSigningKey, signJson, verifyJsonSignature, type SigningKey } from '../../src/core/signing.js';
import type { JsonObject, PDU } from '../../src/core/types.js';
import { signRequest } from '../../src/core/x-matrix.js';
import { SignatureError } from '../../src/federation/event-signatures.js';
import { ENGINES } from '../helpers/databases.js';
import { blackHole, httpsCall, startFederation, type Federation, type FederatedServer } from '../helpers/federation.js';
import { createTestCa, type TestCa } from '../helpers/tls.js';

const VERSION_PATH = '/_matrix/federation/v1/version';
const PROFILE = '/_matrix/federation/v1/query/profile';

/** Asks `to` for a profile as `from`, which makes `to` verify `from`'s signature (and fetch its key). */
async function signedRequest(from: FederatedServer, to: FederatedServer): Promise<void> {
  await assert.rejects(from.services.federation.client.request(to.name, 'GET', PROFILE, { query: { user_id: `@nobody:${to.name}` } }), (err: Error & { status?: number }) => {
    // Authenticated, then told the user does not exist: the signature was accepted.
    assert.equal(err.status, 404, err.message);
    return true;
  });
}

async function keyRow(server: FederatedServer, of: string): Promise<{ from_server: string; fetched_ts: number } | undefined> {
  const row = await server.services.db.queryOne<{ from_server: string; fetched_ts: number | string }>('SELECT from_server, fetched_ts FROM server_keys WHERE server_name = ?', [of]);
  return row && { from_server: row.from_server, fetched_ts: Number(row.fetched_ts) };
}

function verifiesWith(json: JsonObject, serverName: string, key: SigningKey): boolean {
  return verifyJsonSignature(json, serverName, key.keyId, key.publicKey);
}

describe('fetching keys through a notary', () => {
  let fed: Federation;
  let hs1: FederatedServer;
  let hs2: FederatedServer;
  let notary: FederatedServer;

  before(async () => {
    const notaryKey = generateSigningKey();
    fed = await startFederation({
      servers: [
        { name: 'hs1.test', config: { trustedKeyServers: [{ serverName: 'notary.test', verifyKeys: { [notaryKey.keyId]: encodeBase64(notaryKey.publicKey) }, acceptKeysInsecurely: false }] } },
        { name: 'hs2.test' },
        { name: 'notary.test', signingKey: notaryKey },
      ],
    });
    [hs1, hs2, notary] = fed.servers as [FederatedServer, FederatedServer, FederatedServer];
  });
  after(() => fed?.close());

  test('hs1 gets hs2 key from the notary, which fetched it from hs2', async () => {
    await signedRequest(hs2, hs1);
    assert.equal((await keyRow(hs1, hs2.name))?.from_server, notary.name);
    assert.equal((await keyRow(notary, hs2.name))?.from_server, hs2.name);
  });

  describe('the notary endpoints', () => {
    const post = (body: unknown) => httpsCall(notary.baseUrl, 'POST', '/_matrix/key/v2/query', { ca: fed.ca!.certPem, body });

    test('POST /query: the server own response, signed by it and by the notary', async () => {
      const reply = await post({ server_keys: { [hs2.name]: { [hs2.signingKey.keyId]: { minimum_valid_until_ts: Date.now() } } } });
      assert.equal(reply.status, 200);
      const [keys, ...rest] = reply.body.server_keys as JsonObject[];
      assert.equal(rest.length, 0);
      assert.equal(keys!['server_name'], hs2.name);
      assert.deepEqual(keys!['verify_keys'], { [hs2.signingKey.keyId]: { key: encodeBase64(hs2.signingKey.publicKey) } });
      assert.ok(verifiesWith(keys!, hs2.name, hs2.signingKey), 'signed by hs2');
      assert.ok(verifiesWith(keys!, notary.name, notary.signingKey), 'signed by the notary');
    });

    test('GET /query/{serverName}, also for the notary itself; nothing for a server that cannot be reached', async () => {
      for (const name of [hs2.name, notary.name]) {
        const reply = await httpsCall(notary.baseUrl, 'GET', `/_matrix/key/v2/query/${name}`, { ca: fed.ca!.certPem });
        const [keys] = reply.body.server_keys as JsonObject[];
        assert.equal(keys!['server_name'], name);
        assert.ok(verifiesWith(keys!, notary.name, notary.signingKey));
      }
      // Port 1 on loopback: refused at once.
      const nowhere = await httpsCall(notary.baseUrl, 'GET', '/_matrix/key/v2/query/127.0.0.3:1', { ca: fed.ca!.certPem });
      assert.deepEqual(nowhere.body, { server_keys: [] });
    });

    test('a cached response serves while it satisfies minimum_valid_until_ts; a later minimum makes the notary ask again', async () => {
      const before = (await keyRow(notary, hs2.name))!.fetched_ts;
      await post({ server_keys: { [hs2.name]: { [hs2.signingKey.keyId]: {} } } });
      assert.equal((await keyRow(notary, hs2.name))!.fetched_ts, before);
      const reply = await post({ server_keys: { [hs2.name]: { [hs2.signingKey.keyId]: { minimum_valid_until_ts: Date.now() + 30 * 86_400_000 } } } });
      assert.ok((await keyRow(notary, hs2.name))!.fetched_ts > before, 'refetched');
      // Still answered with the best response there is.
      assert.equal((reply.body.server_keys as JsonObject[]).length, 1);
    });

    test('bad queries get the spec errors', async () => {
      const cases: Array<[unknown, string]> = [
        [{}, 'M_MISSING_PARAM'],
        [{ server_keys: [] }, 'M_BAD_JSON'],
        [{ server_keys: { 'bad name!': {} } }, 'M_INVALID_PARAM'],
        [{ server_keys: { [hs2.name]: { 'ed25519:x': { minimum_valid_until_ts: 'soon' } } } }, 'M_BAD_JSON'],
      ];
      for (const [body, errcode] of cases) {
        const reply = await post(body);
        assert.equal(reply.status, 400, JSON.stringify(body));
        assert.equal(reply.body.errcode, errcode);
      }
      assert.deepEqual((await post({ server_keys: {} })).body, { server_keys: [] });
    });
  });
});

describe('an unreachable notary (matrix.org on an isolated LAN)', () => {
  let fed: Federation;
  let hole: Awaited<ReturnType<typeof blackHole>>;
  const warnings: string[] = [];

  before(async () => {
    hole = await blackHole('127.0.0.9');
    const port = hole.port;
    fed = await startFederation({
      federationTuning: { notaryTimeoutMs: 400 },
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) }),
      servers: [
        { name: 'hs1.test', config: { trustedKeyServers: [{ serverName: 'matrix.org', acceptKeysInsecurely: false }], federationHosts: { 'matrix.org': { host: '127.0.0.9', port } } } },
        { name: 'hs2.test' },
        { name: 'hs3.test' },
      ],
    });
  });
  after(async () => {
    await fed?.close();
    hole?.server.close();
  });

  test('the start-up log says how to avoid it', () => {
    assert.equal(warnings.filter((w) => /trusted_key_servers uses matrix\.org.*trusted_key_servers: \[\]/.test(w)).length, 1);
  });

  test('costs one short timeout, shared by concurrent requests, then keys come from each server directly without asking it again', async () => {
    const [hs1, hs2, hs3] = fed.servers as [FederatedServer, FederatedServer, FederatedServer];
    const started = Date.now();
    // Requests arriving together share the one fetch.
    await Promise.all([signedRequest(hs2, hs1), signedRequest(hs2, hs1), signedRequest(hs2, hs1)]);
    assert.ok(Date.now() - started >= 400, 'the first fetch waited for the notary');
    assert.equal((await keyRow(hs1, hs2.name))?.from_server, hs2.name);
    // The next server's key is fetched without asking the notary again.
    await signedRequest(hs3, hs1);
    assert.equal((await keyRow(hs1, hs3.name))?.from_server, hs3.name);
    assert.equal(hole.connections(), 1);
  });
});

for (const engine of ENGINES) {
  describe(`the key cache across a restart (${engine})`, () => {
    test('a restarted server verifies with the stored key instead of fetching again', async () => {
      const fed = await startFederation({ servers: [{ name: 'hs1.test', engine }, { name: 'hs2.test', engine }] });
      try {
        const [hs1, hs2] = fed.servers as [FederatedServer, FederatedServer];
        await signedRequest(hs2, hs1);
        const stored = (await keyRow(hs1, hs2.name))!;
        await hs1.restart();
        await signedRequest(hs2, hs1);
        assert.deepEqual(await keyRow(hs1, hs2.name), stored);
      } finally {
        await fed.close();
      }
    });
  });
}

/**
 * A server that rotated its key at `rotatedAt`: /_matrix/key/v2/server lists
 * the new key, valid for a day, and the old one in old_verify_keys.
 */
async function rotatedKeyServer(ca: TestCa, address: string, rotatedAt: number) {
  const oldKey = generateSigningKey('old');
  const newKey = generateSigningKey('new');
  const cert = await ca.issue(['rotated.test']);
  const validUntil = Date.now() + 86_400_000;
  const state = { requests: 0, failNext: false };
  const server: Server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    state.requests++;
    if (state.failNext) {
      state.failNext = false;
      res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"errcode":"M_UNKNOWN","error":"down for a moment"}');
      return;
    }
    const body = signJson(
      {
        server_name: 'rotated.test',
        valid_until_ts: validUntil,
        verify_keys: { [newKey.keyId]: { key: encodeBase64(newKey.publicKey) } },
        old_verify_keys: { [oldKey.keyId]: { key: encodeBase64(oldKey.publicKey), expired_ts: rotatedAt } },
      },
      'rotated.test',
      newKey,
    );
    res.writeHead(req.url === '/_matrix/key/v2/server' ? 200 : 404, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, port: (server.address() as AddressInfo).port, oldKey, newKey, validUntil, state };
}

describe('event signatures with historical keys', () => {
  const rotatedAt = Date.now() - 3_600_000;
  let fed: Federation;
  let hs1: FederatedServer;
  let rotated: Awaited<ReturnType<typeof rotatedKeyServer>>;

  before(async () => {
    const ca = await createTestCa();
    rotated = await rotatedKeyServer(ca, '127.0.0.8', rotatedAt);
    fed = await startFederation({ ca, servers: [{ name: 'hs1.test', config: { federationHosts: { 'rotated.test': { host: '127.0.0.8', port: rotated.port } } } }] });
    hs1 = fed.servers[0]!;
  });
  after(async () => {
    await fed?.close();
    rotated?.server.close();
  });

  function event(version: string, ts: number, key: SigningKey, extra: Partial<UnsignedPdu> = {}): PDU {
    const rules = ROOM_VERSIONS.get(version)!;
    const pdu: UnsignedPdu = {
      room_id: rules.roomIdIsCreateEventHash ? '!Mdg9Je3eR9ZrANOOnKzLKQ9kO1a0pIVUmcM2h_-lf6c' : '!room:rotated.test',
      type: 'm.room.message',
      sender: '@alice:rotated.test',
      content: { msgtype: 'm.text', body: 'hello' },
      origin_server_ts: ts,
      depth: 5,
      prev_events: [],
      auth_events: [],
      ...extra,
    } as UnsignedPdu;
    return finaliseEvent(pdu, 'rotated.test', key, rules);
  }

  const verify = (pdu: PDU, version: string) => hs1.services.federation.keyRing.verifyEventSignatures(pdu, ROOM_VERSIONS.get(version)!);
  const refused = (pattern: RegExp) => (err: unknown) => err instanceof SignatureError && pattern.test(err.message);

  for (const version of ['10', '12']) {
    test(`room v${version}: an event signed before the rotation verifies with the old key; one signed after is refused`, async () => {
      await verify(event(version, rotatedAt - 60_000, rotated.oldKey), version);
      await assert.rejects(verify(event(version, rotatedAt + 60_000, rotated.oldKey), version), refused(/keys of rotated\.test that signed \(ed25519:old\) are expired/));
      await verify(event(version, Date.now(), rotated.newKey), version);
    });

    test(`room v${version}: a bad signature from a known key is refused`, async () => {
      const pdu = event(version, Date.now(), rotated.newKey);
      await assert.rejects(verify({ ...pdu, type: 'm.room.topic' }, version), refused(/signature of rotated\.test with key ed25519:new is not valid/));
      // The signature covers the redacted event only: a changed body still verifies (the content hash catches it).
      await verify({ ...pdu, content: { msgtype: 'm.text', body: 'changed' } }, version);
    });
  }

  test('from room v5, a key is valid only until its valid_until_ts; v4 ignores it', async () => {
    const future = rotated.validUntil + 3_600_000;
    await assert.rejects(verify(event('5', future, rotated.newKey), '5'), refused(/expired or not valid at the time of signing/));
    await verify(event('4', future, rotated.newKey), '4');
  });

  test('rooms v1–2 also need the signature of the server in the event ID', async () => {
    const pdu = event('2', Date.now(), rotated.newKey, { event_id: '$abc:elsewhere.test' });
    await assert.rejects(verify(pdu, '2'), refused(/not signed by elsewhere\.test/));
  });

  test('a restricted join needs the signature of the authorising server', async () => {
    const join = event('10', Date.now(), rotated.newKey, {
      type: 'm.room.member',
      state_key: '@alice:rotated.test',
      content: { membership: 'join', join_authorised_via_users_server: '@admin:hs1.test' },
    });
    await assert.rejects(verify(join, '10'), refused(/not signed by hs1\.test/));
    const countersigned = finaliseEvent(join, hs1.name, hs1.signingKey, ROOM_VERSIONS.get('10')!);
    await verify(countersigned, '10');
  });

  test("the notary serves the rotated server's response, old keys included, with its own signature added", async () => {
    const reply = await httpsCall(hs1.baseUrl, 'GET', '/_matrix/key/v2/query/rotated.test', { ca: fed.ca!.certPem });
    const [keys] = reply.body.server_keys as JsonObject[];
    assert.deepEqual(Object.keys(keys!['old_verify_keys'] as JsonObject), [rotated.oldKey.keyId]);
    assert.ok(verifiesWith(keys!, 'rotated.test', rotated.newKey));
    assert.ok(verifiesWith(keys!, hs1.name, hs1.signingKey));
  });

  test('a server that answers an error at once is asked again by the next query (no back-off)', async () => {
    const query = () =>
      httpsCall(hs1.baseUrl, 'POST', '/_matrix/key/v2/query', {
        ca: fed.ca!.certPem,
        body: { server_keys: { 'rotated.test': { [rotated.newKey.keyId]: { minimum_valid_until_ts: rotated.validUntil + 1 } } } },
      });
    const before = rotated.state.requests;
    rotated.state.failNext = true;
    // The cached response is still served when the server fails.
    assert.equal(((await query()).body.server_keys as JsonObject[]).length, 1);
    await query();
    assert.equal(rotated.state.requests, before + 2);
  });

  test('old keys never authenticate requests', async () => {
    const authorization = signRequest({ method: 'GET', uri: VERSION_PATH, origin: 'rotated.test', destination: hs1.name }, rotated.oldKey);
    const json = { method: 'GET', uri: VERSION_PATH, origin: 'rotated.test', destination: hs1.name, signatures: { 'rotated.test': { [rotated.oldKey.keyId]: /sig="([^"]+)"/.exec(authorization)![1]! } } };
    await assert.rejects(hs1.services.federation.keyRing.verifyJsonForServer('rotated.test', json, Date.now()), refused(/are expired/));
  });
});
