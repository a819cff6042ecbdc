import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { enc, V3 } from './user-data-helpers.js';

describe('filters', () => {
  let hs: TestHomeserver;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    hs = await startTestHomeserver();
    alice = await registerUser(hs.baseUrl, 'alice');
    bob = await registerUser(hs.baseUrl, 'bob');
  });
  after(() => hs.close());

  const filters = (user: TestUser) => `${V3}/user/${enc(user.userId)}/filter`;
  const definition = {
    room: { timeline: { limit: 10, types: ['m.room.message'] }, state: { lazy_load_members: true } },
    presence: { not_types: ['*'] },
    event_fields: ['type', 'content'],
    'org.example.extension': 1,
  };

  test('upload returns a numeric filter_id; download returns the definition as uploaded', async () => {
    const created = await call(hs.baseUrl, 'POST', filters(alice), definition, alice.accessToken);
    assert.equal(created.status, 200);
    const filterId = created.body.filter_id as string;
    assert.match(filterId, /^\d+$/);
    const got = await call(hs.baseUrl, 'GET', `${filters(alice)}/${filterId}`, undefined, alice.accessToken);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, definition);
    const second = await call(hs.baseUrl, 'POST', filters(alice), {}, alice.accessToken);
    assert.notEqual(second.body.filter_id, filterId);
    const resolved = await hs.server.services.userData.filters.resolve(alice.userId, filterId);
    assert.equal(resolved.room.state.lazyLoadMembers, true);
  });

  test("another user's filters: 403; unknown filter: 404", async () => {
    const created = await call(hs.baseUrl, 'POST', filters(alice), {}, alice.accessToken);
    const id = created.body.filter_id as string;
    const upload = await call(hs.baseUrl, 'POST', filters(alice), {}, bob.accessToken);
    assert.equal(upload.status, 403);
    assert.equal(upload.body.errcode, 'M_FORBIDDEN');
    const download = await call(hs.baseUrl, 'GET', `${filters(alice)}/${id}`, undefined, bob.accessToken);
    assert.equal(download.status, 403);
    // Bob asking for Alice's filter ID under his own name finds nothing.
    const underBob = await call(hs.baseUrl, 'GET', `${filters(bob)}/${id}`, undefined, bob.accessToken);
    assert.equal(underBob.status, 404);
    for (const missing of ['999999', 'abc']) {
      const res = await call(hs.baseUrl, 'GET', `${filters(alice)}/${missing}`, undefined, alice.accessToken);
      assert.equal(res.status, 404, missing);
      assert.equal(res.body.errcode, 'M_NOT_FOUND');
    }
  });

  test('invalid filters: 400 naming the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ room: { timeline: { limit: 'ten' } } }, 'M_BAD_JSON', /room\.timeline\.limit/],
      [{ room: { timeline: { limit: 0 } } }, 'M_INVALID_PARAM', /room\.timeline\.limit/],
      [{ event_format: 'xml' }, 'M_INVALID_PARAM', /event_format/],
      [{ presence: { senders: ['bob'] } }, 'M_INVALID_PARAM', /presence\.senders\[0\]/],
      [{ room: { rooms: ['#alias:x'] } }, 'M_INVALID_PARAM', /room\.rooms\[0\]/],
      [{ room: { state: { lazy_load_members: 'yes' } } }, 'M_BAD_JSON', /room\.state\.lazy_load_members/],
      [{ room: { ephemeral: { types: 'm.typing' } } }, 'M_BAD_JSON', /room\.ephemeral\.types/],
    ];
    for (const [body, errcode, field] of cases) {
      const res = await call(hs.baseUrl, 'POST', filters(alice), body, alice.accessToken);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.errcode, errcode, JSON.stringify(body));
      assert.match(res.body.error as string, field);
    }
  });
});
