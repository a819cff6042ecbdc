import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { IpPolicy } from '../../src/core/ip-policy.js';
import {
  httpsWellKnownFetcher,
  ServerResolver,
  WELL_KNOWN_DEFAULT_CACHE_MS,
  WELL_KNOWN_ERROR_FIRST_MS,
  WELL_KNOWN_MAX_CACHE_MS,
  type ResolverOptions,
  type SrvRecord,
  type WellKnownResponse,
} from '../../src/federation/discovery.js';
import { OutboundConnector } from '../../src/federation/https.js';
import { TlsPolicy } from '../../src/federation/tls-policy.js';
import { createTestCa, type TestCa } from '../helpers/tls.js';

/** A resolver over fake DNS and /.well-known, counting what it is asked. */
function fakeResolver(opts: {
  wellKnown?: Record<string, WellKnownResponse | Error>;
  srv?: Record<string, SrvRecord[] | Error>;
  federationHosts?: ResolverOptions['federationHosts'];
  clock?: () => number;
}) {
  const asked = { wellKnown: [] as string[], srv: [] as string[] };
  const resolver = new ServerResolver({
    federationHosts: opts.federationHosts,
    clock: opts.clock,
    random: () => 0,
    fetchWellKnown: async (hostname) => {
      asked.wellKnown.push(hostname);
      const answer = opts.wellKnown?.[hostname] ?? json(404, { errcode: 'M_NOT_FOUND' });
      if (answer instanceof Error) throw answer;
      return answer;
    },
    resolveSrv: async (name) => {
      asked.srv.push(name);
      const answer = opts.srv?.[name] ?? [];
      if (answer instanceof Error) throw answer;
      return answer;
    },
  });
  return { resolver, asked };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): WellKnownResponse {
  return { status, headers, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) };
}

const srv = (name: string, port: number, priority = 10, weight = 0): SrvRecord => ({ name, port, priority, weight });

describe('discovery follows the spec order', () => {
  test('federation_hosts comes first, and the certificate is still checked against the server name', async () => {
    const { resolver, asked } = fakeResolver({ federationHosts: { whatsapp3: { host: '192.168.1.20', port: 8448 }, '10.0.0.1:9': { host: 'hs.lan', port: 443 } } });
    const r = await resolver.resolve('whatsapp3');
    assert.deepEqual(r.targets, [{ host: '192.168.1.20', port: 8448, hostHeader: 'whatsapp3', certificateName: 'whatsapp3' }]);
    assert.deepEqual(r.trace, [{ step: 'federation_hosts', found: 'whatsapp3 → 192.168.1.20:8448' }]);
    // Even an IP-literal server name is mapped when listed.
    assert.equal((await resolver.resolve('10.0.0.1:9')).targets[0]!.host, 'hs.lan');
    assert.deepEqual(asked, { wellKnown: [], srv: [] });
  });

  test('1: an IP literal is used as is, with port 8448 unless given; Host is the server name', async () => {
    const { resolver, asked } = fakeResolver({});
    assert.deepEqual((await resolver.resolve('192.0.2.7')).targets, [{ host: '192.0.2.7', port: 8448, hostHeader: '192.0.2.7', certificateName: '192.0.2.7' }]);
    assert.deepEqual((await resolver.resolve('[2001:db8::1]:8000')).targets, [
      { host: '2001:db8::1', port: 8000, hostHeader: '[2001:db8::1]:8000', certificateName: '2001:db8::1' },
    ]);
    assert.deepEqual(asked, { wellKnown: [], srv: [] });
  });

  test('2: a host name with an explicit port skips .well-known and SRV', async () => {
    const { resolver, asked } = fakeResolver({});
    const r = await resolver.resolve('example.org:8000');
    assert.deepEqual(r.targets, [{ host: 'example.org', port: 8000, hostHeader: 'example.org:8000', certificateName: 'example.org' }]);
    assert.deepEqual(r.trace, [{ step: 'explicit port', found: 'connect to example.org:8000' }]);
    assert.deepEqual(asked, { wellKnown: [], srv: [] });
  });

  test('3.1/3.2: a delegated IP literal or host with port is used as is', async () => {
    const { resolver, asked } = fakeResolver({
      wellKnown: { 'a.example': json(200, { 'm.server': '192.0.2.9' }), 'b.example': json(200, { 'm.server': 'deleg.example:1234' }) },
    });
    assert.deepEqual((await resolver.resolve('a.example')).targets, [{ host: '192.0.2.9', port: 8448, hostHeader: '192.0.2.9', certificateName: '192.0.2.9' }]);
    assert.deepEqual((await resolver.resolve('b.example')).targets, [
      { host: 'deleg.example', port: 1234, hostHeader: 'deleg.example:1234', certificateName: 'deleg.example' },
    ]);
    assert.deepEqual(asked.srv, []);
  });

  test('3.3–3.5: a delegated host without port: _matrix-fed._tcp, then _matrix._tcp, then 8448, all for the delegated name', async () => {
    const wellKnown = { 'a.example': json(200, { 'm.server': 'deleg.example' }) };
    const fed = fakeResolver({ wellKnown, srv: { '_matrix-fed._tcp.deleg.example': [srv('target.example', 8443)], '_matrix._tcp.deleg.example': [srv('old.example', 1)] } });
    assert.deepEqual((await fed.resolver.resolve('a.example')).targets, [{ host: 'target.example', port: 8443, hostHeader: 'deleg.example', certificateName: 'deleg.example' }]);
    assert.deepEqual(fed.asked.srv, ['_matrix-fed._tcp.deleg.example']);

    const legacy = fakeResolver({ wellKnown, srv: { '_matrix._tcp.deleg.example': [srv('old.example', 1)] } });
    assert.deepEqual((await legacy.resolver.resolve('a.example')).targets, [{ host: 'old.example', port: 1, hostHeader: 'deleg.example', certificateName: 'deleg.example' }]);

    const none = fakeResolver({ wellKnown });
    const r = await none.resolver.resolve('a.example');
    assert.deepEqual(r.targets, [{ host: 'deleg.example', port: 8448, hostHeader: 'deleg.example', certificateName: 'deleg.example' }]);
    assert.deepEqual(
      r.trace.map((s) => s.step),
      ['GET https://a.example/.well-known/matrix/server', 'SRV _matrix-fed._tcp.deleg.example', 'SRV _matrix._tcp.deleg.example', 'delegated default port'],
    );
  });

  test('4–6: without a valid .well-known: SRV on the server name (Host and certificate stay the server name), then 8448', async () => {
    const fed = fakeResolver({ srv: { '_matrix-fed._tcp.example.org': [srv('matrix.example.org', 443)] } });
    const r = await fed.resolver.resolve('example.org');
    assert.deepEqual(r.targets, [{ host: 'matrix.example.org', port: 443, hostHeader: 'example.org', certificateName: 'example.org' }]);
    assert.deepEqual(r.trace, [
      { step: 'GET https://example.org/.well-known/matrix/server', found: 'HTTP 404' },
      { step: 'SRV _matrix-fed._tcp.example.org', found: 'matrix.example.org:443 (priority 10, weight 0)' },
    ]);

    const legacy = fakeResolver({ srv: { '_matrix._tcp.example.org': [srv('old.example.org', 8008)] } });
    assert.equal((await legacy.resolver.resolve('example.org')).targets[0]!.host, 'old.example.org');

    for (const bad of [json(200, 'not json'), json(200, { 'm.server': 42 }), json(200, { 'm.server': 'bad name!' }), new Error('ECONNREFUSED')]) {
      const plain = fakeResolver({ wellKnown: { 'example.org': bad }, srv: { '_matrix-fed._tcp.example.org': new Error('ESERVFAIL') } });
      const resolved = await plain.resolver.resolve('example.org');
      assert.deepEqual(resolved.targets, [{ host: 'example.org', port: 8448, hostHeader: 'example.org', certificateName: 'example.org' }]);
      assert.equal(resolved.trace.at(-1)!.step, 'default port');
    }
  });

  test('a DNS failure on SRV is traced and treated as no record (a LAN without a DNS server)', async () => {
    const err = Object.assign(new Error('queryTxt ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const { resolver } = fakeResolver({ srv: { '_matrix-fed._tcp.hs.lan': err } });
    const r = await resolver.resolve('hs.lan');
    assert.equal(r.trace[1]!.found, 'lookup failed (ECONNREFUSED), treated as no record');
    assert.deepEqual(r.targets[0], { host: 'hs.lan', port: 8448, hostHeader: 'hs.lan', certificateName: 'hs.lan' });
  });

  test('SRV targets are ordered by priority, then weight', async () => {
    const { resolver } = fakeResolver({
      srv: { '_matrix-fed._tcp.example.org': [srv('c.example', 3, 20), srv('a.example', 1, 10, 5), srv('b.example', 2, 10, 0)] },
    });
    assert.deepEqual((await resolver.resolve('example.org')).targets.map((t) => t.host), ['a.example', 'b.example', 'c.example']);
  });

  test('an invalid server name is a discovery error', async () => {
    const { resolver } = fakeResolver({});
    await assert.rejects(resolver.resolve('not a name'), (err: Error & { kind?: string }) => err.kind === 'discovery' && /not a valid server name/.test(err.message));
  });
});

describe('.well-known caching', () => {
  function clocked(wellKnown: Record<string, WellKnownResponse | Error>) {
    let now = 1_000_000;
    const fake = fakeResolver({ wellKnown, clock: () => now });
    return { ...fake, advance: (ms: number) => (now += ms) };
  }

  test('a response without cache headers is kept 24 hours', async () => {
    const t = clocked({ 'a.example': json(200, { 'm.server': 'b.example:1' }) });
    await t.resolver.resolve('a.example');
    t.advance(WELL_KNOWN_DEFAULT_CACHE_MS - 1);
    const cached = await t.resolver.resolve('a.example');
    assert.equal(cached.trace[0]!.found, 'm.server is b.example:1 (cached)');
    assert.equal(t.asked.wellKnown.length, 1);
    t.advance(2);
    await t.resolver.resolve('a.example');
    assert.equal(t.asked.wellKnown.length, 2);
  });

  test('Cache-Control max-age is respected up to 48 hours; no-store is not cached; Expires is read', async () => {
    const t = clocked({
      'short.example': json(200, { 'm.server': 'x.example:1' }, { 'cache-control': 'public, max-age=3600' }),
      'long.example': json(200, { 'm.server': 'x.example:1' }, { 'cache-control': 'max-age=864000' }),
      'never.example': json(200, { 'm.server': 'x.example:1' }, { 'cache-control': 'no-store' }),
      'expires.example': json(200, { 'm.server': 'x.example:1' }, { expires: new Date(1_000_000 + 600_000).toUTCString() }),
    });
    for (const name of ['short.example', 'long.example', 'never.example', 'expires.example']) await t.resolver.resolve(name);
    await t.resolver.resolve('never.example');
    assert.equal(t.asked.wellKnown.filter((n) => n === 'never.example').length, 2);
    t.advance(3_600_001);
    for (const name of ['short.example', 'long.example', 'expires.example']) await t.resolver.resolve(name);
    assert.deepEqual(t.asked.wellKnown.filter((n) => n !== 'never.example'), ['short.example', 'long.example', 'expires.example', 'short.example', 'expires.example']);
    t.advance(WELL_KNOWN_MAX_CACHE_MS);
    await t.resolver.resolve('long.example');
    assert.equal(t.asked.wellKnown.filter((n) => n === 'long.example').length, 2);
  });

  test('errors are cached briefly, longer after each repeated failure, and forgotten after a success', async () => {
    const answers: Record<string, WellKnownResponse | Error> = { 'a.example': new Error('connection refused') };
    const t = clocked(answers);
    const fetches = () => t.asked.wellKnown.length;
    await t.resolver.resolve('a.example');
    t.advance(WELL_KNOWN_ERROR_FIRST_MS - 1);
    await t.resolver.resolve('a.example');
    assert.equal(fetches(), 1);
    t.advance(2);
    await t.resolver.resolve('a.example'); // second failure: now cached twice as long
    t.advance(WELL_KNOWN_ERROR_FIRST_MS * 2 - 1);
    await t.resolver.resolve('a.example');
    assert.equal(fetches(), 2);
    t.advance(2);
    answers['a.example'] = json(200, { 'm.server': 'b.example:1' });
    assert.equal((await t.resolver.resolve('a.example')).targets[0]!.host, 'b.example');
    assert.equal(fetches(), 3);
  });

  test('concurrent resolutions share one fetch', async () => {
    const t = clocked({ 'a.example': json(200, { 'm.server': 'b.example:1' }) });
    await Promise.all([t.resolver.resolve('a.example'), t.resolver.resolve('a.example'), t.resolver.resolve('a.example')]);
    assert.equal(t.asked.wellKnown.length, 1);
  });
});

describe('the real .well-known fetch', () => {
  let ca: TestCa;
  let server: Server;
  let port: number;
  const routes = new Map<string, (res: import('node:http').ServerResponse) => void>();

  before(async () => {
    ca = await createTestCa();
    const cert = await ca.issue(['localhost']);
    server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      const route = routes.get(req.url ?? '');
      if (route) route(res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function fetcher(opts: { customCas?: string[]; whitelist?: string[] } = {}) {
    const connector = new OutboundConnector(
      new TlsPolicy({ verifyCertificates: true, customCas: opts.customCas ?? [ca.certPem] }),
      new IpPolicy(['127.0.0.0/8'], opts.whitelist ?? ['127.0.0.0/8']),
    );
    return httpsWellKnownFetcher(connector, { port });
  }

  test('follows redirects over verified HTTPS, and discovery uses the answer', async () => {
    routes.set('/.well-known/matrix/server', (res) => res.writeHead(302, { Location: '/elsewhere' }).end());
    routes.set('/elsewhere', (res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('{"m.server": "delegated.example:8448"}'));
    const resolver = new ServerResolver({ fetchWellKnown: fetcher(), resolveSrv: async () => [] });
    const r = await resolver.resolve('localhost');
    assert.deepEqual(r.targets, [{ host: 'delegated.example', port: 8448, hostHeader: 'delegated.example:8448', certificateName: 'delegated.example' }]);
  });

  test('a redirect loop is an error, and discovery moves on', async () => {
    routes.set('/.well-known/matrix/server', (res) => res.writeHead(301, { Location: '/loop' }).end());
    routes.set('/loop', (res) => res.writeHead(301, { Location: '/.well-known/matrix/server' }).end());
    await assert.rejects(fetcher()('localhost'), /redirect loop/);
    const resolver = new ServerResolver({ fetchWellKnown: fetcher(), resolveSrv: async () => [] });
    const r = await resolver.resolve('localhost');
    assert.match(r.trace[0]!.found, /^no answer: redirect loop/);
    assert.equal(r.targets[0]!.port, 8448);
  });

  test('an untrusted certificate or a blocked address gets no answer, with the reason', async () => {
    const other = await createTestCa('another CA');
    await assert.rejects(fetcher({ customCas: [other.certPem] })('localhost'), /TLS certificate of localhost \(localhost:\d+\) is not trusted/);
    await assert.rejects(fetcher({ whitelist: [] })('localhost'), /localhost \(127\.0\.0\.1\) is in a blocked IP range.*ip_range_whitelist/);
  });
});
