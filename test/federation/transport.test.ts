// Two (or three) real Axon servers over real TLS: request signing and
// verification, the domain whitelist both ways, certificate checks, SNI and
// Host, and the IP ranges.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import pino from 'pino';
import { signRequest } from '../../src/core/x-matrix.js';
import { FederationError } from '../../src/federation/errors.js';
import { registerUser, type TestUser } from '../helpers/client.js';
import { blackHole, httpsCall, startFederation, type Federation, type FederatedServer } from '../helpers/federation.js';
import { createTestCa, type TestCertificate } from '../helpers/tls.js';

/** An HTTPS server that answers {"ok": true} and remembers each request's SNI and Host. */
async function recordingServer(cert: TestCertificate, address: string): Promise<{ server: Server; port: number; seen: Array<{ sni: string | false | null; host?: string }> }> {
  const seen: Array<{ sni: string | false | null; host?: string }> = [];
  const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    seen.push({ sni: (req.socket as TLSSocket).servername, host: req.headers.host });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok": true}');
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

function rejectsWith(kind: FederationError['kind'], pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof FederationError, `expected a FederationError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

const profilePath = (userId: string): string => `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(userId)}`;

describe('servers over verified TLS', () => {
  let fed: Federation;
  let hs1: FederatedServer;
  let hs2: FederatedServer;
  let hs3: FederatedServer;
  let alice: TestUser;
  let recorder: Awaited<ReturnType<typeof recordingServer>>;
  let rogue: Awaited<ReturnType<typeof recordingServer>>;
  let hole: Awaited<ReturnType<typeof blackHole>>;
  let slow: Awaited<ReturnType<typeof blackHole>>;
  let closedPort: number;

  before(async () => {
    const ca = await createTestCa();
    slow = await blackHole('127.0.0.10');
    const closed = await blackHole('127.0.0.11');
    closedPort = closed.port;
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    recorder = await recordingServer(await ca.issue(['recorder.test', '127.0.0.5']), '127.0.0.5');
    rogue = await recordingServer(await (await createTestCa('a CA nobody trusts')).issue(['rogue.test', 'api.whitelisted.test']), '127.0.0.7');
    hole = await blackHole('127.0.0.6');
    fed = await startFederation({
      ca,
      servers: [
        {
          name: 'hs1.test',
          config: {
            federationHosts: {
              'rogue.test': { host: '127.0.0.7', port: rogue.port },
              'api.whitelisted.test': { host: '127.0.0.7', port: rogue.port },
              'recorder.test': { host: '127.0.0.5', port: recorder.port },
              'slow.test': { host: '127.0.0.10', port: slow.port },
              'down.test': { host: '127.0.0.11', port: closedPort },
            },
            federationCertificateVerificationWhitelist: ['*.whitelisted.test'],
          },
        },
        { name: 'hs2.test' },
        // Federates only with hs1, and keeps Synapse's default IP blacklist (no ip_range_whitelist).
        { name: 'hs3.test', domainWhitelist: ['hs1.test', `127.0.0.6:${hole.port}`, `localhost:${hole.port}`], config: { ipRangeWhitelist: [], federationHosts: { 'hole.test': { host: '127.0.0.6', port: hole.port } } } },
      ],
    });
    [hs1, hs2, hs3] = fed.servers as [FederatedServer, FederatedServer, FederatedServer];
    alice = await registerUser(hs1.clientUrl, 'alice');
  });
  after(async () => {
    await fed?.close();
    recorder?.server.close();
    rogue?.server.close();
    hole?.server.close();
    slow?.server.close();
  });

  test('a signed request is accepted and answered (keys fetched from the origin directly)', async () => {
    const profile = await hs2.services.federation.client.request(hs1.name, 'GET', '/_matrix/federation/v1/query/profile', { query: { user_id: alice.userId } });
    assert.deepEqual(profile, { displayname: 'alice' });
    const row = await hs1.services.db.queryOne<{ from_server: string; key_id: string }>('SELECT from_server, key_id FROM server_keys WHERE server_name = ?', [hs2.name]);
    assert.deepEqual(row, { from_server: hs2.name, key_id: hs2.signingKey.keyId });
  });

  test('the version endpoint names Axon; unknown federation paths are 404 M_UNRECOGNIZED', async () => {
    assert.deepEqual(await hs2.services.federation.client.request(hs1.name, 'GET', '/_matrix/federation/v1/version'), { server: { name: 'Axon', version: '0.1.0' } });
    const unknown = await httpsCall(hs1.baseUrl, 'GET', '/_matrix/federation/v1/no_such_thing', { ca: fed.ca!.certPem });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.errcode, 'M_UNRECOGNIZED');
  });

  describe('inbound authentication', () => {
    const signed = (overrides: { destination?: string; uri?: string } = {}): string =>
      signRequest({ method: 'GET', uri: overrides.uri ?? profilePath(alice.userId), origin: hs2.name, destination: overrides.destination ?? hs1.name }, hs2.signingKey);
    const call = (authorization?: string) =>
      httpsCall(hs1.baseUrl, 'GET', profilePath(alice.userId), { ca: fed.ca!.certPem, headers: authorization === undefined ? {} : { Authorization: authorization } });
    /** Each Authorization header gets `status` M_UNAUTHORIZED with an error matching its pattern. */
    const expectRefused = async (status: number, cases: Array<[string | undefined, RegExp]>): Promise<void> => {
      for (const [authorization, message] of cases) {
        const reply = await call(authorization);
        assert.equal(reply.status, status, `${authorization}: ${JSON.stringify(reply.body)}`);
        assert.equal(reply.body.errcode, 'M_UNAUTHORIZED');
        assert.match(String(reply.body.error), message);
      }
    };

    test('a hand-signed request in any header spelling the spec allows is accepted', async () => {
      assert.equal((await call(signed())).status, 200);
      const sig = /sig="([^"]+)"/.exec(signed())![1]!;
      const loose = `x-matrix  ORIGIN=${hs2.name} , key="${hs2.signingKey.keyId}",\tsig="${sig}",destination="${hs1.name}"`;
      const reply = await call(loose);
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
    });

    test('unsigned, badly signed, signed for another path or another destination: 401 M_UNAUTHORIZED', async () => {
      const good = signed();
      const badSig = good.replace(/sig="([^"]{4})/, (_m, first: string) => `sig="${first === 'AAAA' ? 'BBBB' : 'AAAA'}`);
      const cases: Array<[string | undefined, RegExp]> = [
        [undefined, /Missing Authorization header/],
        [badSig, /Invalid X-Matrix signature from hs2\.test: the signature of hs2\.test with key .* is not valid/],
        [signed({ uri: profilePath('@someone:hs1.test') }), /Invalid X-Matrix signature/],
        [signed({ destination: 'hs3.test' }), /addressed to hs3\.test, but this server is hs1\.test/],
        [good.replace(hs2.signingKey.keyId, 'ed25519:unknown'), /no key of hs2\.test could be found/],
      ];
      await expectRefused(401, cases);
    });

    test('a header that does not parse: 400 M_UNAUTHORIZED, as Synapse answers', async () => {
      const cases: Array<[string | undefined, RegExp]> = [
        [`Bearer ${alice.accessToken}`, /Malformed Authorization header: .*X-Matrix scheme/],
        ['X-Matrix origin=hs2.test,key="ed25519:x"', /no sig parameter/],
        ['X-Matrix origin=localhost:http,key="ed25519:x",sig="x"', /origin "localhost:http" is not a server name/],
      ];
      await expectRefused(400, cases);
    });

    test('a request signed without a destination (servers before v1.3) is still accepted', async () => {
      const withoutDestination = signed().replace(`destination="${hs1.name}",`, '');
      assert.equal((await call(withoutDestination)).status, 200);
    });
  });

  describe('federation_domain_whitelist', () => {
    test('nothing is sent to a server not on it: the client refuses before connecting', async () => {
      await assert.rejects(hs3.services.federation.client.request('hole.test', 'GET', '/_matrix/federation/v1/version'), rejectsWith('refused', /hole\.test: it is not in federation_domain_whitelist/));
      assert.equal(hole.connections(), 0);
    });

    test('a request from a server not on it is refused with 403 M_FORBIDDEN', async () => {
      await assert.rejects(hs2.services.federation.client.request(hs3.name, 'GET', profilePath('@x:hs3.test').split('?')[0]!, { query: { user_id: '@x:hs3.test' } }), (err: unknown) => {
        assert.ok(err instanceof FederationError);
        assert.equal(err.kind, 'http');
        assert.equal(err.status, 403);
        assert.equal(err.errcode, 'M_FORBIDDEN');
        assert.match(err.message, /hs3\.test answered GET .* with HTTP 403: M_FORBIDDEN Federation with hs2\.test is not allowed/);
        return true;
      });
    });

    test('requests to our own name are refused', async () => {
      await assert.rejects(hs1.services.federation.client.request(hs1.name, 'GET', '/_matrix/federation/v1/version'), rejectsWith('refused', /this server's own name/));
    });
  });

  describe('outbound TLS', () => {
    test('a certificate from an untrusted CA is refused, saying why and what to change', async () => {
      await assert.rejects(
        hs1.services.federation.client.request('rogue.test', 'GET', '/_matrix/federation/v1/version'),
        rejectsWith('tls', /TLS certificate of rogue\.test \(127\.0\.0\.7:\d+\) is not trusted: .*federation_custom_ca_list/),
      );
      assert.equal(rogue.seen.length, 0);
    });

    test('federation_certificate_verification_whitelist (globs) skips the check for matching names', async () => {
      assert.deepEqual(await hs1.services.federation.client.request('api.whitelisted.test', 'GET', '/_matrix/federation/v1/version'), { ok: true });
      assert.equal(rogue.seen.length, 1);
    });

    test('SNI is the name the certificate must carry, none for IP literals; Host is the server name', async () => {
      const client = hs1.services.federation.client;
      await client.request('recorder.test', 'GET', '/_matrix/federation/v1/version');
      await client.request(`127.0.0.5:${recorder.port}`, 'GET', '/_matrix/federation/v1/version');
      assert.deepEqual(recorder.seen, [
        { sni: 'recorder.test', host: 'recorder.test' },
        { sni: false, host: `127.0.0.5:${recorder.port}` },
      ]);
    });
  });

  describe('failures say what failed', () => {
    test('a server that accepts but never answers: timeout', async () => {
      await assert.rejects(
        hs1.services.federation.client.request('slow.test', 'GET', '/_matrix/federation/v1/version', { timeoutMs: 300 }),
        rejectsWith('timeout', /^slow\.test \(127\.0\.0\.10:\d+\) did not answer within 300 ms \(timed out connecting\)$/),
      );
      assert.equal(slow.connections(), 1);
    });

    test('nothing listening: connect', async () => {
      await assert.rejects(
        hs1.services.federation.client.request('down.test', 'GET', '/_matrix/federation/v1/version'),
        rejectsWith('connect', /^down\.test \(127\.0\.0\.11:\d+\) refused the connection \(is its federation listener on port \d+\?\)$/),
      );
    });

    test('a caller that gives up: aborted', async () => {
      const controller = new AbortController();
      const pending = hs1.services.federation.client.request('slow.test', 'GET', '/_matrix/federation/v1/version', { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending, rejectsWith('aborted', /cancelled/));
    });

    test('responses are capped; the raw variant returns bytes', async () => {
      const client = hs2.services.federation.client;
      const raw = await client.requestRaw(hs1.name, 'GET', '/_matrix/federation/v1/version', { maxBytes: 1000 });
      assert.equal(raw.status, 200);
      assert.deepEqual(JSON.parse(raw.body.toString('utf8')), { server: { name: 'Axon', version: '0.1.0' } });
      await assert.rejects(client.requestRaw(hs1.name, 'GET', '/_matrix/federation/v1/version', { maxBytes: 10 }), rejectsWith('response', /larger than the limit of 10 bytes/));
    });
  });

  test('the TLS listener serves client, federation and key APIs; the client-only listener not the last two', async () => {
    const ca = fed.ca!.certPem;
    assert.equal((await httpsCall(hs1.baseUrl, 'GET', '/_matrix/key/v2/server', { ca })).status, 200);
    assert.equal((await httpsCall(hs1.baseUrl, 'GET', '/_matrix/client/versions', { ca })).status, 200);
    for (const path of ['/_matrix/key/v2/server', '/_matrix/federation/v1/version']) {
      const reply = await fetch(`${hs1.clientUrl}${path}`);
      assert.equal(reply.status, 404, path);
      assert.equal(((await reply.json()) as { errcode: string }).errcode, 'M_UNRECOGNIZED');
    }
  });

  describe('the IP ranges', () => {
    test('without ip_range_whitelist, loopback is refused before connecting, pointing at ip_range_whitelist', async () => {
      const client = hs3.services.federation.client;
      // federation_hosts to an IP, an IP literal, and a name resolved by the system resolver (localhost).
      for (const destination of [hs1.name, `127.0.0.6:${hole.port}`, `localhost:${hole.port}`]) {
        await assert.rejects(client.request(destination, 'GET', '/_matrix/federation/v1/version'), rejectsWith('refused', /127\.0\.0\.\d.* is in a blocked IP range.*ip_range_whitelist/), destination);
      }
      assert.equal(hole.connections(), 0);
    });
  });
});

describe('the seed\'s setup: self-signed certificates, verification off', () => {
  test('servers federate, and the start-up log warns loudly', async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const fed = await startFederation({ verifyCertificates: false, logger, servers: [{ name: 'hs1.test' }, { name: 'hs2.test' }] });
    try {
      assert.equal(warnings.filter((w) => /federation_verify_certificates is false: certificates of other servers are NOT checked/.test(w)).length, 2);
      const [hs1, hs2] = fed.servers as [FederatedServer, FederatedServer];
      const bob = await registerUser(hs1.clientUrl, 'bob');
      assert.deepEqual(await hs2.services.federation.client.request(hs1.name, 'GET', profilePath(bob.userId).split('?')[0]!, { query: { user_id: bob.userId } }), {
        displayname: 'bob',
      });
    } finally {
      await fed.close();
    }
  });
});
