// The edge over real HTTP, with test routes and a fake authenticator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import pino from 'pino';
import type { RateLimits } from '../../src/config/types.js';
import { MatrixError } from '../../src/core/errors.js';
import { RateLimiters } from '../../src/http/rate-limit.js';
import { Router } from '../../src/http/router.js';
import { closeServer, createRequestListener, listen, type BoundServer } from '../../src/http/server.js';
import type { MatrixRequest, Requester, Route } from '../../src/http/types.js';
import { requireObject, requireString } from '../../src/http/validate.js';

const ALICE: Requester = { userId: '@alice:test', deviceId: 'ADEV', isGuest: false, isAdmin: false, accessTokenId: 1 };
const ADMIN: Requester = { userId: '@admin:test', deviceId: 'BDEV', isGuest: false, isAdmin: true, accessTokenId: 2 };
const TOKENS = new Map([
  ['alice_token', ALICE],
  ['admin_token', ADMIN],
]);

const JSON_LIMIT = 1024;
const UPLOAD_LIMIT = 2048;

let lastRequest: MatrixRequest | undefined;
const record = async (req: MatrixRequest) => {
  lastRequest = req;
  return { body: { ok: true } };
};

const routes: Route[] = [
  { method: 'POST', path: '/_matrix/client/v3/echo', auth: 'none', body: 'json', handler: async (req) => ({ body: requireObject(req.body) }) },
  { method: 'POST', path: '/_matrix/client/v3/needs_name', auth: 'none', handler: async (req) => ({ body: { name: requireString(requireObject(req.body), 'name') } }) },
  { method: 'GET', path: '/_matrix/client/v3/whoami', auth: 'required', handler: async (req) => ({ body: { user_id: req.requester!.userId } }) },
  { method: 'GET', path: '/_matrix/client/v3/maybe', auth: 'optional', handler: async (req) => ({ body: { user_id: req.requester?.userId ?? null } }) },
  { method: 'PUT', path: '/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}', auth: 'required', rateLimit: 'message', handler: record },
  { method: 'POST', path: '/_matrix/client/v3/register', auth: 'none', rateLimit: 'registration', handler: record },
  { method: 'POST', path: '/_matrix/media/v3/upload', auth: 'required', body: 'raw', handler: async (req) => ({ body: { size: req.rawBody!.length } }) },
  { method: 'GET', path: '/_matrix/media/v3/download/{serverName}/{mediaId}', auth: 'none', handler: async () => ({ body: Buffer.from('PNGDATA'), headers: { 'Content-Type': 'image/png' } }) },
  { method: 'GET', path: '/_matrix/client/v3/boom', auth: 'none', handler: async () => { throw new Error('secret internal detail'); } },
  { method: 'GET', path: '/_matrix/client/v3/teapot', auth: 'none', handler: async () => { throw new MatrixError(418, 'M_TEAPOT', 'short and stout', { extra_field: 1 }); } },
  { method: 'GET', path: '/_matrix/federation/v1/version', auth: 'none', handler: async () => ({ body: { server: { name: 'Axon' } } }) },
  { method: 'GET', path: '/_matrix/federation/v1/record', auth: 'none', handler: record },
];

const limits: RateLimits = {
  message: { perSecond: 0.5, burstCount: 2 },
  registration: { perSecond: 0.1, burstCount: 1 },
  login: { address: { perSecond: 1, burstCount: 1 }, account: { perSecond: 1, burstCount: 1 }, failedAttempts: { perSecond: 1, burstCount: 1 } },
  thirdPartyInvite: { perSecond: 1, burstCount: 1 },
  other: {},
};

let clientServer: BoundServer;
let federationServer: BoundServer;
let base: string;
let fedBase: string;
const logged: string[] = [];

before(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
  const edge = {
    router: new Router(routes),
    authenticate: async (token: string) => TOKENS.get(token),
    rateLimiters: new RateLimiters(limits, () => 0),
    logger,
    maxUploadSize: UPLOAD_LIMIT,
    maxJsonBodySize: JSON_LIMIT,
  };
  clientServer = await listen(createRequestListener(edge, { resources: ['client', 'media'], xForwarded: false }), '127.0.0.1', 0, undefined);
  federationServer = await listen(createRequestListener(edge, { resources: ['federation'], xForwarded: true }), '127.0.0.1', 0, undefined);
  base = `http://127.0.0.1:${clientServer.port}`;
  fedBase = `http://127.0.0.1:${federationServer.port}`;
});

after(async () => {
  await closeServer(clientServer.server);
  await closeServer(federationServer.server);
});

async function call(method: string, path: string, init: { body?: string | Buffer; headers?: Record<string, string>; baseUrl?: string } = {}) {
  const res = await fetch(`${init.baseUrl ?? base}${path}`, { method, body: init.body, headers: init.headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json: json as Record<string, unknown>, text };
}

/** Sends raw bytes on a socket and returns what came back (the server must answer, not crash). */
function rawExchange(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(clientServer.port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('end', () => resolve(received));
    socket.on('error', (err) => (received ? resolve(received) : reject(err)));
    socket.write(bytes);
  });
}

describe('routing errors', () => {
  test('unknown path: 404 M_UNRECOGNIZED', async () => {
    const r = await call('GET', '/_matrix/client/v3/does_not_exist');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  });

  test('known path, wrong method: 405 M_UNRECOGNIZED', async () => {
    const r = await call('DELETE', '/_matrix/client/v3/whoami');
    assert.equal(r.status, 405);
    assert.equal(r.json['errcode'], 'M_UNRECOGNIZED');
  });

  test('r0 alias reaches the v3 route', async () => {
    const r = await call('GET', '/_matrix/client/r0/whoami', { headers: { Authorization: 'Bearer alice_token' } });
    assert.deepEqual([r.status, r.json], [200, { user_id: '@alice:test' }]);
  });

  test('path parameters arrive decoded', async () => {
    await call('PUT', '/_matrix/client/v3/rooms/!room%3Atest/send/m.room.message/t%2F1', { body: '{}', headers: { Authorization: 'Bearer admin_token' } });
    assert.deepEqual(lastRequest?.params, { roomId: '!room:test', eventType: 'm.room.message', txnId: 't/1' });
  });

  test('invalid percent-encoding in the path: 400, and the server keeps serving', async () => {
    const r = await call('GET', '/_matrix/client/v3/rooms/%E0%A4%A/state');
    assert.deepEqual([r.status, r.json['errcode']], [400, 'M_INVALID_PARAM']);
    assert.equal((await call('GET', '/_matrix/client/v3/maybe')).status, 200);
  });

  test('a handler crash is a generic 500 M_UNKNOWN, logged with its stack', async () => {
    const r = await call('GET', '/_matrix/client/v3/boom');
    assert.deepEqual([r.status, r.json], [500, { errcode: 'M_UNKNOWN', error: 'Internal server error' }]);
    assert.ok(!r.text.includes('secret'));
    assert.ok(logged.some((line) => line.includes('secret internal detail') && line.includes('stack')));
  });

  test('a MatrixError keeps its status and extra fields', async () => {
    const r = await call('GET', '/_matrix/client/v3/teapot');
    assert.deepEqual([r.status, r.json], [418, { extra_field: 1, errcode: 'M_TEAPOT', error: 'short and stout' }]);
  });
});

describe('bodies', () => {
  test('JSON is parsed whatever the Content-Type says', async () => {
    const r = await call('POST', '/_matrix/client/v3/echo', { body: '{"a":1}', headers: { 'Content-Type': 'text/plain' } });
    assert.deepEqual([r.status, r.json], [200, { a: 1 }]);
  });

  test('an empty body reads as {}', async () => {
    const r = await call('POST', '/_matrix/client/v3/echo');
    assert.deepEqual([r.status, r.json], [200, {}]);
  });

  test('malformed JSON: 400 M_NOT_JSON', async () => {
    for (const body of ['{"a":', 'not json', Buffer.from([0x7b, 0xff, 0x7d])]) {
      const r = await call('POST', '/_matrix/client/v3/echo', { body });
      assert.equal(r.status, 400);
      assert.equal(r.json['errcode'], 'M_NOT_JSON');
    }
  });

  test('valid JSON of the wrong shape: 400 M_BAD_JSON; missing field: M_MISSING_PARAM', async () => {
    assert.equal((await call('POST', '/_matrix/client/v3/echo', { body: '[1,2]' })).json['errcode'], 'M_BAD_JSON');
    const missing = await call('POST', '/_matrix/client/v3/needs_name', { body: '{}' });
    assert.deepEqual([missing.status, missing.json['errcode']], [400, 'M_MISSING_PARAM']);
  });

  test('a JSON body over the limit: 413 M_TOO_LARGE (declared length)', async () => {
    const r = await call('POST', '/_matrix/client/v3/echo', { body: JSON.stringify({ pad: 'x'.repeat(JSON_LIMIT) }) });
    assert.equal(r.status, 413);
    assert.equal(r.json['errcode'], 'M_TOO_LARGE');
  });

  test('a chunked body that grows over the limit: 413 M_TOO_LARGE', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/_matrix/client/v3/echo`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 4; i++) req.write('x'.repeat(512));
      req.end();
    });
    assert.equal(status, 413);
  });

  test('raw bodies are capped by max_upload_size, not the JSON limit', async () => {
    const ok = await call('POST', '/_matrix/media/v3/upload', { body: Buffer.alloc(UPLOAD_LIMIT - 1), headers: { Authorization: 'Bearer alice_token' } });
    assert.deepEqual([ok.status, ok.json], [200, { size: UPLOAD_LIMIT - 1 }]);
    const big = await call('POST', '/_matrix/media/v3/upload', { body: Buffer.alloc(UPLOAD_LIMIT + 1), headers: { Authorization: 'Bearer alice_token' } });
    assert.deepEqual([big.status, big.json['errcode']], [413, 'M_TOO_LARGE']);
  });

  test('a Buffer response is sent as-is with its content type', async () => {
    const r = await call('GET', '/_matrix/media/v3/download/test/abc');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.equal(r.text, 'PNGDATA');
  });

  test('a body aborted half-way does not crash the server', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(clientServer.port, '127.0.0.1', () => {
        socket.write('POST /_matrix/client/v3/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"a":');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    assert.equal((await call('GET', '/_matrix/client/v3/maybe')).status, 200);
  });

  test('a client hanging up after an early error (body unread) does not crash the server', async () => {
    for (const head of [
      'POST /_matrix/media/v3/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n',
      `POST /_matrix/client/v3/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${(JSON_LIMIT * 2).toString(16)}\r\n${'x'.repeat(JSON_LIMIT * 2)}`,
    ]) {
      await new Promise<void>((resolve) => {
        const socket = connect(clientServer.port, '127.0.0.1', () => socket.write(`${head}${'y'.repeat(100)}`));
        socket.once('data', () => {
          socket.resetAndDestroy();
          setTimeout(resolve, 50);
        });
      });
    }
    assert.equal((await call('GET', '/_matrix/client/v3/maybe')).status, 200);
  });

  test('huge headers are refused by HTTP itself, and the server keeps serving', async () => {
    const reply = await rawExchange(`GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 431/);
    assert.equal((await call('GET', '/_matrix/client/v3/maybe')).status, 200);
  });
});

describe('authentication', () => {
  test('no token on a required route: 401 M_MISSING_TOKEN', async () => {
    const r = await call('GET', '/_matrix/client/v3/whoami');
    assert.deepEqual([r.status, r.json['errcode']], [401, 'M_MISSING_TOKEN']);
  });

  test('unknown token: 401 M_UNKNOWN_TOKEN with soft_logout false', async () => {
    const r = await call('GET', '/_matrix/client/v3/whoami', { headers: { Authorization: 'Bearer nope' } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { soft_logout: false, errcode: 'M_UNKNOWN_TOKEN', error: 'Unknown access token' });
  });

  test('the legacy access_token query parameter still works', async () => {
    const r = await call('GET', '/_matrix/client/v3/whoami?access_token=alice_token');
    assert.deepEqual([r.status, r.json], [200, { user_id: '@alice:test' }]);
  });

  test('header and query parameter together are refused', async () => {
    const r = await call('GET', '/_matrix/client/v3/whoami?access_token=alice_token', { headers: { Authorization: 'Bearer alice_token' } });
    assert.deepEqual([r.status, r.json['errcode']], [401, 'M_MISSING_TOKEN']);
  });

  test('a non-Bearer Authorization header is refused', async () => {
    const r = await call('GET', '/_matrix/client/v3/whoami', { headers: { Authorization: 'Basic YWxpY2U=' } });
    assert.deepEqual([r.status, r.json['errcode']], [401, 'M_MISSING_TOKEN']);
  });

  test('optional auth: anonymous is fine, a bad token is still refused', async () => {
    assert.deepEqual((await call('GET', '/_matrix/client/v3/maybe')).json, { user_id: null });
    assert.deepEqual((await call('GET', '/_matrix/client/v3/maybe', { headers: { Authorization: 'Bearer alice_token' } })).json, { user_id: '@alice:test' });
    assert.equal((await call('GET', '/_matrix/client/v3/maybe', { headers: { Authorization: 'Bearer bad' } })).json['errcode'], 'M_UNKNOWN_TOKEN');
  });

  test('access tokens never reach the log', async () => {
    await call('GET', '/_matrix/client/v3/whoami?access_token=alice_token');
    assert.ok(logged.length > 0);
    assert.ok(!logged.some((line) => line.includes('alice_token')), 'a log line contains the access token');
  });
});

describe('rate limiting', () => {
  test('429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After, per user', async () => {
    const send = (n: number, token: string) =>
      call('PUT', `/_matrix/client/v3/rooms/!r:test/send/m.room.message/rl${token}${n}`, { body: '{}', headers: { Authorization: `Bearer ${token}` } });
    assert.equal((await send(1, 'alice_token')).status, 200);
    assert.equal((await send(2, 'alice_token')).status, 200);
    const limited = await send(3, 'alice_token');
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.json, { retry_after_ms: 2000, errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests' });
    assert.equal(limited.headers.get('retry-after'), '2');
    // Admins are exempt.
    for (let i = 0; i < 5; i++) assert.equal((await send(i, 'admin_token')).status, 200);
  });

  test('unauthenticated routes are limited per client address', async () => {
    assert.equal((await call('POST', '/_matrix/client/v3/register', { body: '{}' })).status, 200);
    assert.equal((await call('POST', '/_matrix/client/v3/register', { body: '{}' })).status, 429);
  });
});

describe('CORS', () => {
  const expectCors = (headers: Headers) => {
    assert.equal(headers.get('access-control-allow-origin'), '*');
    assert.equal(headers.get('access-control-allow-methods'), 'GET, HEAD, POST, PUT, DELETE, OPTIONS');
    assert.equal(headers.get('access-control-allow-headers'), 'X-Requested-With, Content-Type, Authorization, Date');
  };

  test('on successes and errors alike', async () => {
    expectCors((await call('GET', '/_matrix/client/v3/maybe')).headers);
    expectCors((await call('GET', '/_matrix/client/v3/whoami')).headers);
    expectCors((await call('GET', '/_matrix/client/v3/nothing')).headers);
  });

  test('OPTIONS preflight is 200 {} for any path, without authentication', async () => {
    for (const path of ['/_matrix/client/v3/whoami', '/_matrix/client/v3/unknown/thing', '/.well-known/matrix/client']) {
      const r = await call('OPTIONS', path, { headers: { 'Access-Control-Request-Method': 'GET', Origin: 'https://app.element.io' } });
      assert.deepEqual([r.status, r.json], [200, {}]);
      expectCors(r.headers);
    }
  });
});

describe('listener resources', () => {
  test('a client listener does not serve federation, and the other way round', async () => {
    assert.equal((await call('GET', '/_matrix/federation/v1/version')).status, 404);
    const fed = await call('GET', '/_matrix/federation/v1/version', { baseUrl: fedBase });
    assert.deepEqual([fed.status, fed.json], [200, { server: { name: 'Axon' } }]);
    const client = await call('GET', '/_matrix/client/v3/maybe', { baseUrl: fedBase });
    assert.deepEqual([client.status, client.json['errcode']], [404, 'M_UNRECOGNIZED']);
  });

  test('every listener answers GET /health with OK', async () => {
    for (const baseUrl of [base, fedBase]) {
      const r = await call('GET', '/health', { baseUrl });
      assert.deepEqual([r.status, r.text], [200, 'OK']);
    }
  });

  test('X-Forwarded-For is honoured only where the listener trusts it', async () => {
    await call('PUT', '/_matrix/client/v3/rooms/!r:test/send/m.room.message/xff', { body: '{}', headers: { Authorization: 'Bearer admin_token', 'X-Forwarded-For': '203.0.113.9' } });
    assert.equal(lastRequest?.remoteAddress, '127.0.0.1');
    await call('GET', '/_matrix/federation/v1/record', { baseUrl: fedBase, headers: { 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' } });
    assert.equal(lastRequest?.remoteAddress, '203.0.113.9');
  });
});
