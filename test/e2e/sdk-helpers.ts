// What the matrix-js-sdk end-to-end tests share: a process whose timers
// cannot keep it alive, a silent SDK logger, polling for a condition, and
// clients with Rust crypto that read encrypted messages.
import assert from 'node:assert/strict';
import * as sdk from 'matrix-js-sdk';
import { logger } from 'matrix-js-sdk/lib/logger.js';
import { LoggerLevel, Tracing } from '@matrix-org/matrix-sdk-crypto-wasm';
import type { TestUser } from '../helpers/client.js';

// matrix-js-sdk arms a ~110 s local timeout per /sync request and does not
// clear it when the client stops, which would hold a test process open for
// minutes after its last test. Timers in an e2e test process are unref'd so
// they cannot keep it alive; the test server's sockets keep it running while
// tests do.
const armTimeout = globalThis.setTimeout;
globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => armTimeout(...args).unref()) as typeof setTimeout;

// The SDK's global logger is a loglevel logger underneath (its typings hide
// setLevel); its per-room child loggers force debug and still print.
(logger as unknown as { setLevel(level: 'silent'): void }).setLevel('silent');

/** A logger for createClient({ logger }) that says nothing. */
export const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  getChild() {
    return quietLogger;
  },
};

type Maybe<T> = T | null | undefined | false;

/** Polls `check` every 20 ms until it yields a truthy value, or fails naming `what`. */
export function waitFor<T>(what: string, check: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = async () => {
      const value = await check();
      if (value) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(() => void tick(), 20);
    };
    void tick();
  });
}

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
