// `axon doctor` against a real server started from a homeserver.yaml: a
// healthy set-up reports only ok lines; each thing an operator gets wrong
// (key readable by others, certificate for another name or expired, a clock
// gone back, a server not running, a bad config) is a problem with its fix.
// `axon doctor federation` through the real CLI, against real peers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { diagnoseLocal } from '../../src/cli/doctor/local.js';
import { issueServerCertificate } from '../../src/cli/tls-certificates.js';
import { loadConfig } from '../../src/config/load.js';
import { formatSigningKeyFile, generateSigningKey, parseSigningKeyFile } from '../../src/core/signing.js';
import type { DoctorCheck } from '../../src/federation/doctor.js';
import { startHomeserver, type RunningHomeserver } from '../../src/server.js';
import { openDatabase } from '../../src/storage/open.js';
import { runCli } from '../helpers/cli.js';
import { call, registerUser } from '../helpers/client.js';
import { startFederation } from '../helpers/federation.js';
import { createTestDatabaseTarget, ENGINES, type TestDatabase } from '../helpers/databases.js';
import { freePort } from '../helpers/homeserver.js';
import { createTestCa, writeCertificate, type TestCa } from '../helpers/tls.js';

const notOk = (checks: DoctorCheck[]) => checks.filter((c) => c.status !== 'ok');

function problem(checks: DoctorCheck[], step: string | RegExp): DoctorCheck {
  const found = checks.find((c) => c.status === 'problem' && (typeof step === 'string' ? c.step === step : step.test(c.step)));
  assert.ok(found, `no problem at ${step} in ${JSON.stringify(checks, null, 2)}`);
  return found;
}

describe('axon doctor (local)', () => {
  let dir: string;
  let ca: TestCa;
  let configPath: string;
  let yaml: string;
  let server: RunningHomeserver | undefined;
  let fedPort: number;

  /** A variant of the config, with `replace` applied to its text. */
  const variant = (name: string, replace: (text: string) => string): string => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, replace(yaml));
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'axon-doctor-'));
    ca = await createTestCa();
    // With axon tls issue's default lifetime: the test CA's 30 days would rightly be warned about.
    const { certPath, keyPath } = writeCertificate(dir, 'hs1', await issueServerCertificate(ca, ['hs1.test', '127.0.0.1']));
    const signingKeyPath = join(dir, 'hs1.signing.key');
    writeFileSync(signingKeyPath, formatSigningKeyFile([generateSigningKey()]), { mode: 0o600 });
    fedPort = await freePort();
    const clientPort = await freePort();
    yaml = [
      `server_name: "hs1.test:${fedPort}"`,
      `public_baseurl: "http://127.0.0.1:${clientPort}/"`,
      `signing_key_path: ${signingKeyPath}`,
      `tls_certificate_path: ${certPath}`,
      `tls_private_key_path: ${keyPath}`,
      `database: {name: sqlite3, args: {database: ${join(dir, 'homeserver.db')}}}`,
      `media_store_path: ${join(dir, 'media')}`,
      'trusted_key_servers: []',
      'enable_registration: true',
      'enable_registration_without_verification: true',
      'listeners:',
      `  - {port: ${fedPort}, bind_addresses: ['127.0.0.1'], tls: true, type: http, resources: [{names: [federation]}]}`,
      `  - {port: ${clientPort}, bind_addresses: ['127.0.0.1'], type: http, resources: [{names: [client]}]}`,
      '',
    ].join('\n');
    configPath = variant('homeserver', (t) => t);
    const config = loadConfig(configPath, { warn: () => {} });
    const keys = parseSigningKeyFile(readFileSync(signingKeyPath, 'utf8'));
    server = await startHomeserver({ config, signingKeys: keys, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a healthy server: every line ok, through the real CLI with exit code 0', async () => {
    const checks = await diagnoseLocal({ configPath });
    assert.deepEqual(notOk(checks), []);
    assert.deepEqual(
      checks.map((c) => c.step),
      [
        'config',
        'database',
        'clock',
        'signing key',
        `listener 127.0.0.1:${fedPort} (TLS, federation)`,
        `listener 127.0.0.1:${server!.listeners[1]!.port} (client)`,
        'TLS certificate',
        '.well-known/matrix/client',
        'federation endpoint (no .well-known/matrix/server)',
      ],
    );
    const clientUrl = `http://127.0.0.1:${server!.listeners[1]!.port}`;
    assert.equal(checks.find((c) => c.step === '.well-known/matrix/client')!.detail, `clients are sent to ${clientUrl}/, a client listener (as ${clientUrl} serves it)`);
    const run = await runCli(['doctor', '--config', configPath], dir);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^ok {7}database: .*homeserver\.db is reachable and migrated/m);
    assert.match(run.stdout, /no problems found\n$/);
  });

  test('a signing key others can read: chmod 600', async () => {
    const keyPath = join(dir, 'hs1.signing.key');
    chmodSync(keyPath, 0o644);
    try {
      const found = problem(await diagnoseLocal({ configPath }), 'signing key');
      assert.match(found.detail, /can be read by other users \(mode 644\)/);
      assert.equal(found.fix, `chmod 600 ${keyPath}`);
    } finally {
      chmodSync(keyPath, 0o600);
    }
  });

  test('a certificate for another name, and one that has expired: reissue it', async () => {
    const other = writeCertificate(dir, 'other', await ca.issue(['other.test']));
    const wrongName = variant('wrong-name', (t) => t.replace(/tls_certificate_path: .*/, `tls_certificate_path: ${other.certPath}`).replace(/tls_private_key_path: .*/, `tls_private_key_path: ${other.keyPath}`));
    const named = problem(await diagnoseLocal({ configPath: wrongName }), 'TLS certificate');
    assert.match(named.detail, /is for DNS:other\.test, not for hs1\.test \(server_name\)/);
    assert.match(named.fix!, /axon tls issue --ca CA_DIR --name hs1\.test:\d+/);

    const oldCert = await issueServerCertificate(ca, ['hs1.test'], Date.now() - 10 * 86_400_000, 2);
    const old = writeCertificate(dir, 'old', oldCert);
    const expired = variant('expired', (t) => t.replace(/tls_certificate_path: .*/, `tls_certificate_path: ${old.certPath}`).replace(/tls_private_key_path: .*/, `tls_private_key_path: ${old.keyPath}`));
    assert.match(problem(await diagnoseLocal({ configPath: expired }), 'TLS certificate').detail, /expired on/);

    const mismatched = variant('mismatched-key', (t) => t.replace(/tls_private_key_path: .*/, `tls_private_key_path: ${other.keyPath}`));
    assert.match(problem(await diagnoseLocal({ configPath: mismatched }), 'TLS private key').detail, /is not the key of/);
  });

  test('a clock that went back behind the events this server made', async () => {
    const user = await registerUser(`http://127.0.0.1:${server!.listeners[1]!.port}`, 'clocky');
    const created = await call(`http://127.0.0.1:${server!.listeners[1]!.port}`, 'POST', '/_matrix/client/v3/createRoom', {}, user.accessToken);
    assert.equal(created.status, 200);
    const found = problem(await diagnoseLocal({ configPath, clock: () => Date.now() - 3_600_000 }), 'clock');
    assert.match(found.detail, /the clock went back/);
    assert.match(found.fix!, /NTP/);
  });

  test('a bad config: the key and what is wrong, exit code 1', async () => {
    const bad = variant('bad', (t) => t.replace(/^  - \{port: \d+/m, '  - {port: "80a"'));
    const run = await runCli(['doctor', '--config', bad], dir);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^problem  config: .*bad\.yaml: listeners\[0\]\.port: must be an integer from 1 to 65535, got "80a"$/m);
  });

  // Last: it stops the server.
  test('a server that is not running: each listener is a problem, exit code 1', async () => {
    await server!.close();
    server = undefined;
    const run = await runCli(['doctor', '--config', configPath], dir);
    assert.equal(run.code, 1);
    assert.match(run.stdout, new RegExp(`^problem  listener 127\\.0\\.0\\.1:${fedPort} \\(TLS, federation\\): nothing accepts connections there \\(ECONNREFUSED\\)$`, 'm'));
    assert.match(run.stdout, /fix: start the server \(axon start --config /);
    assert.match(run.stdout, /^ok {7}\.well-known\/matrix\/client: .*\(from the config \(the server did not answer\)\)$/m);
    assert.match(run.stdout, /2 problem\(s\) found\n$/);
  });
});

describe('axon doctor federation (CLI)', () => {
  test('exit 0 when federation works; a stopped peer is named with its fix and exit 1', async () => {
    const fed = await startFederation({ servers: [{ name: 'hs1.test' }, { name: 'hs2.test' }] });
    try {
      const [hs1, hs2] = [fed.servers[0]!, fed.servers[1]!];
      const keyPath = join(fed.dir, 'hs1.signing.key');
      writeFileSync(keyPath, formatSigningKeyFile([hs1.signingKey]), { mode: 0o600 });
      // hs1's own settings as a homeserver.yaml, as its operator would have them.
      writeFileSync(
        join(fed.dir, 'hs1.yaml'),
        [
          'server_name: hs1.test',
          `signing_key_path: ${keyPath}`,
          `database: {name: sqlite3, args: {database: ${join(fed.dir, 'unused.db')}}}`,
          'trusted_key_servers: []',
          `federation_custom_ca_list: [${join(fed.dir, 'ca.crt')}]`,
          "ip_range_whitelist: ['127.0.0.0/8']",
          'federation_hosts:',
          `  hs1.test: "127.0.0.1:${hs1.port}"`,
          `  hs2.test: "127.0.0.2:${hs2.port}"`,
          '',
        ].join('\n'),
      );
      const works = await runCli(['doctor', '--config', 'hs1.yaml', 'federation', 'hs2.test'], fed.dir);
      assert.equal(works.code, 0, works.stdout + works.stderr);
      assert.match(works.stdout, /^ok {7}signed request \(GET \/_matrix\/federation\/v1\/query\/profile\): hs2\.test accepted our X-Matrix signature/m);
      assert.match(works.stdout, /federation with hs2\.test would work\n$/);

      await hs2.stop();
      const stopped = await runCli(['doctor', '--config', 'hs1.yaml', 'federation', 'hs2.test'], fed.dir);
      assert.equal(stopped.code, 1);
      assert.match(stopped.stdout, new RegExp(`^problem  connect to 127\\.0\\.0\\.2:${hs2.port}: hs2\\.test \\(127\\.0\\.0\\.2:${hs2.port}\\) refused the connection`, 'm'));
      assert.match(stopped.stdout, /^ {9}fix: make sure hs2\.test is running/m);
      assert.match(stopped.stdout, /federation with hs2\.test would NOT work: 1 problem\(s\)\n$/);
    } finally {
      await fed.close();
    }
  });
});

for (const engine of ENGINES) {
  describe(`axon doctor: the database (${engine})`, () => {
    let database: TestDatabase;
    let dir: string;
    let configPath: string;
    before(async () => {
      database = await createTestDatabaseTarget(engine);
      dir = mkdtempSync(join(tmpdir(), 'axon-doctor-db-'));
      const t = database.target;
      const args = t.engine === 'sqlite' ? `{database: ${t.path}}` : `{user: ${t.user}, host: ${t.host}, port: ${t.port}, database: ${t.database}}`;
      configPath = join(dir, 'homeserver.yaml');
      writeFileSync(configPath, `server_name: db.test\ndatabase: {name: ${t.engine === 'sqlite' ? 'sqlite3' : 'psycopg2'}, args: ${args}}\ntrusted_key_servers: []\n`);
    });
    after(async () => {
      await database.destroy();
      rmSync(dir, { recursive: true, force: true });
    });
    const databaseCheck = async (): Promise<DoctorCheck> => (await diagnoseLocal({ configPath })).find((c) => c.step === 'database')!;

    test('migrated, a migration missing, one from a newer Axon, and another server_name: each told apart', async () => {
      const db = await openDatabase(database.target);
      try {
        await db.execute("INSERT INTO server_meta (key, value) VALUES ('server_name', 'db.test')");
        assert.equal((await databaseCheck()).status, 'ok');
        assert.match((await databaseCheck()).detail, /is reachable and migrated \(\d+ migrations\)/);

        await db.execute('DELETE FROM schema_migrations WHERE id = 40');
        const pending = await databaseCheck();
        assert.equal(pending.status, 'warning');
        assert.match(pending.detail, /1 migration\(s\) not applied yet: 40 destination_report/);
        assert.match(pending.fix!, /they run at the next axon start/);

        await db.execute("INSERT INTO schema_migrations (id, name, applied_ts) VALUES (40, 'destination_report', 0), (999, 'future', 0)");
        const newer = await databaseCheck();
        assert.equal(newer.status, 'problem');
        assert.match(newer.detail, /has migrations this Axon does not know \(999\): a newer Axon ran on it/);
        await db.execute('DELETE FROM schema_migrations WHERE id = 999');

        await db.execute("UPDATE server_meta SET value = 'other.test' WHERE key = 'server_name'");
        const checks = await diagnoseLocal({ configPath });
        const claimed = checks.find((c) => c.step === 'database' && c.status === 'problem');
        assert.equal(claimed?.detail, "the database belongs to server_name 'other.test', but homeserver.yaml says 'db.test'");
      } finally {
        await db.close();
      }
    });
  });
}
