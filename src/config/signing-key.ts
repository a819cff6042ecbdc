// The signing key file named by signing_key_path, in Synapse's format, so a
// Synapse server's key keeps working. A missing file is created, as Synapse
// does on start; an unreadable or malformed one is a one-line ConfigError.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { formatSigningKeyFile, generateSigningKey, parseSigningKeyFile, type SigningKey } from '../core/signing.js';
import { describeFsError } from './access.js';
import { ConfigError } from './errors.js';
import type { Warn } from './values.js';

export interface LoadedSigningKeys {
  keys: SigningKey[];
  /** True when the file did not exist and was just written. */
  created: boolean;
}

export function loadOrCreateSigningKeys(path: string, warn: Warn): LoadedSigningKeys {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') throw new ConfigError(describeFsError(path, e, 'read', 'signing key (signing_key_path)'));
    return { keys: [createSigningKey(path)], created: true };
  }
  let keys: SigningKey[];
  try {
    keys = parseSigningKeyFile(text);
  } catch (err) {
    throw new ConfigError(`${path}: ${(err as Error).message}`);
  }
  if (keys.length === 0) {
    throw new ConfigError(`${path}: the signing key file has no key in it; restore it from a backup, or delete it to make a new one (other servers will then have to fetch the new key)`);
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    warn(`${path}: the signing key can be read by other users; restrict it with: chmod 600 ${path}`);
  }
  return { keys, created: false };
}

function createSigningKey(path: string): SigningKey {
  const key = generateSigningKey();
  try {
    writeFileSync(path, formatSigningKeyFile([key]), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    throw new ConfigError(describeFsError(path, err as NodeJS.ErrnoException, 'write', 'new signing key (signing_key_path)'));
  }
  return key;
}
