// Starts a real Axon on 127.0.0.1 for HTTP tests: a fresh database of the
// chosen engine, a generated signing key, one listener serving client and
// federation, open registration, and a logger that prints only errors (to stderr; AXON_TEST_LOG=silent|info|… changes it).
//
//   const hs = await startTestHomeserver();
//   try { await fetch(`${hs.baseUrl}/_matrix/client/versions`) } finally { await hs.close() }
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { HomeserverConfig, RateLimit } from '../../src/config/types.js';
import { generateSigningKey, type SigningKey } from '../../src/core/signing.js';
import { startHomeserver, type RunningHomeserver } from '../../src/server.js';
import type { Engine } from '../../src/storage/database.js';
import type { DatabaseTarget } from '../../src/storage/open.js';
import { createTestDatabaseTarget } from './databases.js';

export interface TestHomeserverOptions {
  engine?: Engine;
  /** Overrides merged over the test defaults (shallowly, key by key). */
  config?: Partial<HomeserverConfig>;
  /** Defaults to "localhost:<port>", which is what other servers would call it. */
  serverName?: string;
  /** Time source for rate limits and key validity. */
  clock?: () => number;
  /** Listeners besides the client/federation one (e.g. a metrics listener on port 0). */
  extraListeners?: HomeserverConfig['listeners'];
  /** CAs of the test's identity servers (startHomeserver's identityServerCas). */
  identityServerCas?: string[];
}

export interface TestHomeserver {
  /** e.g. http://127.0.0.1:43121 — client and federation APIs both live here. */
  baseUrl: string;
  server: RunningHomeserver;
  config: HomeserverConfig;
  signingKey: SigningKey;
  /** Stops the server and destroys its database and temp dir. */
  close(): Promise<void>;
}

/** Rate limits high enough that tests hammering one endpoint are not throttled. */
const UNTHROTTLED: RateLimit = { perSecond: 1000, burstCount: 1000 };

export const TEST_REGISTRATION_SHARED_SECRET = 'axon-test-registration-shared-secret';

/**
 * A port that was free on `address` a moment ago. The listener needs a fixed
 * port before it starts because public_baseurl (served in /.well-known) must name it.
 */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host: address, port: 0 }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The configuration startTestHomeserver uses: one listener on 127.0.0.1:`port`
 * serving client and federation, open registration, no throttling. For tests
 * that call startHomeserver themselves (several starts on one database, TLS).
 */
export function testHomeserverConfig(opts: { dir: string; database: DatabaseTarget; port: number; serverName?: string }): HomeserverConfig {
  const { dir, port } = opts;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    configPath: join(dir, 'homeserver.yaml'),
    serverName: opts.serverName ?? `localhost:${port}`,
    publicBaseUrl: `${baseUrl}/`,
    listeners: [
      {
        port,
        bindAddresses: ['127.0.0.1'],
        tls: false,
        type: 'http',
        resources: [{ names: ['client', 'federation'], compress: false }],
        xForwarded: false,
      },
    ],
    database: opts.database,
    signingKeyPath: join(dir, 'signing.key'),
    enableRegistration: true,
    registrationRequiresToken: false,
    enableRegistrationWithoutVerification: true,
    registrationSharedSecret: TEST_REGISTRATION_SHARED_SECRET,
    allowGuestAccess: false,
    federationDomainWhitelist: undefined,
    ipRangeBlacklist: [],
    federationIpRangeBlacklist: [],
    ipRangeWhitelist: [],
    federationVerifyCertificates: true,
    federationCustomCaList: [],
    trustedKeyServers: [],
    mediaStorePath: join(dir, 'media_store'),
    maxUploadSize: 50 * 1024 * 1024,
    serveServerWellknown: false,
    rateLimits: {
      message: UNTHROTTLED,
      registration: UNTHROTTLED,
      login: { address: UNTHROTTLED, account: UNTHROTTLED, failedAttempts: UNTHROTTLED },
      thirdPartyInvite: UNTHROTTLED,
      other: {},
    },
    defaultRoomVersion: '10',
  };
}

export async function startTestHomeserver(opts: TestHomeserverOptions = {}): Promise<TestHomeserver> {
  const signingKey = generateSigningKey();
  // Another process may grab the probed port before we bind it; try again
  // then, with a fresh database, since the server name includes the port.
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'axon-hs-'));
    const database = await createTestDatabaseTarget(opts.engine ?? 'sqlite');
    const cleanup = async (): Promise<void> => {
      await database.destroy();
      rmSync(dir, { recursive: true, force: true });
    };
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const config: HomeserverConfig = {
      ...testHomeserverConfig({ dir, database: database.target, port, serverName: opts.serverName }),
      ...opts.config,
    };
    if (opts.extraListeners) config.listeners = [...config.listeners, ...opts.extraListeners];
    try {
      const server = await startHomeserver({ config, signingKeys: [signingKey], logger: pino({ level: process.env.AXON_TEST_LOG ?? 'error' }, pino.destination(2)), clock: opts.clock, identityServerCas: opts.identityServerCas });
      return {
        baseUrl,
        server,
        config,
        signingKey,
        close: async () => {
          await server.close();
          await cleanup();
        },
      };
    } catch (err) {
      const portTaken = /EADDRINUSE|address already in use/i.test((err as Error).message);
      await cleanup();
      if (portTaken && attempt < 5) continue;
      throw err;
    }
  }
}

/** A test homeserver on a clock that only the test moves, with `advance(ms)`. */
export async function startTestHomeserverWithClock(opts: Omit<TestHomeserverOptions, 'clock'> = {}): Promise<{ hs: TestHomeserver; advance: (ms: number) => void }> {
  let now = Date.now();
  const hs = await startTestHomeserver({ ...opts, clock: () => now });
  return {
    hs,
    advance: (ms) => {
      now += ms;
    },
  };
}
