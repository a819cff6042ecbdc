import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '../../src/core/errors.js';
import { Router, pathSegments, type RouteMatch } from '../../src/http/router.js';
import type { Route } from '../../src/http/types.js';

const route = (method: Route['method'], path: string, extra: Partial<Route> = {}): Route => ({
  method,
  path,
  auth: 'none',
  handler: async () => ({ body: { path } }),
  ...extra,
});

function matchOk(router: Router, method: string, path: string): RouteMatch {
  const result = router.match(method, pathSegments(path));
  if (result instanceof MatrixError) assert.fail(`${method} ${path} → ${result.status} ${result.errcode}`);
  return result;
}

function matchErr(router: Router, method: string, path: string): MatrixError {
  const result = router.match(method, pathSegments(path));
  assert.ok(result instanceof MatrixError, `${method} ${path} unexpectedly matched ${'route' in result ? result.route.path : ''}`);
  return result;
}

describe('Router', () => {
  test('extracts percent-decoded parameters', () => {
    const router = new Router([route('GET', '/_matrix/client/v3/profile/{userId}/displayname')]);
    const m = matchOk(router, 'GET', '/_matrix/client/v3/profile/%40alice%3Aexample.org/displayname');
    assert.deepEqual(m.params, { userId: '@alice:example.org' });
  });

  test('a parameter holds one segment: an encoded slash stays inside it, a real slash does not', () => {
    const router = new Router([route('GET', '/_matrix/client/v3/rooms/{roomId}/state')]);
    assert.equal(matchOk(router, 'GET', '/_matrix/client/v3/rooms/a%2Fb/state').params['roomId'], 'a/b');
    assert.equal(matchErr(router, 'GET', '/_matrix/client/v3/rooms/a/b/state').status, 404);
  });

  test('an empty trailing parameter matches (the empty state key)', () => {
    const router = new Router([route('PUT', '/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}')]);
    const m = matchOk(router, 'PUT', '/_matrix/client/v3/rooms/!r:x/state/m.room.name/');
    assert.deepEqual(m.params, { roomId: '!r:x', eventType: 'm.room.name', stateKey: '' });
  });

  test('literal segments win over parameters, and routes with different parameter names coexist', () => {
    const router = new Router([
      route('GET', '/_matrix/client/v3/rooms/{roomId}/members'),
      route('GET', '/_matrix/client/v3/rooms/{id}/{what}'),
      route('GET', '/_matrix/client/v3/user/{userId}/filter/{filterId}'),
      route('POST', '/_matrix/client/v3/user/{userId}/filter'),
    ]);
    assert.equal(matchOk(router, 'GET', '/_matrix/client/v3/rooms/!a:x/members').route.path, '/_matrix/client/v3/rooms/{roomId}/members');
    const other = matchOk(router, 'GET', '/_matrix/client/v3/rooms/!a:x/messages');
    assert.deepEqual(other.params, { id: '!a:x', what: 'messages' });
  });

  test('backtracks from a literal branch that dead-ends to a parameter branch', () => {
    const router = new Router([route('GET', '/a/literal/x'), route('GET', '/a/{p}/y')]);
    assert.deepEqual(matchOk(router, 'GET', '/a/literal/y').params, { p: 'literal' });
  });

  test('unknown path is 404 M_UNRECOGNIZED; known path with another method is 405 M_UNRECOGNIZED', () => {
    const router = new Router([route('GET', '/_matrix/client/versions')]);
    const notFound = matchErr(router, 'GET', '/_matrix/client/nothing');
    assert.deepEqual([notFound.status, notFound.errcode], [404, 'M_UNRECOGNIZED']);
    const wrongMethod = matchErr(router, 'POST', '/_matrix/client/versions');
    assert.deepEqual([wrongMethod.status, wrongMethod.errcode, wrongMethod.message], [405, 'M_UNRECOGNIZED', 'Unrecognized request']);
  });

  test('HEAD is answered by the GET route', () => {
    const router = new Router([route('GET', '/x')]);
    assert.equal(matchOk(router, 'HEAD', '/x').route.method, 'GET');
  });

  test('client and media v3 routes are also served under r0 unless they opt out', () => {
    const router = new Router([
      route('GET', '/_matrix/client/v3/account/whoami'),
      route('GET', '/_matrix/client/v3/new/thing', { aliasVersions: [] }),
      route('GET', '/_matrix/media/v3/config'),
      route('GET', '/_matrix/client/v1/other'),
    ]);
    assert.equal(matchOk(router, 'GET', '/_matrix/client/r0/account/whoami').route.path, '/_matrix/client/v3/account/whoami');
    assert.equal(matchOk(router, 'GET', '/_matrix/media/r0/config').route.path, '/_matrix/media/v3/config');
    assert.equal(matchErr(router, 'GET', '/_matrix/client/r0/new/thing').status, 404);
    assert.equal(matchErr(router, 'GET', '/_matrix/client/r0/other').status, 404);
  });

  test('aliasVersions on a non-v3 route and duplicate routes are programming errors', () => {
    assert.throws(() => new Router([route('GET', '/_matrix/client/v1/x', { aliasVersions: ['r0'] })]), /aliasVersions/);
    assert.throws(() => new Router([route('GET', '/a/{x}'), route('GET', '/a/{y}')]), /two routes for GET/);
    assert.throws(() => new Router([route('GET', '/a/b{x}')]), /whole segment/);
  });

  test('invalid percent-encoding in the path is a 400, not a crash', () => {
    assert.throws(() => pathSegments('/_matrix/client/%E0%A4%A'), (err: unknown) => err instanceof MatrixError && err.status === 400);
  });

  test('matching stays fast with many routes', () => {
    const routes: Route[] = [];
    for (let i = 0; i < 500; i++) routes.push(route('GET', `/_matrix/client/v3/area${i}/{a}/thing/{b}`));
    const router = new Router(routes);
    const started = performance.now();
    for (let i = 0; i < 50_000; i++) matchOk(router, 'GET', `/_matrix/client/v3/area${i % 500}/x/thing/y`);
    // About 0.1 s here; a linear scan of 1000 regexes per request takes several seconds.
    assert.ok(performance.now() - started < 2500, 'routing 50k requests took over 2.5 s');
  });
});
