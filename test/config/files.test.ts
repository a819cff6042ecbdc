import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWritableDirectory, FileAccessError, osUser, ownershipWarnings } from '../../src/config/access.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadOrCreateSigningKeys } from '../../src/config/signing-key.js';
import { formatSigningKeyFile, generateSigningKey, parseSigningKeyFile } from '../../src/core/signing.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'axon-files-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a missing signing key is created owner-only in Synapse format, and read back unchanged', () => {
  withDir((dir) => {
    const path = join(dir, 'example.org.signing.key');
    const first = loadOrCreateSigningKeys(path, () => assert.fail('no warning expected'));
    assert.equal(first.created, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const again = loadOrCreateSigningKeys(path, () => assert.fail('no warning expected'));
    assert.equal(again.created, false);
    assert.deepEqual(again.keys.map((k) => [k.keyId, k.seed]), first.keys.map((k) => [k.keyId, k.seed]));
    assert.deepEqual(parseSigningKeyFile(readFileSync(path, 'utf8'))[0]?.publicKey, first.keys[0]?.publicKey);
  });
});

test('a Synapse key file readable by others loads with a chmod warning', () => {
  withDir((dir) => {
    const path = join(dir, 'k.key');
    writeFileSync(path, formatSigningKeyFile([generateSigningKey('a_abcd')]));
    chmodSync(path, 0o644);
    const warnings: string[] = [];
    const { keys } = loadOrCreateSigningKeys(path, (m) => warnings.push(m));
    assert.equal(keys[0]?.keyId, 'ed25519:a_abcd');
    assert.deepEqual(warnings, [`${path}: the signing key can be read by other users; restrict it with: chmod 600 ${path}`]);
  });
});

test('a malformed or empty key file is a one-line ConfigError naming it', () => {
  withDir((dir) => {
    const path = join(dir, 'k.key');
    writeFileSync(path, 'ed25519 a_abcd\n');
    assert.throws(() => loadOrCreateSigningKeys(path, () => {}), (err: Error) => err instanceof ConfigError && err.message.startsWith(`${path}: signing key file line 1:`));
    writeFileSync(path, '\n');
    assert.throws(() => loadOrCreateSigningKeys(path, () => {}), (err: Error) => err instanceof ConfigError && err.message.startsWith(`${path}: the signing key file has no key in it`));
  });
});

test('ensureWritableDirectory creates missing parents and names a file in the way', () => {
  withDir((dir) => {
    ensureWritableDirectory(join(dir, 'a/b/c'), 'media store');
    assert.ok(statSync(join(dir, 'a/b/c')).isDirectory());
    writeFileSync(join(dir, 'file'), '');
    assert.throws(
      () => ensureWritableDirectory(join(dir, 'file/x/y'), 'media store'),
      (err: Error) => err instanceof FileAccessError && err.message.endsWith(`${join(dir, 'file')} is a file, not a directory; move that file away or choose another path`),
    );
  });
});

/** A config keeping everything in `dir` (SQLite database, signing key) and media in dir/media, as the Debian layout does in /var/lib/axon. */
function dataDirConfig(dir: string) {
  mkdirSync(join(dir, 'media'));
  writeFileSync(join(dir, 'example.org.signing.key'), formatSigningKeyFile([generateSigningKey()]), { mode: 0o600 });
  writeFileSync(join(dir, 'homeserver.db'), '');
  return parseConfig('server_name: example.org\nmedia_store_path: media\n', join(dir, 'homeserver.yaml'), { warn: () => {} });
}

test('ownershipWarnings: nothing when Axon owns its data, one chown -R for the data directory when another user does', () => {
  withDir((dir) => {
    const config = dataDirConfig(dir);
    const me = osUser();
    assert.deepEqual(ownershipWarnings(config, me), []);
    // The same files, seen by a service user that does not own them (root owns what the tests make).
    const axon = { uid: me.uid + 4242, user: 'axon', group: 'axon' };
    assert.deepEqual(ownershipWarnings(config, axon), [
      `the directory of the SQLite database (database.args.database) ${dir} belongs to '${me.user}', but Axon runs as 'axon'; fix with: sudo chown -R axon:axon ${dir}`,
    ]);
  });
});

test(
  'ownershipWarnings: a signing key left to another user is named on its own, and root is told it could run as that user',
  { skip: process.getuid?.() !== 0 && 'only root can give a file to another user' },
  () => {
    withDir((dir) => {
      const config = dataDirConfig(dir);
      const key = join(dir, 'example.org.signing.key');
      // nobody (65534) stands for the service user root has taken the key from.
      chownSync(key, 65534, 65534);
      assert.deepEqual(ownershipWarnings(config, { uid: 0, user: 'root', group: 'root' }), [
        `the signing key (signing_key_path) ${key} belongs to 'nobody', but Axon runs as 'root'; fix with: sudo chown root:root ${key} (or run Axon as 'nobody', as packaging/axon.service does)`,
      ]);
      // An owner with no name is named by uid, and there is no one to suggest running as.
      chownSync(key, 4242, 4242);
      assert.deepEqual(ownershipWarnings(config, { uid: 0, user: 'root', group: 'root' }), [
        `the signing key (signing_key_path) ${key} belongs to 'uid 4242', but Axon runs as 'root'; fix with: sudo chown root:root ${key}`,
      ]);
    });
  },
);

test(
  'ownershipWarnings: a signing key kept in a root-owned /etc/axon is fine; its directory counts only while the key is to be made',
  { skip: process.getuid?.() !== 0 && 'only root can give a file to another user' },
  () => {
    withDir((dir) => {
      const etc = join(dir, 'etc');
      const data = join(dir, 'data');
      mkdirSync(etc);
      mkdirSync(data);
      const config = parseConfig(`server_name: example.org\nmedia_store_path: ${data}/media\ndatabase:\n  name: sqlite3\n  args:\n    database: ${data}/homeserver.db\n`, join(etc, 'homeserver.yaml'), { warn: () => {} });
      const me = osUser();
      const axon = { uid: me.uid + 4242, user: 'axon', group: 'axon' };
      chownSync(data, axon.uid, axon.uid);
      const key = join(etc, 'example.org.signing.key');
      assert.deepEqual(ownershipWarnings(config, axon), [
        `the directory for the new signing key (signing_key_path) ${etc} belongs to '${me.user}', but Axon runs as 'axon'; fix with: sudo chown -R axon:axon ${etc}`,
      ]);
      writeFileSync(key, formatSigningKeyFile([generateSigningKey()]), { mode: 0o600 });
      chownSync(key, axon.uid, axon.uid);
      assert.deepEqual(ownershipWarnings(config, axon), []);
    });
  },
);
