// The admin console at /_axon/admin/: its files and status endpoint over
// HTTP, then end to end in headless Chromium (Debian's, driven by
// playwright-core) against a running server: sign in, see the status, see
// a user and a room, create a registration token, sign out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';
import { registerAdmin } from '../helpers/admin.js';

const CHROMIUM = '/usr/bin/chromium';

for (const engine of ENGINES) {
  describe(`console status endpoint (${engine})`, () => {
    let hs: TestHomeserver;
    let admin: TestUser;
    let alice: TestUser;
    before(async () => {
      hs = await startTestHomeserver({ engine });
      admin = await registerAdmin(hs, 'root');
      alice = await registerUser(hs.baseUrl, 'alice');
    });
    after(async () => hs.close());

    test('GET /_axon/admin/v1/status: admins only; version, uptime, database, counts', async () => {
      const refused = await call(hs.baseUrl, 'GET', '/_axon/admin/v1/status', undefined, alice.accessToken);
      assert.deepEqual([refused.status, refused.body.errcode], [403, 'M_FORBIDDEN']);
      await call(hs.baseUrl, 'POST', '/_matrix/client/v3/createRoom', {}, alice.accessToken);
      const status = await call(hs.baseUrl, 'GET', '/_axon/admin/v1/status', undefined, admin.accessToken);
      assert.equal(status.status, 200);
      const version = (await call<{ server: { version: string } }>(hs.baseUrl, 'GET', '/_matrix/federation/v1/version')).body.server.version;
      assert.deepEqual({ ...status.body, uptime_seconds: undefined, started_ts: undefined }, {
        server_name: hs.config.serverName,
        version,
        uptime_seconds: undefined,
        started_ts: undefined,
        database: { engine },
        users: 2,
        rooms: 1,
      });
      assert.equal(typeof status.body.uptime_seconds, 'number');
      assert.ok((status.body.started_ts as number) <= Date.now());
    });
  });
}

describe('admin console', () => {
  let hs: TestHomeserver;
  let admin: TestUser;
  let alice: TestUser;
  let browser: Browser;
  let page: Page;

  before(async () => {
    hs = await startTestHomeserver();
    admin = await registerAdmin(hs, 'root', 'root password');
    alice = await registerUser(hs.baseUrl, 'alice', 'alice password');
    await call(hs.baseUrl, 'POST', '/_matrix/client/v3/createRoom', { name: 'Browser room' }, alice.accessToken);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await hs.close();
  });

  test('its files are served with a strict content security policy; /_axon/admin redirects to the console', async () => {
    const redirect = await fetch(`${hs.baseUrl}/_axon/admin`, { redirect: 'manual' });
    assert.deepEqual([redirect.status, redirect.headers.get('location')], [302, '/_axon/admin/']);
    const index = await fetch(`${hs.baseUrl}/_axon/admin/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type')!, /^text\/html/);
    assert.match(index.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.match(await index.text(), /Axon admin console/);
    const script = await fetch(`${hs.baseUrl}/_axon/admin/console.js`);
    assert.match(script.headers.get('content-type')!, /^text\/javascript/);
    const style = await fetch(`${hs.baseUrl}/_axon/admin/console.css`);
    assert.match(style.headers.get('content-type')!, /^text\/css/);
    const missing = await call(hs.baseUrl, 'GET', '/_axon/admin/secrets.txt');
    assert.deepEqual([missing.status, missing.body.errcode], [404, 'M_UNRECOGNIZED']);
  });

  test('a user who is not an admin is turned away, and their console session ended', async () => {
    await page.goto(`${hs.baseUrl}/_axon/admin/`);
    await page.fill('#sign-in-form input[name=user]', 'alice');
    await page.fill('#sign-in-form input[name=password]', 'alice password');
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#sign-in-error', { hasText: 'not a server administrator' }).waitFor();
    assert.equal(await page.isVisible('#app'), false);
    const devices = await call<{ devices: Array<{ display_name: string }> }>(hs.baseUrl, 'GET', '/_matrix/client/v3/devices', undefined, alice.accessToken);
    assert.ok(!devices.body.devices.some((d) => d.display_name === 'Axon admin console'), 'the console logged its own session out');
  });

  test('an admin signs in, sees the status, a user and a room, creates a registration token, and signs out', async () => {
    await page.goto(`${hs.baseUrl}/_axon/admin/`);
    await page.fill('#sign-in-form input[name=user]', 'root');
    await page.fill('#sign-in-form input[name=password]', 'root password');
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#status-facts dd');
    const facts = await page.$$eval('#status-facts div', (divs) => Object.fromEntries(divs.map((d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent])));
    assert.equal(facts['Server name'], hs.config.serverName);
    assert.equal(facts['Database'], 'SQLite');
    assert.equal(facts['Users'], '2');
    assert.equal(facts['Rooms'], '1');
    assert.equal(await page.textContent('#whoami'), admin.userId);

    await page.click('.tabs button[data-page=users]');
    const aliceRow = page.locator(`#users-table tr[data-user-id="${alice.userId}"]`);
    await aliceRow.waitFor();
    assert.equal(await aliceRow.locator('td').nth(1).textContent(), 'alice');
    assert.equal(await aliceRow.locator('td').nth(3).textContent(), 'active');
    await page.fill('#users-search input[name=name]', 'roo');
    await page.click('#users-search button[type=submit]');
    await page.locator('#users-table tbody tr[data-user-id]').nth(1).waitFor({ state: 'detached' });
    assert.equal(await page.getAttribute('#users-table tbody tr', 'data-user-id'), admin.userId);

    // Create a user from the console, reset their password, then deactivate them.
    await page.click('#create-user-form summary, details.card summary');
    await page.fill('#create-user-form input[name=localpart]', 'dora');
    await page.fill('#create-user-form input[name=password]', 'first dora password');
    await page.fill('#create-user-form input[name=displayname]', 'Dora');
    await page.fill('#users-search input[name=name]', '');
    await page.click('#create-user-form button[type=submit]');
    const doraId = `@dora:${hs.config.serverName}`;
    const doraRow = page.locator(`#users-table tr[data-user-id="${doraId}"]`);
    await doraRow.waitFor();
    assert.equal(await doraRow.locator('td').nth(1).textContent(), 'Dora');
    page.once('dialog', (dialog) => void dialog.accept('second dora password'));
    await doraRow.locator('button[data-action=reset-password]').click();
    const login = (password: string) =>
      call(hs.baseUrl, 'POST', '/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dora' }, password });
    for (let tries = 0; (await login('second dora password')).status !== 200; tries++) assert.ok(tries < 50, 'the new password works');
    page.once('dialog', (dialog) => void dialog.accept());
    await doraRow.locator('button[data-action=deactivate]').click();
    await doraRow.waitFor({ state: 'detached' });
    const dora = await call(hs.baseUrl, 'GET', `/_synapse/admin/v2/users/${encodeURIComponent(doraId)}`, undefined, admin.accessToken);
    assert.equal(dora.body.deactivated, true);

    await page.click('.tabs button[data-page=rooms]');
    await page.waitForSelector('#rooms-table tr[data-room-id]');
    assert.match((await page.textContent('#rooms-table tbody'))!, /Browser room/);

    await page.click('.tabs button[data-page=tokens]');
    await page.waitForSelector('#tokens-table tbody tr.empty');
    await page.fill('#token-form input[name=token]', 'from-the-browser');
    await page.fill('#token-form input[name=uses_allowed]', '3');
    await page.click('#token-form button[type=submit]');
    const tokenRow = page.locator('#tokens-table tr[data-token="from-the-browser"]');
    await tokenRow.waitFor();
    assert.equal(await tokenRow.locator('td').nth(1).textContent(), '3');
    const stored = await call(hs.baseUrl, 'GET', '/_synapse/admin/v1/registration_tokens/from-the-browser', undefined, admin.accessToken);
    assert.deepEqual([stored.status, stored.body.uses_allowed], [200, 3]);

    // Run in the page (this file has no DOM types): the session's token, then whether it is gone.
    const token = await page.evaluate<string | null>("sessionStorage.getItem('axon.admin.accessToken')");
    assert.ok(token);
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in', { state: 'visible' });
    assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('axon.admin.accessToken')"), null);
    const after = await call(hs.baseUrl, 'GET', '/_matrix/client/v3/account/whoami', undefined, token!);
    assert.equal(after.status, 401, 'signing out ends the session on the server');
  });
});
