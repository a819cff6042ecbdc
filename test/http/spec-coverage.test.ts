// Every endpoint the spec's OpenAPI data defines answers something the spec
// allows: 404/405 M_UNRECOGNIZED is only for paths the spec does not have.
// This reads every path and method of data/api/client-server/*.yaml in the
// spec checkout beside the repository (../shared/matrix-spec), calls each on
// a real server with a valid access token and placeholder path parameters,
// and fails on any M_UNRECOGNIZED but the ones listed below with a reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

/** Operations for which the spec itself prescribes 404 M_UNRECOGNIZED, with its reason. */
const SPEC_PRESCRIBES_UNRECOGNIZED: Readonly<Record<string, string>> = {
  'GET /_matrix/client/v1/auth_metadata':
    'oauth_server_metadata.yaml and "Authentication API discovery": 404 M_UNRECOGNIZED when the homeserver does not support the OAuth 2.0 API, which Axon does not',
};

/**
 * PENDING — not exceptions to keep. Endpoints other branches implement
 * (refresh tokens, login/get_token, the /account/3pid and requestToken
 * family). Each must still answer M_UNRECOGNIZED here; once its branch is
 * merged the test fails on it, and the entry must be deleted.
 */
const PENDING_ON_OTHER_BRANCHES: ReadonlySet<string> = new Set([
  'POST /_matrix/client/v3/refresh',
  'POST /_matrix/client/v1/login/get_token',
  'POST /_matrix/client/v3/account/3pid',
  'POST /_matrix/client/v3/account/3pid/add',
  'POST /_matrix/client/v3/account/3pid/bind',
  'POST /_matrix/client/v3/account/3pid/delete',
  'POST /_matrix/client/v3/account/3pid/unbind',
  'POST /_matrix/client/v3/account/3pid/email/requestToken',
  'POST /_matrix/client/v3/account/3pid/msisdn/requestToken',
  'POST /_matrix/client/v3/account/password/email/requestToken',
  'POST /_matrix/client/v3/account/password/msisdn/requestToken',
  'POST /_matrix/client/v3/register/email/requestToken',
  'POST /_matrix/client/v3/register/msisdn/requestToken',
]);

/** Calls that end sessions: each is made as a user of its own. */
const ENDS_SESSION: ReadonlySet<string> = new Set(['POST /_matrix/client/v3/logout', 'POST /_matrix/client/v3/logout/all']);

const METHODS = ['get', 'put', 'post', 'delete'] as const;

interface Operation {
  /** e.g. 'GET /_matrix/client/v3/rooms/{roomId}/event/{eventId}' */
  key: string;
  method: string;
  path: string;
  file: string;
}

/**
 * The spec checkout: ../shared/matrix-spec from the repository root, or,
 * in a git worktree kept elsewhere, from the main checkout's root.
 */
function specDirectory(): string {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const candidates = [join(root, '..', 'shared', 'matrix-spec')];
  try {
    const commonDir = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: root, encoding: 'utf8' }).trim();
    candidates.push(join(dirname(commonDir), '..', 'shared', 'matrix-spec'));
  } catch {
    // not a git checkout: only the first candidate applies
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'data', 'api', 'client-server')));
  if (!found) throw new Error(`the Matrix spec is not at ${candidates.join(' or ')}; this test needs its OpenAPI data`);
  return join(found, 'data', 'api', 'client-server');
}

interface OpenApiDocument {
  servers?: Array<{ variables?: { basePath?: { default?: string } } }>;
  paths?: Record<string, Partial<Record<(typeof METHODS)[number], unknown>>>;
}

function specOperations(): Operation[] {
  const dir = specDirectory();
  const operations: Operation[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const doc = parse(readFileSync(join(dir, file), 'utf8')) as OpenApiDocument;
    const basePath = doc.servers?.[0]?.variables?.basePath?.default ?? '';
    for (const [rawPath, item] of Object.entries(doc.paths ?? {})) {
      // peeking_events.yaml writes "/events " so as not to clash with old_sync.yaml's /events.
      const path = rawPath.trim();
      for (const method of METHODS) {
        if (item[method] === undefined) continue;
        const upper = method.toUpperCase();
        operations.push({ key: `${upper} ${basePath}${path}`, method: upper, path: `${basePath}${path}`, file });
      }
    }
  }
  return operations;
}

describe('every Client-Server API endpoint of the spec is routed', () => {
  const operations = specOperations();
  let hs: TestHomeserver;
  let user: TestUser;
  let roomId: string;
  let eventId: string;

  before(async () => {
    hs = await startTestHomeserver();
    user = await registerUser(hs.baseUrl, 'prober');
    roomId = (await call(hs.baseUrl, 'POST', '/_matrix/client/v3/createRoom', {}, user.accessToken)).body.room_id as string;
    eventId = (await call(hs.baseUrl, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/probe`, { msgtype: 'm.text', body: 'probe' }, user.accessToken)).body
      .event_id as string;
  });
  after(async () => hs.close());

  /** Real values where one is at hand (so handlers get past lookups), a placeholder elsewhere. */
  function concretePath(path: string): string {
    const values: Record<string, string> = { userId: user.userId, roomId, roomIdOrAlias: roomId, eventId };
    return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? 'placeholder'));
  }

  /** The prober's token, or for a call that ends sessions (/logout/all ends all of a user's) one of a user of its own. */
  async function tokenFor(op: Operation, index: number): Promise<string> {
    if (!ENDS_SESSION.has(op.key)) return user.accessToken;
    return (await registerUser(hs.baseUrl, `throwaway${index}`)).accessToken;
  }

  test('the spec data is read: every file, over a hundred and fifty operations', () => {
    assert.ok(operations.length > 150, `only ${operations.length} operations found`);
    for (const key of ['GET /_matrix/client/versions', 'GET /.well-known/matrix/client', 'POST /_matrix/media/v3/upload', 'GET /_matrix/client/v1/room_summary/{roomIdOrAlias}']) {
      assert.ok(operations.some((op) => op.key === key), `${key} is missing from what was read`);
    }
    for (const key of [...Object.keys(SPEC_PRESCRIBES_UNRECOGNIZED), ...PENDING_ON_OTHER_BRANCHES]) {
      assert.ok(operations.some((op) => op.key === key), `${key} is listed here but the spec does not define it`);
    }
  });

  test('no operation answers M_UNRECOGNIZED, except where the spec prescribes it (and pending work)', async () => {
    const unrecognized: string[] = [];
    const nowImplemented: string[] = [];
    for (const [index, op] of operations.entries()) {
      // GETs get timeout=0 so that long polls (/sync, /events) answer at once.
      const query = op.method === 'GET' ? '?timeout=0' : '';
      const body = op.method === 'POST' || op.method === 'PUT' ? {} : undefined;
      const res = await call(hs.baseUrl, op.method, `${concretePath(op.path)}${query}`, body, await tokenFor(op, index));
      const isUnrecognized = (res.body as { errcode?: unknown }).errcode === 'M_UNRECOGNIZED';
      const prescribed = SPEC_PRESCRIBES_UNRECOGNIZED[op.key];
      if (prescribed !== undefined) {
        assert.deepEqual([res.status, isUnrecognized], [404, true], `${op.key}: ${prescribed}`);
      } else if (PENDING_ON_OTHER_BRANCHES.has(op.key)) {
        if (!isUnrecognized) nowImplemented.push(op.key);
      } else if (isUnrecognized) {
        unrecognized.push(`${op.key} (${op.file}) → ${res.status}`);
      }
    }
    const whoami = await call(hs.baseUrl, 'GET', '/_matrix/client/v3/account/whoami', undefined, user.accessToken);
    assert.equal(whoami.status, 200, 'every call was made with a valid access token');
    assert.deepEqual(unrecognized, [], 'spec endpoints answering M_UNRECOGNIZED');
    assert.deepEqual(nowImplemented, [], 'implemented now: delete these from PENDING_ON_OTHER_BRANCHES');
  });
});
