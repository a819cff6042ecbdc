import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { createAccountServices, sharedSecretMac, UiaIncomplete, type AccountsConfig } from '../../src/services/accounts/index.js';
import type { Database } from '../../src/storage/database.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { IdentityServerClient } from '../../src/services/identity-servers.js';
import { AddressPolicy, guardedJsonRequester } from '../../src/services/outbound-http.js';
import { withDatabase } from '../helpers/databases.js';

const CONFIG: AccountsConfig = {
  serverName: 'hs.test',
  enableRegistration: true,
  registrationRequiresToken: true,
  enableRegistrationWithoutVerification: false,
  registrationSharedSecret: 'secret',
  allowGuestAccess: false,
  defaultRoomVersion: '10',
};

function setup(db: Database) {
  let now = 1_000_000;
  // No identity server is involved in these tests; a real client stands ready all the same.
  const identity = new IdentityServerClient({ request: guardedJsonRequester(new AddressPolicy([], []), 5_000), serverName: CONFIG.serverName, signingKey: generateSigningKey() });
  const services = createAccountServices(db, CONFIG, {
    now: () => now,
    identity,
    onUnbindFailure: (err) => {
      throw err;
    },
  });
  return { services, advance: (ms: number) => (now += ms) };
}

describe('accounts services', () => {
  test('a bcrypt hash imported from Synapse verifies, NFKC-normalised like Synapse', async () => {
    await withDatabase('sqlite', async (db) => {
      const { services } = setup(db);
      // U+FB01 (the "fi" ligature) normalises to "fi" under NFKC.
      const hash = bcrypt.hashSync('fine', 4).replace(/^\$2a\$/, '$2b$');
      await services.context.stores.users.create({ userId: '@imported:hs.test', passwordHash: hash, createdTs: 0 });
      const session = await services.sessions.loginWithPassword({ user: 'imported', password: '\uFB01ne' });
      assert.equal(session.userId, '@imported:hs.test');
      await assert.rejects(services.sessions.loginWithPassword({ user: 'imported', password: 'wrong' }), /Invalid username or password/);
    });
  });

  test('shared-secret nonces expire after 60 seconds', async () => {
    await withDatabase('sqlite', async (db) => {
      const { services, advance } = setup(db);
      const nonce = services.sharedSecret.newNonce();
      advance(60_001);
      const req = { nonce, username: 'late', password: 'pw', admin: false, mac: sharedSecretMac('secret', nonce, 'late', 'pw', false) };
      await assert.rejects(services.sharedSecret.register(req), (err: { status?: number }) => err.status === 400);
      const fresh = services.sharedSecret.newNonce();
      advance(59_000);
      const ok = await services.sharedSecret.register({ ...req, nonce: fresh, mac: sharedSecretMac('secret', fresh, 'late', 'pw', false) });
      assert.equal(ok.userId, '@late:hs.test');
    });
  });

  test('an abandoned UIA session gives its registration token use back when it expires', async () => {
    await withDatabase('sqlite', async (db) => {
      const { services, advance } = setup(db);
      const tokens = services.context.stores.registrationTokens;
      await tokens.create('single', 1, null);
      const challenge = await services.registration
        .register({ kind: 'user', params: { username: 'a', inhibitLogin: true }, auth: undefined })
        .catch((e: unknown) => e);
      assert.ok(challenge instanceof UiaIncomplete);
      const session = challenge.body.session as string;
      // The token stage completes (a use is reserved) but registration then fails for lack of a password.
      await assert.rejects(
        services.registration.register({ kind: 'user', auth: { type: 'm.login.registration_token', token: 'single', session } }),
        /password/,
      );
      assert.equal((await tokens.get('single'))?.pending, 1);
      assert.equal(await tokens.isUsable('single', 0), false);
      advance(48 * 3600 * 1000 + 1);
      await services.registration.register({ kind: 'user', params: { username: 'b', inhibitLogin: true }, password: 'pw', auth: undefined }).catch(() => undefined);
      assert.equal((await tokens.get('single'))?.pending, 0);
      assert.equal(await services.context.stores.uiaSessions.get(session), undefined);
    });
  });

  test('last seen is written at most once a minute per token unless the IP changes', async () => {
    await withDatabase('sqlite', async (db) => {
      const { services, advance } = setup(db);
      const userId = await services.registration.createAccount({ localpart: 'seen', passwordHash: null });
      const { accessToken, deviceId } = await services.sessions.createSession(userId, { deviceId: 'DEV' });
      const lastSeen = async () => services.context.stores.devices.get(userId, deviceId);
      await services.sessions.authenticate(accessToken, { ip: '10.0.0.1' });
      const t0 = (await lastSeen())?.lastSeenTs;
      advance(1000);
      await services.sessions.authenticate(accessToken, { ip: '10.0.0.1' });
      assert.equal((await lastSeen())?.lastSeenTs, t0);
      await services.sessions.authenticate(accessToken, { ip: '10.0.0.2' });
      assert.equal((await lastSeen())?.lastSeenIp, '10.0.0.2');
      advance(60_000);
      await services.sessions.authenticate(accessToken, { ip: '10.0.0.2' });
      assert.equal((await lastSeen())?.lastSeenTs, (t0 ?? 0) + 61_000);
      assert.equal(await services.sessions.authenticate('axo_unknown'), undefined);
    });
  });

  test('profile changes and device deletions are announced to listeners', async () => {
    await withDatabase('sqlite', async (db) => {
      const { services } = setup(db);
      const seen: string[] = [];
      services.events.on('profileChanged', (e) => void seen.push(`profile ${e.userId} ${e.displayname}`));
      services.events.on('devicesDeleted', (e) => void seen.push(`devices ${e.deviceIds.join(',')}`));
      const userId = await services.registration.createAccount({ localpart: 'ann', passwordHash: null });
      await services.sessions.createSession(userId, { deviceId: 'D1' });
      await services.profiles.setDisplayname(userId, userId, 'Ann');
      await services.sessions.logout(userId, 'D1');
      assert.deepEqual(seen, ['profile @ann:hs.test Ann', 'devices D1']);
    });
  });
});
