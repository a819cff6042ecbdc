import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWritableDirectory, FileAccessError } from '../../src/config/access.js';
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
