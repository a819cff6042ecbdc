// The real CLI, run as a child process through tsx (no build needed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { registrationMac } from '../../src/cli/register-user.js';
import { loadConfig } from '../../src/config/load.js';
import { parseSigningKeyFile } from '../../src/core/signing.js';
import { cliCommand, runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { healthOver, selfSignedCertificate, tlsConnect, writeCertificate } from '../helpers/tls.js';

const USER = userInfo().username;

function listenOn(port: number): Promise<Server> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done(server));
  });
}

async function freePort(): Promise<number> {
  const server = await listenOn(0);
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'axon-cli-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A new empty directory for one test. */
function workDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

function assertOneLine(text: string): void {
  assert.equal(text.trimEnd().split('\n').length, 1, `expected one line, got:\n${text}`);
}

const mode = (path: string): number => statSync(path).mode & 0o777;

// Tests within a suite run at once: each has its own directory and ports.
describe('generate-config', { concurrency: true }, () => {
  test('writes a commented config that loads cleanly and a Synapse-format key, both owner-only', async () => {
    const cwd = workDir('generate');
    const run = await runCli(['generate-config', '--server-name', 'example.org', '--config', 'etc/homeserver.yaml', '--data-dir', 'var'], cwd);
    assert.equal(run.code, 0, run.stderr);
    const configPath = join(cwd, 'etc/homeserver.yaml');
    const keyPath = join(cwd, 'etc/example.org.signing.key');
    assert.equal(mode(configPath), 0o600);
    assert.equal(mode(keyPath), 0o600);
    assert.ok(statSync(join(cwd, 'var')).isDirectory());

    const text = readFileSync(configPath, 'utf8');
    assert.match(text, /^# /m, 'the config is commented');
    const warnings: string[] = [];
    const config = loadConfig(configPath, { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, []);
    assert.equal(config.serverName, 'example.org');
    assert.deepEqual(config.database, { engine: 'sqlite', path: join(cwd, 'var/homeserver.db') });
    assert.equal(config.mediaStorePath, join(cwd, 'var/media_store'));
    assert.equal(config.signingKeyPath, keyPath);
    assert.deepEqual(config.listeners.map((l) => [l.port, l.bindAddresses, l.tls, l.resources[0]?.names]), [[8008, ['127.0.0.1'], false, ['client', 'federation']]]);
    assert.equal(config.enableRegistration, false, 'registration is closed by default, as in Synapse');
    assert.match(config.registrationSharedSecret ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(config.trustedKeyServers, []);

    const keys = parseSigningKeyFile(readFileSync(keyPath, 'utf8'));
    assert.equal(keys.length, 1);
    assert.match(readFileSync(keyPath, 'utf8'), /^ed25519 a_[A-Za-z0-9]{4} [A-Za-z0-9+/]{43}\n$/);
  });

  test('two runs make different secrets and keys', async () => {
    const a = workDir('generate-a');
    const b = workDir('generate-b');
    const runs = await Promise.all([a, b].map((cwd) => runCli(['generate-config', '--server-name', 'x.org', '--config', 'h.yaml'], cwd)));
    assert.deepEqual(runs.map((r) => r.code), [0, 0]);
    assert.notEqual(readFileSync(join(a, 'x.org.signing.key'), 'utf8'), readFileSync(join(b, 'x.org.signing.key'), 'utf8'));
    assert.notEqual(loadConfig(join(a, 'h.yaml')).registrationSharedSecret, loadConfig(join(b, 'h.yaml')).registrationSharedSecret);
  });

  test('refuses to overwrite an existing config or key, exit 2, saying which file', async () => {
    const cwd = workDir('overwrite');
    assert.equal((await runCli(['generate-config', '--server-name', 'example.org', '--config', 'homeserver.yaml'], cwd)).code, 0);
    const before = readFileSync(join(cwd, 'homeserver.yaml'), 'utf8');

    const again = await runCli(['generate-config', '--server-name', 'example.org', '--config', 'homeserver.yaml'], cwd);
    assert.equal(again.code, 2);
    assertOneLine(again.stderr);
    assert.match(again.stderr, new RegExp(`${join(cwd, 'homeserver.yaml')} already exists; Axon will not overwrite it\\. Start with it \\(axon start --config `));
    assert.equal(readFileSync(join(cwd, 'homeserver.yaml'), 'utf8'), before);

    rmSync(join(cwd, 'homeserver.yaml'));
    const keyOnly = await runCli(['generate-config', '--server-name', 'example.org', '--config', 'homeserver.yaml'], cwd);
    assert.equal(keyOnly.code, 2);
    assertOneLine(keyOnly.stderr);
    assert.match(keyOnly.stderr, /example\.org\.signing\.key already exists and is this server's identity/);
    assert.equal(existsSync(join(cwd, 'homeserver.yaml')), false);
  });

  test('an invalid server name is refused', async () => {
    const run = await runCli(['generate-config', '--server-name', 'bad name', '--config', 'h.yaml'], workDir('badname'));
    assert.equal(run.code, 2);
    assertOneLine(run.stderr);
    assert.match(run.stderr, /--server-name: must be a server name/);
  });
});

describe('usage errors', { concurrency: true }, () => {
  test('an unknown command or a missing option exits 2 with commander\'s message', async () => {
    const cwd = workDir('usage');
    const [unknown, missing] = await Promise.all([runCli(['frobnicate'], cwd), runCli(['generate-config', '--config', 'h.yaml'], cwd)]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--server-name <name>' not specified/);
  });
});

describe('start', { concurrency: true }, () => {
  test('a bad config: exit 2 and one line naming file, key and problem', async () => {
    const cwd = workDir('badconfig');
    writeFileSync(join(cwd, 'homeserver.yaml'), 'server_name: example.org\nlisteners:\n  - port: "80a"\n');
    const run = await runCli(['start', '--config', 'homeserver.yaml'], cwd);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `axon: ${join(cwd, 'homeserver.yaml')}: listeners[0].port: must be an integer from 1 to 65535, got "80a"\n`);
  });

  test('a missing config without --generate-if-missing: exit 2 and how to make one', async () => {
    const cwd = workDir('noconfig');
    const run = await runCli(['start', '--config', 'homeserver.yaml'], cwd);
    assert.equal(run.code, 2);
    assertOneLine(run.stderr);
    assert.match(run.stderr, /homeserver\.yaml does not exist; create it with: axon generate-config --server-name/);
  });

  test('a data directory it cannot create: exit 2, one line with the path, the user and the fix', async () => {
    // As root, permission bits do not stop us; a regular file where a directory must be does.
    const cwd = workDir('unwritable');
    writeFileSync(join(cwd, 'blocker'), 'not a directory');
    writeFileSync(join(cwd, 'homeserver.yaml'), 'server_name: example.org\nmedia_store_path: blocker/media\n');
    const run = await runCli(['start', '--config', 'homeserver.yaml'], cwd);
    assert.equal(run.code, 2);
    assertOneLine(run.stderr);
    assert.equal(
      run.stderr,
      `axon: Axon (running as user '${USER}') cannot write to the media store (media_store_path) ${join(cwd, 'blocker/media')}: ${join(cwd, 'blocker')} is a file, not a directory; move that file away or choose another path\n`,
    );
  });

  test(
    'serves /_matrix/client/versions on its port and stops cleanly on SIGTERM',
    { skip: !existsSync('src/server.ts') && 'src/server.ts is not written yet' },
    async () => {
      const cwd = workDir('start');
      const port = await freePort();
      assert.equal((await runCli(['generate-config', '--server-name', 'example.test', '--config', 'homeserver.yaml'], cwd)).code, 0);
      const configPath = join(cwd, 'homeserver.yaml');
      writeFileSync(configPath, readFileSync(configPath, 'utf8').replace('port: 8008', `port: ${port}`));
      // The key is made on first start if missing, as Synapse does.
      rmSync(join(cwd, 'example.test.signing.key'));

      const child = spawn(...cliCommand(['start', '--config', 'homeserver.yaml']), { cwd });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((done) => child.on('close', done));
      try {
        const body = await pollVersions(`http://127.0.0.1:${port}/_matrix/client/versions`, () => output);
        assert.ok(Array.isArray(body.versions));
        // The port answers a moment before start-up logs its summary line.
        const running = new RegExp(`example\\.test is running on http://127\\.0\\.0\\.1:${port}/`);
        await waitFor('the start-up summary line', () => running.test(output), 10_000);
        assert.equal(parseSigningKeyFile(readFileSync(join(cwd, 'example.test.signing.key'), 'utf8')).length, 1);
        assert.equal(mode(join(cwd, 'example.test.signing.key')), 0o600);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, output);
      assert.match(output, /SIGTERM received: shutting down/);
    },
  );

  test(
    '--generate-if-missing writes a local config with the given server name, open registration on 127.0.0.1',
    { skip: !existsSync('src/server.ts') && 'src/server.ts is not written yet' },
    async () => {
      const cwd = workDir('generate-if-missing');
      // The generated listener is on 8008; hold that port so start stops
      // right after generating (a StartupError, exit 2) whatever else runs here.
      const holder = await listenOn(8008).catch(() => undefined);
      try {
        const run = await runCli(['start', '--config', './data/homeserver.yaml', '--generate-if-missing', '--server-name', 'example.org'], cwd);
        assert.equal(run.code, 2, run.stdout + run.stderr);
        assertOneLine(run.stderr);
        assert.match(run.stderr, /cannot listen on 127\.0\.0\.1:8008/);
      } finally {
        holder?.close();
      }
      const config = loadConfig(join(cwd, 'data/homeserver.yaml'), { warn: () => {} });
      assert.equal(config.serverName, 'example.org');
      assert.equal(config.enableRegistration, true);
      assert.equal(config.enableRegistrationWithoutVerification, true);
      assert.deepEqual(config.listeners[0]?.bindAddresses, ['127.0.0.1']);
      assert.match(readFileSync(join(cwd, 'data/homeserver.yaml'), 'utf8'), /ONLY because the listener\n# above is bound to 127\.0\.0\.1/);
      assert.deepEqual(config.database, { engine: 'sqlite', path: join(cwd, 'data/homeserver.db') });
      assert.ok(existsSync(join(cwd, 'data/example.org.signing.key')));
    },
  );
});

describe('start: operations', () => {
  test('log_config sets the level; SIGHUP reloads it and the TLS certificate; data owned by another user is reported', async () => {
    const cwd = workDir('sighup');
    const port = await freePort();
    const first = await selfSignedCertificate(['127.0.0.1']);
    writeCertificate(cwd, 'tls', first);
    const logConfig = (level: string) => writeFileSync(join(cwd, 'log.yaml'), `version: 1\nroot:\n  level: ${level}\n  handlers: [console]\n`);
    logConfig('WARNING');
    writeFileSync(
      join(cwd, 'homeserver.yaml'),
      `server_name: example.test\nlisteners:\n  - port: ${port}\n    tls: true\n    bind_addresses: ['127.0.0.1']\n    resources: [{names: [client]}]\n` +
        'tls_certificate_path: tls.crt\ntls_private_key_path: tls.key\nlog_config: log.yaml\nmedia_store_path: media\n',
    );
    // As root, hand the media store to another user, as a careless `sudo` leaves it the other way round.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      mkdirSync(join(cwd, 'media'));
      chownSync(join(cwd, 'media'), 4242, 4242);
    }

    const child = spawn(...cliCommand(['start', '--config', 'homeserver.yaml']), { cwd });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('close', done));
    const sockets: TLSSocket[] = [];
    const connect = async () => {
      const socket = await tlsConnect(port);
      sockets.push(socket);
      return socket;
    };
    const until = async (what: string, probe: () => Promise<boolean> | boolean) => {
      const deadline = Date.now() + 15_000;
      while (!(await probe())) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until('the TLS listener', () => connect().then(() => true, () => false));
      const fingerprint = async () => (await connect()).getPeerCertificate().fingerprint256;
      assert.equal(await fingerprint(), new X509Certificate(first.certPem).fingerprint256);
      assert.equal(await healthOver(await connect()), 'HTTP/1.1 200 OK');
      assert.doesNotMatch(output, /"msg":"request"/, 'WARNING leaves out the info lines');
      if (asRoot) {
        const media = join(cwd, 'media');
        assert.ok(output.includes(`the media store (media_store_path) ${media} belongs to 'uid 4242', but Axon runs as 'root'; fix with: sudo chown -R root:`), output);
      }

      const renewed = await selfSignedCertificate(['127.0.0.1']);
      writeCertificate(cwd, 'tls', renewed);
      logConfig('INFO');
      child.kill('SIGHUP');
      await until('the reload', () => output.includes('SIGHUP: reloaded the log level and TLS certificate'));
      assert.equal(await fingerprint(), new X509Certificate(renewed.certPem).fingerprint256);
      assert.equal(await healthOver(await connect()), 'HTTP/1.1 200 OK');
      await until('an info line for the request', () => /"msg":"request"/.test(output));

      logConfig('LOUD');
      child.kill('SIGHUP');
      await until('the refusal', () => output.includes('SIGHUP: nothing reloaded:'));
      assert.match(output, /log_config: .*root\.level: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got \\"LOUD\\"/);
      assert.equal(await healthOver(await connect()), 'HTTP/1.1 200 OK', 'a bad reload leaves the server running');
    } finally {
      for (const socket of sockets) socket.destroy();
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
  });
});

async function pollVersions(url: string, output: () => string): Promise<{ versions?: unknown }> {
  // Generous: a process starting beside three other test files on two cores takes its time.
  const deadline = Date.now() + 45_000;
  for (;;) {
    try {
      const response = await fetch(url);
      return (await response.json()) as { versions?: unknown };
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`server did not answer: ${String(err)}\n${output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('register-user', { concurrency: true }, () => {
  function configWithSecret(cwd: string, port: number, secret = 'registration-secret'): void {
    const secretLine = secret === '' ? '' : `registration_shared_secret: ${secret}\n`;
    writeFileSync(
      join(cwd, 'homeserver.yaml'),
      `server_name: example.org\n${secretLine}listeners:\n  - port: ${port}\n    bind_addresses: ['127.0.0.1']\n    resources: [{names: [client]}]\n`,
    );
  }

  test('gets a nonce, posts the HMAC and prints the new user ID', async () => {
    const cwd = workDir('register');
    const received: unknown[] = [];
    const server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        assert.equal(req.url, '/_synapse/admin/v1/register');
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET') return res.end(JSON.stringify({ nonce: 'n0nce' }));
        received.push(JSON.parse(body));
        res.end(JSON.stringify({ user_id: '@alice:example.org', access_token: 't', device_id: 'D' }));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const port = (server.address() as { port: number }).port;
      configWithSecret(cwd, port);
      const run = await runCli(['register-user', '--config', 'homeserver.yaml', '--user', 'alice', '--password', 'pw', '--admin'], cwd);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, '@alice:example.org\n');
      assert.deepEqual(received, [
        { nonce: 'n0nce', username: 'alice', password: 'pw', admin: true, mac: registrationMac('registration-secret', 'n0nce', 'alice', 'pw', true) },
      ]);
    } finally {
      server.close();
    }
  });

  test('a server that is not running: exit 1, naming the URL and saying to start it', async () => {
    const cwd = workDir('register-down');
    const port = await freePort();
    configWithSecret(cwd, port);
    const run = await runCli(['register-user', '--config', 'homeserver.yaml', '--user', 'alice', '--password', 'pw'], cwd);
    assert.equal(run.code, 1);
    assertOneLine(run.stderr);
    assert.match(run.stderr, new RegExp(`cannot connect to http://127\\.0\\.0\\.1:${port}/_synapse/admin/v1/register: connection refused; the server must be running`));
  });

  test('no registration_shared_secret: exit 2 and what to set', async () => {
    const cwd = workDir('register-nosecret');
    configWithSecret(cwd, 8008, '');
    const run = await runCli(['register-user', '--config', 'homeserver.yaml', '--user', 'alice', '--password', 'pw'], cwd);
    assert.equal(run.code, 2);
    assertOneLine(run.stderr);
    assert.match(run.stderr, /registration_shared_secret is not set/);
  });
});
