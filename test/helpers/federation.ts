// Several real Axon servers federating over real TLS on this machine, the way
// a LAN deployment would: server names like hs1.test / hs2.test that no DNS
// knows, mapped with federation_hosts to 127.0.0.1:PORT, 127.0.0.2:PORT, …;
// certificates from a CA made for the test run and trusted through
// federation_custom_ca_list; verification on; Synapse's default IP blacklist
// with ip_range_whitelist opening 127.0.0.0/8.
//
//   const fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test', engine: 'postgres' }] });
//   try {
//     const alice = await registerUser(fed.servers[0]!.clientUrl, 'alice');
//     await fed.servers[1]!.services.federation.client.request('hs1.test', 'GET', '/_matrix/federation/v1/version');
//   } finally { await fed.close(); }
//
// Each server also has a plain-HTTP client listener (`clientUrl`) so tests
// can use test/helpers/client.ts (global fetch cannot be told about our CA).
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { registerUser, type TestUser } from './client.js';
import { DEFAULT_IP_RANGE_BLACKLIST } from '../../src/config/load.js';
import type { HomeserverConfig } from '../../src/config/types.js';
import { generateSigningKey, type SigningKey } from '../../src/core/signing.js';
import type { FederationTuning } from '../../src/federation/index.js';
import { startHomeserver, type HomeserverServices, type RunningHomeserver } from '../../src/server.js';
import type { Engine } from '../../src/storage/database.js';
import { createTestDatabaseTarget, type TestDatabase } from './databases.js';
import { freePort, testHomeserverConfig } from './homeserver.js';
import { createTestCa, selfSignedCertificate, writeCertificate, type TestCa } from './tls.js';

export interface FederatedServerOptions {
  /** The server name, e.g. 'hs1.test'. */
  name: string;
  engine?: Engine;
  /** federation_domain_whitelist of this server. */
  domainWhitelist?: string[];
  /** Its signing key; default: a fresh one (give one to configure it elsewhere, e.g. as a notary's verify_keys). */
  signingKey?: SigningKey;
  /** Anything else, merged over the generated config. */
  config?: Partial<HomeserverConfig>;
}

export interface FederationOptions {
  servers: FederatedServerOptions[];
  /**
   * false: every server presents a self-signed certificate and runs with
   * federation_verify_certificates: false (the seed's setup). Default true:
   * certificates from the test CA, verified.
   */
  verifyCertificates?: boolean;
  /** The CA to sign the servers' certificates with; default: a new one (give one to issue certificates for stand-in servers first). */
  ca?: TestCa;
  /** Timeouts and lookups; a test of an unreachable notary shortens notaryTimeoutMs. */
  federationTuning?: FederationTuning;
  clock?: () => number;
  /** Default: errors only, to stderr (AXON_TEST_LOG=info|… changes the level). */
  logger?: Logger;
  /** CAs of the test's identity servers (startHomeserver's identityServerCas). */
  identityServerCas?: string[];
}

export interface FederatedServer {
  name: string;
  /** The loopback address it listens on: 127.0.0.1 for the first server, 127.0.0.2 for the second, … */
  address: string;
  /** The TLS listener (client + federation), where federation_hosts points. */
  port: number;
  /** https://<address>:<port> */
  baseUrl: string;
  /** A plain-HTTP client listener for test/helpers/client.ts. */
  clientUrl: string;
  config: HomeserverConfig;
  signingKey: SigningKey;
  /** The running server; replaced by restart(). */
  running: RunningHomeserver;
  services: HomeserverServices;
  /** Stops the server and starts it again on the same database, key, ports and (possibly edited) config. */
  restart(): Promise<void>;
  /** Stops the server, keeping its database, until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface Federation {
  servers: FederatedServer[];
  /** The CA that signed the servers' certificates (undefined when verifyCertificates is false). */
  ca: TestCa | undefined;
  /** Where the test files live (certificates, media, SQLite databases). */
  dir: string;
  /** Stops every server and destroys their databases. */
  close(): Promise<void>;
}

export async function startFederation(opts: FederationOptions): Promise<Federation> {
  const dir = mkdtempSync(join(tmpdir(), 'axon-fed-'));
  const verify = opts.verifyCertificates ?? true;
  const ca = verify ? (opts.ca ?? (await createTestCa())) : undefined;
  const caPath = ca === undefined ? undefined : writeCertificate(dir, 'ca', ca).certPath;
  const plans = await Promise.all(
    opts.servers.map(async (server, i) => {
      const address = `127.0.0.${i + 1}`;
      return { server, address, port: await freePort(address), clientPort: await freePort(address) };
    }),
  );
  const federationHosts = Object.fromEntries(plans.map((p) => [p.server.name, { host: p.address, port: p.port }]));
  const databases: TestDatabase[] = [];
  const started: FederatedServer[] = [];
  const stopped = new Set<FederatedServer>();
  const close = async (): Promise<void> => {
    await Promise.all(started.filter((s) => !stopped.has(s)).map((s) => s.running.close()));
    await Promise.all(databases.map((d) => d.destroy()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const { server, address, port, clientPort } of plans) {
      const database = await createTestDatabaseTarget(server.engine ?? 'sqlite');
      databases.push(database);
      const serverDir = join(dir, server.name);
      const names = [server.name, address];
      const cert = ca === undefined ? await selfSignedCertificate(names) : await ca.issue(names);
      const { certPath, keyPath } = writeCertificate(dir, server.name, cert);
      const blacklist = [...DEFAULT_IP_RANGE_BLACKLIST, '0.0.0.0/32', '::/128'];
      const base = testHomeserverConfig({ dir: serverDir, database: database.target, port, serverName: server.name });
      const config: HomeserverConfig = {
        ...base,
        publicBaseUrl: `https://${address}:${port}/`,
        listeners: [
          { ...base.listeners[0]!, bindAddresses: [address], tls: true },
          { ...base.listeners[0]!, port: clientPort, bindAddresses: [address], resources: [{ names: ['client'], compress: false }] },
        ],
        tlsCertificatePath: certPath,
        tlsPrivateKeyPath: keyPath,
        federationVerifyCertificates: verify,
        federationCustomCaList: caPath === undefined ? [] : [caPath],
        federationDomainWhitelist: server.domainWhitelist,
        ipRangeBlacklist: blacklist,
        federationIpRangeBlacklist: blacklist,
        ipRangeWhitelist: ['127.0.0.0/8'],
        ...server.config,
      };
      config.federationHosts = { ...federationHosts, ...server.config?.federationHosts };
      const signingKey = server.signingKey ?? generateSigningKey();
      const start = (): Promise<RunningHomeserver> =>
        startHomeserver({
          config,
          signingKeys: [signingKey],
          logger: opts.logger ?? pino({ level: process.env.AXON_TEST_LOG ?? 'error' }, pino.destination(2)),
          clock: opts.clock,
          federationTuning: opts.federationTuning,
          identityServerCas: opts.identityServerCas,
        });
      const running = await start();
      const entry: FederatedServer = {
        name: server.name,
        address,
        port,
        baseUrl: `https://${address}:${port}`,
        clientUrl: `http://${address}:${clientPort}`,
        config,
        signingKey,
        running,
        services: running.services,
        restart: async () => {
          await entry.stop();
          await entry.start();
        },
        stop: async () => {
          if (stopped.has(entry)) return;
          stopped.add(entry);
          await entry.running.close();
        },
        start: async () => {
          if (!stopped.has(entry)) return;
          entry.running = await start();
          entry.services = entry.running.services;
          stopped.delete(entry);
        },
      };
      started.push(entry);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { servers: started, ca, dir, close };
}

/** The common two-server setup: hs1.test and hs2.test, with users registered by name on each. */
export interface ServerPair {
  fed: Federation;
  hs1: string;
  hs2: string;
  users: Record<string, TestUser>;
}

export async function startServerPair(users: { hs1: string[]; hs2: string[] }, hs2Options: Omit<FederatedServerOptions, 'name'> = {}): Promise<ServerPair> {
  const fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test', ...hs2Options }] });
  const [hs1, hs2] = [fed.servers[0]!.clientUrl, fed.servers[1]!.clientUrl];
  const registered: Record<string, TestUser> = {};
  for (const name of users.hs1) registered[name] = await registerUser(hs1, name);
  for (const name of users.hs2) registered[name] = await registerUser(hs2, name);
  return { fed, hs1, hs2, users: registered };
}

/** A TCP server on `address` that accepts connections, counts them and never answers (an unreachable notary, a hung server). */
export async function blackHole(address: string): Promise<{ server: TcpServer; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => count };
}

export interface HttpsReply {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  /** Parsed JSON, or the text when the body is not JSON. */
  body: Record<string, unknown>;
}

/**
 * A request over HTTPS from the test process, trusting `ca` (global fetch
 * cannot be given a CA), e.g. a hand-made X-Matrix request to a server's TLS
 * listener.
 */
export function httpsCall(
  baseUrl: string,
  method: string,
  path: string,
  opts: { ca?: string; headers?: Record<string, string>; body?: unknown; servername?: string } = {},
): Promise<HttpsReply> {
  const url = new URL(path, baseUrl);
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: `${url.pathname}${url.search}`,
        ca: opts.ca,
        servername: opts.servername,
        headers: { ...(payload ? { 'Content-Type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as Record<string, unknown> });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
