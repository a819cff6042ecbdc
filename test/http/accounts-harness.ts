// A real HTTP server for the accounts tests: the edge's own request listener
// and router, with only the accounts routes and authenticator mounted, over a
// fresh database. (startTestHomeserver does not mount the accounts routes yet.)
import pino from 'pino';
import type { HomeserverConfig, RateLimit } from '../../src/config/types.js';
import { accountAuthenticator, accountRoutes } from '../../src/http/accounts.js';
import { RateLimiters } from '../../src/http/rate-limit.js';
import { Router } from '../../src/http/router.js';
import { closeServer, createRequestListener, listen } from '../../src/http/server.js';
import { generateSigningKey, type SigningKey } from '../../src/core/signing.js';
import { createAccountServices, type AccountServices, type AccountsConfig } from '../../src/services/accounts/index.js';
import { IdentityServerClient } from '../../src/services/identity-servers.js';
import { AddressPolicy, guardedJsonRequester } from '../../src/services/outbound-http.js';
import type { Engine } from '../../src/storage/database.js';
import { openDatabase } from '../../src/storage/open.js';
import { createTestDatabaseTarget } from '../helpers/databases.js';

export const SHARED_SECRET = 'test-shared-secret';
const UNTHROTTLED: RateLimit = { perSecond: 1000, burstCount: 1000 };

export interface AccountsServer {
  baseUrl: string;
  serverName: string;
  services: AccountServices;
  /** The server's signing key (identity servers verify its signature on /3pid/unbind). */
  signingKey: SigningKey;
  close(): Promise<void>;
}

export async function startAccountsServer(
  opts: {
    engine?: Engine;
    config?: Partial<AccountsConfig>;
    rateLimits?: Partial<HomeserverConfig['rateLimits']>;
    /** CAs of the identity servers the test runs (their certificates' issuer). */
    identityServerCas?: string[];
    /** ip_range_blacklist for identity servers. */
    ipRangeBlacklist?: string[];
    /** Told when deactivation could not unbind an identifier. */
    onUnbindFailure?: (err: unknown) => void;
  } = {},
): Promise<AccountsServer> {
  const database = await createTestDatabaseTarget(opts.engine ?? 'sqlite');
  const db = await openDatabase(database.target);
  const config: AccountsConfig = {
    serverName: 'test.local',
    enableRegistration: true,
    registrationRequiresToken: false,
    enableRegistrationWithoutVerification: true,
    registrationSharedSecret: SHARED_SECRET,
    allowGuestAccess: false,
    defaultRoomVersion: '10',
    ...opts.config,
  };
  const signingKey = generateSigningKey();
  const identity = new IdentityServerClient({
    request: guardedJsonRequester(new AddressPolicy(opts.ipRangeBlacklist ?? [], []), 5_000, { extraCas: opts.identityServerCas }),
    serverName: config.serverName,
    signingKey,
  });
  const services = createAccountServices(db, config, {
    identity,
    onUnbindFailure: (err) => {
      if (!opts.onUnbindFailure) throw err;
      opts.onUnbindFailure(err);
    },
  });
  const rateLimiters = new RateLimiters({
    message: UNTHROTTLED,
    registration: UNTHROTTLED,
    login: { address: UNTHROTTLED, account: UNTHROTTLED, failedAttempts: UNTHROTTLED },
    thirdPartyInvite: UNTHROTTLED,
    other: {},
    ...opts.rateLimits,
  });
  const authenticate = accountAuthenticator(services);
  const listener = createRequestListener(
    {
      router: new Router(accountRoutes({ services, rateLimiters })),
      authenticate: (token) => authenticate(token, { ip: '127.0.0.1' }),
      rateLimiters,
      logger: pino({ level: 'silent' }),
      maxUploadSize: 1024 * 1024,
    },
    { resources: ['client'], xForwarded: false },
  );
  const bound = await listen(listener, '127.0.0.1', 0, undefined);
  return {
    baseUrl: `http://127.0.0.1:${bound.port}`,
    serverName: config.serverName,
    services,
    signingKey,
    close: async () => {
      await closeServer(bound.server);
      await db.close();
      await database.destroy();
    },
  };
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** A JSON request; `token` goes in the Authorization header. */
export async function call(server: AccountsServer, method: string, path: string, body?: unknown, token?: string): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Registers through UIA with the dummy stage; returns the login. */
export async function registerUser(
  server: AccountsServer,
  username: string,
  password = 'correct horse',
): Promise<{ userId: string; accessToken: string; deviceId: string }> {
  const first = await call(server, 'POST', '/_matrix/client/v3/register', { username, password });
  if (first.status !== 401) throw new Error(`expected a UIA challenge, got ${first.status} ${JSON.stringify(first.body)}`);
  const done = await call(server, 'POST', '/_matrix/client/v3/register', {
    username,
    password,
    auth: { type: 'm.login.dummy', session: first.body.session },
  });
  if (done.status !== 200) throw new Error(`registration failed: ${done.status} ${JSON.stringify(done.body)}`);
  return { userId: done.body.user_id as string, accessToken: done.body.access_token as string, deviceId: done.body.device_id as string };
}
