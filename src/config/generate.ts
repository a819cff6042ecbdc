// A new homeserver.yaml and signing key, as `axon generate-config` writes
// them. The file is commented for the operator who will edit it next, uses
// Synapse's keys, and never replaces an existing config or key: a signing
// key is the server's identity, and losing it breaks federation.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isValidServerName } from '../core/identifiers.js';
import { formatSigningKeyFile, generateSigningKey } from '../core/signing.js';
import { describeFsError } from './access.js';
import { ConfigError } from './errors.js';

export interface GenerateOptions {
  serverName: string;
  configPath: string;
  /** Where the database and media go. Default: the config file's directory. */
  dataDir?: string;
  /**
   * Open registration, without verification. Only for the local-only server
   * `axon start --generate-if-missing` (npm start) creates: its listener is
   * bound to 127.0.0.1, so only this machine can register.
   */
  openLocalRegistration?: boolean;
  /** The listener's port. Default 8008, Synapse's. */
  port?: number;
}

export interface GeneratedFiles {
  configPath: string;
  signingKeyPath: string;
  dataDir: string;
}

/** Writes the config file and signing key; throws ConfigError if either exists or cannot be written. */
export function generateConfigFiles(options: GenerateOptions): GeneratedFiles {
  if (!isValidServerName(options.serverName)) {
    throw new ConfigError(
      `--server-name: must be a server name (a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional :port), got ${JSON.stringify(options.serverName)}`,
    );
  }
  const configPath = resolve(options.configPath);
  const configDir = dirname(configPath);
  const dataDir = resolve(options.dataDir ?? configDir);
  const signingKeyPath = join(configDir, `${options.serverName}.signing.key`);
  refuseToOverwrite(configPath, signingKeyPath);

  const text = renderConfig({
    serverName: options.serverName,
    port: options.port ?? 8008,
    // Relative paths keep a generated directory movable as a whole.
    database: pathFrom(configDir, join(dataDir, 'homeserver.db')),
    mediaStore: pathFrom(configDir, join(dataDir, 'media_store')),
    signingKey: pathFrom(configDir, signingKeyPath),
    sharedSecret: randomBytes(32).toString('base64url'),
    openLocalRegistration: options.openLocalRegistration ?? false,
  });
  makeDirectory(configDir, 'configuration directory');
  makeDirectory(dataDir, 'data directory');
  // 'wx' fails rather than replacing a file that appeared since the check.
  writeNewFile(signingKeyPath, formatSigningKeyFile([generateSigningKey()]), 'signing key');
  // The config holds registration_shared_secret: owner-only, like the key.
  writeNewFile(configPath, text, 'configuration file');
  return { configPath, signingKeyPath, dataDir };
}

function refuseToOverwrite(configPath: string, signingKeyPath: string): void {
  if (existsSync(configPath)) {
    throw new ConfigError(
      `${configPath} already exists; Axon will not overwrite it. Start with it (axon start --config ${configPath}), or move it away to generate a new one`,
    );
  }
  if (existsSync(signingKeyPath)) {
    throw new ConfigError(
      `${signingKeyPath} already exists and is this server's identity; Axon will not overwrite it. Move it away first if you really mean to replace it`,
    );
  }
}

function pathFrom(configDir: string, path: string): string {
  const rel = relative(configDir, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function makeDirectory(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new ConfigError(describeFsError(dir, err as NodeJS.ErrnoException, 'write', what));
  }
}

function writeNewFile(path: string, text: string, what: string): void {
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw new ConfigError(`${path} already exists; Axon will not overwrite the ${what}`);
    throw new ConfigError(describeFsError(path, e, 'write', what));
  }
}

interface Rendered {
  serverName: string;
  port: number;
  database: string;
  mediaStore: string;
  signingKey: string;
  sharedSecret: string;
  openLocalRegistration: boolean;
}

// JSON strings are valid YAML double-quoted scalars.
const q = (s: string): string => JSON.stringify(s);

export function renderConfig(r: Rendered): string {
  const registration = r.openLocalRegistration
    ? [
        '# Anyone who can reach the client API may register, with no email,',
        '# captcha or token check. This is acceptable ONLY because the listener',
        '# above is bound to 127.0.0.1, so only this machine can connect. Before',
        '# exposing the server to a network set enable_registration: false, or',
        '# set registration_requires_token: true.',
        'enable_registration: true',
        'enable_registration_without_verification: true',
        'registration_requires_token: false',
      ]
    : [
        '# Closed, as in Synapse. Create accounts with',
        '#   axon register-user --config <this file> --user NAME --password PASSWORD',
        '# To open it, set enable_registration: true and either',
        '# registration_requires_token: true (recommended) or',
        '# enable_registration_without_verification: true.',
        'enable_registration: false',
        'registration_requires_token: false',
      ];
  return [
    `# Axon homeserver configuration, written by \`axon generate-config\`.`,
    '#',
    "# Keys and meanings are Synapse's: see its Configuration Manual,",
    '# https://element-hq.github.io/synapse/latest/usage/configuration/config_documentation.html',
    '# Relative paths below are relative to the directory of this file.',
    '',
    '# The domain in your user IDs (@alice:<server_name>). It cannot be changed',
    '# later: it is part of every user and room this server creates.',
    `server_name: ${q(r.serverName)}`,
    '',
    '# The URL clients use to reach this server. Change it when the server sits',
    '# behind a reverse proxy or is reached under another name.',
    `public_baseurl: ${q(`http://127.0.0.1:${r.port}/`)}`,
    '',
    'listeners:',
    '  # Plain HTTP on this machine only. To serve other machines, put a reverse',
    '  # proxy with TLS in front of it (and set x_forwarded: true), or add a',
    '  # listener with tls: true plus tls_certificate_path / tls_private_key_path.',
    `  - port: ${r.port}`,
    '    tls: false',
    '    type: http',
    '    x_forwarded: false',
    "    bind_addresses: ['127.0.0.1']",
    '    resources:',
    '      - names: [client, federation]',
    '        compress: false',
    '',
    '# SQLite needs no setup. For more than a few users use PostgreSQL:',
    '#   database:',
    '#     name: psycopg2',
    '#     args: {user: axon, password: secret, dbname: axon, host: localhost, cp_min: 5, cp_max: 10}',
    'database:',
    '  name: sqlite3',
    '  args:',
    `    database: ${q(r.database)}`,
    '',
    `media_store_path: ${q(r.mediaStore)}`,
    '',
    "# This server's ed25519 signing key: its identity in federation. Keep it",
    '# secret, back it up, and never replace it.',
    `signing_key_path: ${q(r.signingKey)}`,
    '',
    ...registration,
    '',
    '# Lets `axon register-user` create accounts (including admins) through the',
    '# admin API. Anyone who has it can do the same: keep this file private.',
    `registration_shared_secret: ${q(r.sharedSecret)}`,
    '',
    '# Fetch other servers\' signing keys from those servers directly, over',
    '# verified TLS. Synapse defaults to the matrix.org notary, which needs',
    '# internet access; to use it, write:',
    '#   trusted_key_servers:',
    '#     - server_name: "matrix.org"',
    'trusted_key_servers: []',
    '',
    '# Federation on a LAN without public DNS or a public CA. Other servers',
    '# connect to a TLS listener (conventionally port 8448, names: [federation]).',
    '#',
    '# Outbound requests never go to private, loopback or link-local addresses',
    '# (ip_range_blacklist, Synapse\'s defaults), also when federation_hosts',
    '# below maps a name to such an address. Open your own network with e.g.:',
    "#   ip_range_whitelist: ['192.168.1.0/24']",
    '#',
    '# Servers no DNS knows: map each server name to host:port (Axon\'s own',
    '# option). The certificate is still checked against the server name:',
    '#   federation_hosts:',
    '#     other-server: "192.168.1.20:8448"',
    '#',
    '# Certificates are checked against the system\'s CAs. Trust your own CA',
    '# (better than turning verification off) with:',
    '#   federation_custom_ca_list: [/etc/axon/lan-ca.pem]',
    '# Only on a test network: federation_verify_certificates: false, or',
    "#   federation_certificate_verification_whitelist: ['*.lan']",
    '#',
    '# Federate only with these servers (default: with any):',
    "#   federation_domain_whitelist: ['other-server']",
    '',
    'report_stats: false',
    '',
  ].join('\n');
}
