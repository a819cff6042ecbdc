// Current matrix-js-sdk (43.x) against Axon: extended profile fields, and
// cross-signing set-up — during bootstrapCrossSigning it re-uploads the
// device's keys with the new self-signing key's signature added, which Axon
// once refused, failing the bootstrap. The SDK does so when it has not yet
// taken in the answer to its first upload, so whether a run meets the
// re-upload depends on timing; test/http/keys.test.ts checks the server's
// side of it deterministically. Runs on Node 20 with one polyfill.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { quietLogger, waitFor } from './sdk-helpers.js';
import { call, registerUser, type TestUser } from '../helpers/client.js';
import { ENGINES } from '../helpers/databases.js';
import { startTestHomeserver, type TestHomeserver } from '../helpers/homeserver.js';

// matrix-js-sdk 43 targets Node 22 and uses Promise.withResolvers (ES2024), which Node 20 lacks.
const withResolvers = <T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (reason?: unknown) => void } => {
  let resolve!: (value: T) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
(Promise as unknown as { withResolvers?: typeof withResolvers }).withResolvers ??= withResolvers;

// Imported after the polyfill is in place.
const sdk = await import('matrix-js-sdk-43');
const { logger: sdkLogger } = await import('matrix-js-sdk-43/lib/logger.js');
(sdkLogger as unknown as { setLevel(level: 'silent'): void }).setLevel('silent');
// Its Rust crypto traces at debug level straight to the console, and this SDK version has no switch for it.
console.debug = () => undefined;
console.info = () => undefined;

const PASSWORD = 'correct horse battery';

type Json = Record<string, unknown>;

async function startClient(hs: TestHomeserver, user: TestUser) {
  const client = sdk.createClient({ baseUrl: hs.baseUrl, accessToken: user.accessToken, userId: user.userId, deviceId: user.deviceId, logger: quietLogger });
  await client.initRustCrypto({ useIndexedDB: false });
  const prepared = new Promise<void>((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === sdk.SyncState.Prepared) resolve();
      if (state === sdk.SyncState.Error) reject(data?.error ?? new Error('sync error'));
    });
  });
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  return client;
}

for (const engine of ENGINES) {
  describe(`matrix-js-sdk 43 bootstraps cross-signing against Axon (${engine})`, () => {
    let hs: TestHomeserver;
    let alice: TestUser;
    let client: Awaited<ReturnType<typeof startClient>>;

    before(async () => {
      hs = await startTestHomeserver({ engine });
      alice = await registerUser(hs.baseUrl, 'alice', PASSWORD);
      client = await startClient(hs, alice);
    });
    after(async () => {
      client?.stopClient();
      await hs?.close();
    });

    const queryKeys = async () =>
      (await call<Json>(hs.baseUrl, 'POST', '/_matrix/client/v3/keys/query', { device_keys: { [alice.userId]: [] } }, alice.accessToken)).body;

    test('extended profile fields: the SDK finds them announced and sets, reads and deletes one at the stable paths', async () => {
      assert.equal(await client.doesServerSupportExtendedProfiles(), true);
      // Axon serves no unstable prefix for them: these calls work only at /v3.
      await client.setExtendedProfileProperty('m.tz', 'Europe/Paris');
      assert.equal((await client.getExtendedProfile(alice.userId))['m.tz'], 'Europe/Paris');
      await client.deleteExtendedProfileProperty('m.tz');
      assert.equal((await client.getExtendedProfile(alice.userId))['m.tz'], undefined);
    });

    test('a fresh device ends up signed by the new self-signing key', async () => {
      // As for any user: the device publishes its keys on start, cross-signing comes after.
      await waitFor('the device keys to be uploaded', async () => ((await queryKeys()).device_keys as Record<string, Json>)[alice.userId]?.[alice.deviceId]);
      const crypto = client.getCrypto()!;
      await crypto.bootstrapCrossSigning({
        authUploadDeviceSigningKeys: async (makeRequest) => {
          await makeRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: alice.userId }, password: PASSWORD });
        },
      });
      assert.ok(await crypto.isCrossSigningReady());

      const query = await queryKeys();
      const selfSigning = (query.self_signing_keys as Record<string, { keys: Record<string, string> }>)[alice.userId]!;
      const sskId = Object.keys(selfSigning.keys)[0]!;
      const device = ((query.device_keys as Record<string, Record<string, Json>>)[alice.userId]!)[alice.deviceId]!;
      assert.ok((device.signatures as Record<string, Json>)[alice.userId]![sskId], 'the device carries the self-signing key\u2019s signature');
      await waitFor('the SDK to see its own device cross-signed', async () => (await crypto.getDeviceVerificationStatus(alice.userId, alice.deviceId))?.signedByOwner);
    });
  });
}
