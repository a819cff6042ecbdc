// The admin console's federation page, end to end in headless Chromium
// (Debian's, driven by playwright-core) against two federating servers: hs1
// has delivered to hs2, then hs2 stops and a delivery fails. The admin of
// hs1 sees hs2 failing with the reason, and the doctor run from the page
// names the problem.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { startFederation, type Federation, type FederatedServer } from '../helpers/federation.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const roomPath = (roomId: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;

describe('admin console: federation destinations and the doctor', () => {
  let fed: Federation;
  let hs1: FederatedServer;
  let hs2: FederatedServer;
  let browser: Browser;

  before(async () => {
    fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test' }] });
    [hs1, hs2] = [fed.servers[0]!, fed.servers[1]!];
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });
  after(async () => {
    await browser?.close();
    await fed?.close();
  });

  test('a peer that stopped shows as failing with its last error, and the doctor says why', async () => {
    const root = await registerUser(hs1.clientUrl, 'root', 'root password');
    await hs1.services.accounts.context.stores.users.setAdmin(root.userId, true);
    const bob: TestUser = await registerUser(hs2.clientUrl, 'bob');
    const created = await call<{ room_id: string }>(hs1.clientUrl, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' }, root.accessToken);
    const roomId = created.body.room_id;
    const joined = await call(hs2.clientUrl, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?via=hs1.test`, {}, bob.accessToken);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));

    await hs2.stop();
    try {
      await call(hs1.clientUrl, 'PUT', `${roomPath(roomId)}/send/m.room.message/while-down`, { msgtype: 'm.text', body: 'while hs2 is down' }, root.accessToken);
      await waitFor('hs1 to record a failed delivery to hs2', async () => {
        const dest = (await hs1.services.roomFederation.sender.destinations()).find((d) => d.destination === 'hs2.test');
        return dest !== undefined && dest.failures > 0;
      });

      const page = await browser.newPage();
      await page.goto(`${hs1.clientUrl}/_axon/admin/`);
      await page.fill('#sign-in-form input[name=user]', 'root');
      await page.fill('#sign-in-form input[name=password]', 'root password');
      await page.click('#sign-in-form button[type=submit]');
      await page.waitForSelector('#status-facts dd');
      const facts = await page.$$eval('#status-facts div', (divs) => Object.fromEntries(divs.map((d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent])));
      assert.equal(facts['Federation peers'], '1');

      await page.click('.tabs button[data-page=federation]');
      const row = page.locator('#destinations-table tr[data-destination="hs2.test"]');
      await row.waitFor();
      assert.equal(await row.locator('.badge').textContent(), 'failing');
      assert.match((await row.locator('.last-error').textContent())!, /refused|connect/i, 'the last error says the connection failed');

      await row.locator('button', { hasText: 'Run doctor' }).click();
      const report = page.locator('#doctor-report');
      await report.locator('h2', { hasText: 'problems found' }).waitFor();
      const problems = await report.locator('li', { has: page.locator('.badge.problem') }).allTextContents();
      assert.ok(problems.length > 0, 'the doctor lists at least one problem');
      assert.match(problems.join('\n'), /hs2\.test|127\.0\.0\.2/, 'the problem names the peer or its address');
      await page.close();
    } finally {
      await hs2.start();
    }
  });
});
