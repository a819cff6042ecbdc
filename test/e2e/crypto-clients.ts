// Clients with Rust crypto (matrix-js-sdk 37) that read encrypted messages,
// shared by the end-to-end encryption tests.
import assert from 'node:assert/strict';
import * as sdk from 'matrix-js-sdk';
import { LoggerLevel, Tracing } from '@matrix-org/matrix-sdk-crypto-wasm';
import type { TestUser } from '../helpers/client.js';
import { quietLogger, waitFor } from './sdk-helpers.js';

/** A logged-in client with Rust crypto (in memory), synced and ready. */
export async function startCryptoClient(baseUrl: string, user: TestUser): Promise<sdk.MatrixClient> {
  const client = sdk.createClient({
    baseUrl,
    accessToken: user.accessToken,
    userId: user.userId,
    deviceId: user.deviceId,
    logger: quietLogger,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  // initRustCrypto switches the wasm's own tracing to debug on the console.
  new Tracing(LoggerLevel.Error).turnOn();
  const prepared = new Promise<void>((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === sdk.SyncState.Prepared) resolve();
      if (state === sdk.SyncState.Error) reject(data?.error ?? new Error('sync error'));
    });
  });
  await client.startClient({ initialSyncLimit: 30, lazyLoadMembers: true });
  await prepared;
  return client;
}

/** The decrypted body of `eventId` as `client` sees it, once decryption succeeded. */
export function clearBody(client: sdk.MatrixClient, roomId: string, eventId: string): string | undefined {
  const event = client.getRoom(roomId)?.findEventById(eventId);
  if (!event || event.isDecryptionFailure() || event.getType() !== 'm.room.message') return undefined;
  return event.getContent().body as string | undefined;
}

/** Waits until `client` has decrypted `eventId` and checks it reads `body` and came encrypted. */
export async function decrypted(client: sdk.MatrixClient, roomId: string, eventId: string, body: string, timeoutMs?: number): Promise<void> {
  const seen = await waitFor(`${client.getUserId()}/${client.getDeviceId()} to decrypt ${body}`, () => clearBody(client, roomId, eventId), timeoutMs);
  assert.equal(seen, body);
  assert.ok(client.getRoom(roomId)!.findEventById(eventId)!.isEncrypted(), 'the event travelled encrypted');
}
