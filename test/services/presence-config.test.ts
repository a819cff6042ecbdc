// Synapse's `presence:` section, read by the config loader for the presence service.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const FILE = '/etc/axon/homeserver.yaml';

function load(text: string): { enabled: boolean | undefined; warnings: string[] } {
  const warnings: string[] = [];
  const config = parseConfig(`server_name: example.org\n${text}`, FILE, { warn: (m) => warnings.push(m), defaultBindAddresses: ['::'] });
  return { enabled: config.presence?.enabled, warnings };
}

describe('presence config', () => {
  test('enabled by default, and `enabled: false` is read without a warning', () => {
    assert.deepEqual(load(''), { enabled: true, warnings: [] });
    assert.deepEqual(load('presence:\n  enabled: false\n'), { enabled: false, warnings: [] });
    assert.deepEqual(load('presence:\n'), { enabled: true, warnings: [] });
  });

  test('unknown sub-keys warn; a non-boolean enabled is an error naming the key', () => {
    assert.deepEqual(load('presence:\n  enabled: true\n  include_offline_users_on_sync: true\n').warnings, [
      `${FILE}: ignoring unknown key 'presence.include_offline_users_on_sync'`,
    ]);
    assert.throws(() => load('presence:\n  enabled: maybe\n'), (err: unknown) => err instanceof ConfigError && err.message.includes('presence.enabled'));
  });
});
