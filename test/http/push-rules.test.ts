import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

interface Rule {
  rule_id: string;
  default: boolean;
  enabled: boolean;
  actions: unknown[];
  pattern?: string;
  conditions?: unknown[];
}
type Ruleset = Record<'override' | 'content' | 'room' | 'sender' | 'underride', Rule[]>;

const RULES = '/_matrix/client/v3/pushrules';

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`push rules API (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;

    before(async () => {
      hs = await startTestHomeserver({ engine });
      alice = await registerUser(hs.baseUrl, 'alice');
    });
    after(async () => hs.close());

    const get = <T = Record<string, unknown>>(path: string) => call<T>(hs.baseUrl, 'GET', path, undefined, alice.accessToken);
    const put = (path: string, body: unknown) => call(hs.baseUrl, 'PUT', path, body, alice.accessToken);
    const del = (path: string) => call(hs.baseUrl, 'DELETE', path, undefined, alice.accessToken);

    test('GET /pushrules/ returns the default rules, with the legacy mention rules', async () => {
      const res = await get<{ global: Ruleset }>(`${RULES}/`);
      assert.equal(res.status, 200);
      const { global } = res.body;
      assert.equal(global.override[0]!.rule_id, '.m.rule.master');
      assert.ok(global.override.some((r) => r.rule_id === '.m.rule.contains_display_name'));
      assert.deepEqual(global.content.map((r) => [r.rule_id, r.pattern]), [['.m.rule.contains_user_name', 'alice']]);
      assert.ok(global.underride.some((r) => r.rule_id === '.m.rule.message'));
      const plain = await get<Ruleset>(`${RULES}/global/`);
      assert.deepEqual(plain.body, global);
    });

    test('PUT creates rules; before/after order them; GET shows them and m.push_rules follows', async () => {
      for (const id of ['cake', 'pie']) assert.equal((await put(`${RULES}/global/content/${id}`, { pattern: id, actions: ['notify'] })).status, 200);
      assert.equal((await put(`${RULES}/global/content/tart?after=pie`, { pattern: 'tart', actions: [] })).status, 200);
      assert.equal((await put(`${RULES}/global/content/bun?before=cake`, { pattern: 'bun', actions: ['notify'] })).status, 200);
      const { body } = await get<Ruleset>(`${RULES}/global/`);
      assert.deepEqual(body.content.map((r) => r.rule_id), ['pie', 'tart', 'bun', 'cake', '.m.rule.contains_user_name']);

      const one = await get<Rule>(`${RULES}/global/content/tart`);
      assert.deepEqual(one.body, { rule_id: 'tart', default: false, enabled: true, actions: [], pattern: 'tart' });

      const accountData = hs.server.services.accounts.context.stores.accountData;
      const stored = (await accountData.getGlobal(alice.userId, 'm.push_rules')) as unknown as { global: Ruleset } | undefined;
      assert.deepEqual(stored?.global.content.map((r) => r.rule_id), ['pie', 'tart', 'bun', 'cake', '.m.rule.contains_user_name']);
    });

    test('override rules keep their conditions; a rule with no conditions is allowed', async () => {
      const conditions = [{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }];
      assert.equal((await put(`${RULES}/global/override/mine`, { conditions, actions: ['notify'] })).status, 200);
      assert.equal((await put(`${RULES}/global/underride/all`, { actions: [] })).status, 200);
      const { body } = await get<Ruleset>(`${RULES}/global/`);
      assert.deepEqual(body.override.slice(0, 2).map((r) => [r.rule_id, r.conditions]), [['.m.rule.master', []], ['mine', conditions]]);
      assert.deepEqual(body.underride[0], { rule_id: 'all', default: false, enabled: true, actions: [], conditions: [] });
    });

    test('bad requests are refused with the right codes', async () => {
      const cases: Array<[string, unknown, number, string]> = [
        [`${RULES}/global/content/.m.mine`, { pattern: 'x', actions: [] }, 400, 'M_INVALID_PARAM'],
        [`${RULES}/global/content/.m.rule.contains_user_name`, { pattern: 'x', actions: [] }, 400, 'M_INVALID_PARAM'],
        [`${RULES}/global/content/nopattern`, { actions: [] }, 400, 'M_MISSING_PARAM'],
        [`${RULES}/global/content/noactions`, { pattern: 'x' }, 400, 'M_MISSING_PARAM'],
        [`${RULES}/global/content/badaction`, { pattern: 'x', actions: ['explode'] }, 400, 'M_INVALID_PARAM'],
        [`${RULES}/global/override/badcond`, { actions: [], conditions: [{ key: 'type' }] }, 400, 'M_INVALID_PARAM'],
        [`${RULES}/global/weird/x`, { actions: [] }, 400, 'M_INVALID_PARAM'],
        [`${RULES}/global/content/a%2Fb`, { pattern: 'x', actions: [] }, 400, 'M_INVALID_PARAM'],
        [`${RULES}/global/content/new?before=nonexistent`, { pattern: 'x', actions: [] }, 400, 'M_INVALID_PARAM'],
        [`${RULES}/global/content/new?after=.m.rule.contains_user_name`, { pattern: 'x', actions: [] }, 400, 'M_INVALID_PARAM'],
      ];
      for (const [path, body, status, errcode] of cases) {
        const res = await put(path, body);
        assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.errcode, errcode, path);
      }
      const missing = await get(`${RULES}/global/content/nope`);
      assert.deepEqual([missing.status, missing.body.errcode], [404, 'M_NOT_FOUND']);
      const noAuth = await call(hs.baseUrl, 'GET', `${RULES}/`);
      assert.equal(noAuth.status, 401);
    });

    test('GET /pushrules/global/{kind}/ lists the rules of that kind', async () => {
      const content = await get<Rule[]>(`${RULES}/global/content/`);
      assert.equal(content.status, 200);
      const all = await get<Ruleset>(`${RULES}/global/`);
      assert.deepEqual(content.body, all.body.content);
      assert.ok(content.body.some((r) => r.rule_id === '.m.rule.contains_user_name'));
    });

    test('room and sender rules are named freely, as on Synapse', async () => {
      // SyTest's 61push/02add_rules.pl adds a room rule named '#spam:example.com'.
      assert.equal((await put(`${RULES}/global/room/${encodeURIComponent('#spam:example.com')}`, { actions: ['dont_notify'] })).status, 200);
      assert.equal((await put(`${RULES}/global/room/${encodeURIComponent('!hashedroomidofversiontwelve0000000000000000')}`, { actions: [] })).status, 200);
      const rooms = await get<Rule[]>(`${RULES}/global/room/`);
      assert.deepEqual(rooms.body.map((r) => r.rule_id).sort(), ['!hashedroomidofversiontwelve0000000000000000', '#spam:example.com']);
    });

    test('bad scopes, kinds, rule IDs and attributes get 400, not 404 or 405', async () => {
      const cases: Array<[string, string, unknown, string]> = [
        ['PUT', `${RULES}/`, {}, 'M_UNRECOGNIZED'],
        ['PUT', `${RULES}/global`, {}, 'M_UNRECOGNIZED'],
        ['PUT', `${RULES}/global/room`, {}, 'M_UNRECOGNIZED'],
        ['DELETE', `${RULES}/global/room`, undefined, 'M_UNRECOGNIZED'],
        ['PUT', `${RULES}/global/room/`, { actions: [] }, 'M_INVALID_PARAM'],
        ['DELETE', `${RULES}/global/room/`, undefined, 'M_INVALID_PARAM'],
        ['PUT', `${RULES}/not_a_scope/room/x`, { actions: [] }, 'M_INVALID_PARAM'],
        ['DELETE', `${RULES}/not_a_scope/room/x`, undefined, 'M_INVALID_PARAM'],
        ['PUT', `${RULES}/global/room/a%5Cb`, { actions: [] }, 'M_INVALID_PARAM'],
        ['PUT', `${RULES}/global/override/.m.rule.master/not_an_attr`, { enabled: true }, 'M_INVALID_PARAM'],
        ['GET', `${RULES}/global`, undefined, 'M_UNRECOGNIZED'],
        ['GET', `${RULES}/global/room`, undefined, 'M_UNRECOGNIZED'],
        ['GET', `${RULES}/not_a_scope/`, undefined, 'M_INVALID_PARAM'],
        ['GET', `${RULES}/not_a_scope/room/`, undefined, 'M_INVALID_PARAM'],
        ['GET', `${RULES}/global/not_a_kind/`, undefined, 'M_INVALID_PARAM'],
        ['GET', `${RULES}/global/override/.m.rule.master/not_an_attr`, undefined, 'M_INVALID_PARAM'],
        ['GET', `${RULES}/global/override//enabled`, undefined, 'M_INVALID_PARAM'],
      ];
      for (const [method, path, body, errcode] of cases) {
        const res = await call(hs.baseUrl, method, path, body, alice.accessToken);
        assert.deepEqual([res.status, res.body.errcode], [400, errcode], `${method} ${path}: ${JSON.stringify(res.body)}`);
      }
      // Synapse serves only /pushrules/ with its slash; without it there is no endpoint.
      assert.equal((await get(RULES)).status, 404);
    });

    test('DELETE removes user rules; default rules cannot be deleted; unknown is 404', async () => {
      assert.equal((await del(`${RULES}/global/content/bun`)).status, 200);
      assert.equal((await get(`${RULES}/global/content/bun`)).status, 404);
      const again = await del(`${RULES}/global/content/bun`);
      assert.deepEqual([again.status, again.body.errcode], [404, 'M_NOT_FOUND']);
      const builtin = await del(`${RULES}/global/override/.m.rule.master`);
      assert.deepEqual([builtin.status, builtin.body.errcode], [400, 'M_INVALID_PARAM']);
    });

    test('enabled and actions can be read and set, for default rules too', async () => {
      const master = `${RULES}/global/override/.m.rule.master`;
      assert.deepEqual((await get(`${master}/enabled`)).body, { enabled: false });
      assert.equal((await put(`${master}/enabled`, { enabled: true })).status, 200);
      assert.deepEqual((await get(`${master}/enabled`)).body, { enabled: true });

      const message = `${RULES}/global/underride/.m.rule.message`;
      assert.equal((await put(`${message}/actions`, { actions: ['notify', { set_tweak: 'sound', value: 'ping' }] })).status, 200);
      assert.deepEqual((await get(`${message}/actions`)).body, { actions: ['notify', { set_tweak: 'sound', value: 'ping' }] });
      // Both changes to defaults survive together and reach account data.
      const accountData = hs.server.services.accounts.context.stores.accountData;
      const stored = (await accountData.getGlobal(alice.userId, 'm.push_rules')) as unknown as { global: Ruleset };
      assert.equal(stored.global.override[0]!.enabled, true);
      assert.deepEqual(stored.global.underride.find((r) => r.rule_id === '.m.rule.message')!.actions, ['notify', { set_tweak: 'sound', value: 'ping' }]);

      assert.equal((await put(`${RULES}/global/content/pie/enabled`, { enabled: false })).status, 200);
      assert.equal((await get<Rule>(`${RULES}/global/content/pie`)).body.enabled, false);
      const badEnabled = await put(`${RULES}/global/content/pie/enabled`, { enabled: 'no' });
      assert.deepEqual([badEnabled.status, badEnabled.body.errcode], [400, 'M_BAD_JSON']);
      const unknown = await put(`${RULES}/global/content/ghost/actions`, { actions: [] });
      assert.deepEqual([unknown.status, unknown.body.errcode], [404, 'M_NOT_FOUND']);
      const unknownDefault = await get(`${RULES}/global/content/.m.rule.ghost/enabled`);
      assert.deepEqual([unknownDefault.status, unknownDefault.body.errcode], [404, 'M_NOT_FOUND']);
    });
  });
}
