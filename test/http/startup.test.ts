// startHomeserver: the fixed server name, listener resources, TLS.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import pino from 'pino';
import type { HomeserverConfig } from '../../src/config/types.js';
import { parseConfig } from '../../src/config/load.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { startHomeserver, StartupError } from '../../src/server.js';
import { createTestDatabaseTarget, ENGINES } from '../helpers/databases.js';
import { testHomeserverConfig } from '../helpers/homeserver.js';
import { healthOver, selfSignedCertificate, tlsConnect, writeCertificate } from '../helpers/tls.js';

const silent = pino({ level: 'silent' });

async function withScratch(engine: 'sqlite' | 'postgres', fn: (dir: string, config: (overrides?: Partial<HomeserverConfig>) => HomeserverConfig) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'axon-startup-'));
  const database = await createTestDatabaseTarget(engine);
  try {
    await fn(dir, (overrides = {}) => ({ ...testHomeserverConfig({ dir, database: database.target, port: 0, serverName: 'a.example' }), ...overrides }));
  } finally {
    await database.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const engine of ENGINES) {
  describe(`server name is fixed by the database (${engine})`, () => {
    test('the same name starts again; another name is a one-line StartupError', async () => {
      await withScratch(engine, async (_dir, config) => {
        const keys = [generateSigningKey()];
        await (await startHomeserver({ config: config(), signingKeys: keys, logger: silent })).close();
        await (await startHomeserver({ config: config(), signingKeys: keys, logger: silent })).close();
        await assert.rejects(
          startHomeserver({ config: config({ serverName: 'b.example' }), signingKeys: keys, logger: silent }),
          (err: unknown) => {
            assert.ok(err instanceof StartupError);
            assert.equal(
              err.message,
              "this database belongs to server_name 'a.example', but homeserver.yaml says 'b.example'; the server name cannot change " +
                'once users and rooms exist — restore server_name: a.example or point database at a new database',
            );
            return true;
          },
        );
      });
    });
  });
}

describe('listeners', () => {
  test('port 0 reports the real port; each listener serves only its resources', async () => {
    await withScratch('sqlite', async (_dir, config) => {
      const listener = (names: HomeserverConfig['listeners'][number]['resources'][number]['names']) => ({
        port: 0,
        bindAddresses: ['127.0.0.1'],
        tls: false,
        type: 'http',
        resources: [{ names, compress: false }],
        xForwarded: false,
      });
      const hs = await startHomeserver({
        config: config({ listeners: [listener(['client']), listener(['keys']), { ...listener(['client']), type: 'metrics' }] }),
        signingKeys: [generateSigningKey()],
        logger: silent,
      });
      try {
        assert.equal(hs.listeners.length, 2, 'the metrics listener is not an HTTP listener');
        const [client, keys] = hs.listeners.map((l) => `http://127.0.0.1:${l.port}`);
        assert.ok(hs.listeners.every((l) => l.port > 0 && !l.tls));
        assert.equal((await fetch(`${client}/_matrix/client/versions`)).status, 200);
        assert.equal((await fetch(`${client}/.well-known/matrix/client`)).status, 200);
        const keyOnClient = await fetch(`${client}/_matrix/key/v2/server`);
        assert.deepEqual([keyOnClient.status, ((await keyOnClient.json()) as { errcode: string }).errcode], [404, 'M_UNRECOGNIZED']);
        assert.equal((await fetch(`${keys}/_matrix/key/v2/server`)).status, 200);
        assert.equal((await fetch(`${keys}/_matrix/client/versions`)).status, 404);
      } finally {
        await hs.close();
      }
    });
  });

  test('a port already in use is a StartupError naming the address', async () => {
    await withScratch('sqlite', async (_dir, config) => {
      const first = await startHomeserver({ config: config(), signingKeys: [generateSigningKey()], logger: silent });
      try {
        const port = first.listeners[0]!.port;
        const taken = config();
        taken.listeners = [{ ...taken.listeners[0]!, port }];
        await assert.rejects(startHomeserver({ config: taken, signingKeys: [generateSigningKey()], logger: silent }), (err: unknown) => {
          assert.ok(err instanceof StartupError);
          assert.match(err.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
          return true;
        });
      } finally {
        await first.close();
      }
    });
  });

  test('a TLS listener serves HTTPS with the configured certificate', async () => {
    await withScratch('sqlite', async (dir, config) => {
      const cert = join(dir, 'tls.crt');
      const key = join(dir, 'tls.key');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const base = config();
      const hs = await startHomeserver({
        config: { ...base, tlsCertificatePath: cert, tlsPrivateKeyPath: key, listeners: [{ ...base.listeners[0]!, tls: true }] },
        signingKeys: [generateSigningKey()],
        logger: silent,
      });
      try {
        assert.equal(hs.listeners[0]!.tls, true);
        const body = await new Promise<string>((resolve, reject) => {
          httpsGet(`https://127.0.0.1:${hs.listeners[0]!.port}/_matrix/client/versions`, { ca: readFileSync(cert) }, (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve(text));
          }).on('error', reject);
        });
        assert.ok((JSON.parse(body) as { versions: string[] }).versions.includes('v1.1'));
      } finally {
        await hs.close();
      }
    });
  });

  test('reload: new connections get the renewed certificate, open ones are kept, the log level follows; a mismatched key changes nothing', async () => {
    await withScratch('sqlite', async (dir, config) => {
      const first = await selfSignedCertificate(['127.0.0.1']);
      const { certPath, keyPath } = writeCertificate(dir, 'tls', first);
      const base = config();
      const tlsConfig: HomeserverConfig = { ...base, tlsCertificatePath: certPath, tlsPrivateKeyPath: keyPath, listeners: [{ ...base.listeners[0]!, tls: true }] };
      const logger = pino({ level: 'warn' }, new Writable({ write: (_chunk, _encoding, done) => done() }));
      const hs = await startHomeserver({ config: tlsConfig, signingKeys: [generateSigningKey()], logger });
      const sockets: TLSSocket[] = [];
      const connect = async () => {
        const socket = await tlsConnect(hs.listeners[0]!.port);
        sockets.push(socket);
        return socket;
      };
      try {
        const open = await connect();
        assert.equal(open.getPeerCertificate().fingerprint256, new X509Certificate(first.certPem).fingerprint256);

        const renewed = await selfSignedCertificate(['127.0.0.1']);
        writeCertificate(dir, 'tls', renewed);
        hs.reload({ ...tlsConfig, logLevel: 'debug' });
        assert.equal((await connect()).getPeerCertificate().fingerprint256, new X509Certificate(renewed.certPem).fingerprint256);
        assert.equal(await healthOver(open), 'HTTP/1.1 200 OK', 'a connection opened before the reload is still served');
        assert.equal(logger.level, 'debug');

        writeFileSync(keyPath, first.keyPem);
        assert.throws(
          () => hs.reload({ ...tlsConfig, logLevel: 'error' }),
          (err: unknown) => err instanceof StartupError && err.message.startsWith(`${tlsConfig.configPath}: the new TLS certificate and key cannot be used:`),
        );
        assert.equal(logger.level, 'debug');
        assert.equal((await connect()).getPeerCertificate().fingerprint256, new X509Certificate(renewed.certPem).fingerprint256);
      } finally {
        for (const socket of sockets) socket.destroy();
        await hs.close();
      }
    });
  });

  test('tls: true without a certificate path is a StartupError', async () => {
    await withScratch('sqlite', async (_dir, config) => {
      const base = config();
      await assert.rejects(
        startHomeserver({ config: { ...base, listeners: [{ ...base.listeners[0]!, tls: true }] }, signingKeys: [generateSigningKey()], logger: silent }),
        (err: unknown) => err instanceof StartupError && /tls_certificate_path is not set/.test(err.message),
      );
    });
  });
});

describe('database.args from homeserver.yaml', () => {
  test('password: "" (trust authentication, as psycopg2 allows) connects and serves', async () => {
    await withScratch('postgres', async (dir, config) => {
      const target = config().database;
      assert.equal(target.engine, 'postgres');
      const yaml = `server_name: a.example\ndatabase:\n  name: psycopg2\n  args:\n    user: ${target.user}\n    password: ""\n    host: ${target.host}\n    port: ${target.port}\n    dbname: ${target.database}\n`;
      const database = parseConfig(yaml, join(dir, 'homeserver.yaml'), { warn: () => undefined }).database;
      const hs = await startHomeserver({ config: config({ database }), signingKeys: [generateSigningKey()], logger: silent });
      try {
        const res = await fetch(`http://127.0.0.1:${hs.listeners[0]!.port}/_matrix/client/versions`);
        assert.equal(res.status, 200);
      } finally {
        await hs.close();
      }
    });
  });
});
