import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_IP_RANGE_BLACKLIST, loadConfig, parseConfig } from '../../src/config/load.js';
import type { HomeserverConfig } from '../../src/config/types.js';
import { createTestCa } from '../helpers/tls.js';

const FILE = '/etc/axon/homeserver.yaml';

function load(text: string): { config: HomeserverConfig; warnings: string[] } {
  const warnings: string[] = [];
  const config = parseConfig(text, FILE, { warn: (m) => warnings.push(m), defaultBindAddresses: ['::'] });
  return { config, warnings };
}

function errorOf(text: string): string {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `message must be one line: ${err.message}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

const base = 'server_name: example.org\n';

describe('defaults', () => {
  test('a config with only server_name gets Synapse defaults', () => {
    const { config, warnings } = load(base);
    assert.deepEqual(warnings, []);
    assert.equal(config.configPath, FILE);
    assert.equal(config.serverName, 'example.org');
    assert.equal(config.publicBaseUrl, 'https://example.org/');
    assert.deepEqual(config.database, { engine: 'sqlite', path: '/etc/axon/homeserver.db' });
    assert.equal(config.signingKeyPath, '/etc/axon/example.org.signing.key');
    assert.equal(config.mediaStorePath, '/etc/axon/media_store');
    assert.equal(config.enableRegistration, false);
    assert.equal(config.registrationRequiresToken, false);
    assert.equal(config.enableRegistrationWithoutVerification, false);
    assert.equal(config.registrationSharedSecret, undefined);
    assert.equal(config.allowGuestAccess, false);
    assert.equal(config.federationDomainWhitelist, undefined);
    assert.deepEqual(config.ipRangeBlacklist, [...DEFAULT_IP_RANGE_BLACKLIST, '0.0.0.0/32', '::/128']);
    assert.deepEqual(config.federationIpRangeBlacklist, config.ipRangeBlacklist);
    assert.deepEqual(config.ipRangeWhitelist, []);
    assert.equal(config.federationVerifyCertificates, true);
    assert.deepEqual(config.federationCustomCaList, []);
    assert.deepEqual(config.trustedKeyServers, [{ serverName: 'matrix.org', acceptKeysInsecurely: false }]);
    assert.equal(config.maxUploadSize, 50 * 1024 * 1024);
    assert.equal(config.serveServerWellknown, false);
    assert.equal(config.defaultRoomVersion, '12');
    assert.equal(config.logConfig, undefined);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.enableMetrics, false);
    assert.deepEqual(config.rateLimits, {
      message: { perSecond: 0.2, burstCount: 10 },
      registration: { perSecond: 0.17, burstCount: 3 },
      login: {
        address: { perSecond: 0.003, burstCount: 5 },
        account: { perSecond: 0.003, burstCount: 5 },
        failedAttempts: { perSecond: 0.17, burstCount: 3 },
      },
      thirdPartyInvite: { perSecond: 0.0025, burstCount: 5 },
      other: {},
    });
  });

  test('without listeners, one local-only listener on 8008', () => {
    assert.deepEqual(load(base).config.listeners, [
      { port: 8008, bindAddresses: ['127.0.0.1'], tls: false, type: 'http', xForwarded: false, resources: [{ names: ['client', 'federation'], compress: false }] },
    ]);
  });

  test('a listener without bind_addresses uses the injected default', () => {
    const { config } = load(`${base}listeners:\n  - port: 8008\n`);
    assert.deepEqual(config.listeners[0], { port: 8008, bindAddresses: ['::'], tls: false, type: 'http', xForwarded: false, resources: [] });
  });
});

describe('the seed deployment', () => {
  // Snippets from /work/shared/seed/000_78a5ff918ef1be2d.txt, as written there.
  const seed = `server_name: whatsapp2
database:  
  name: psycopg2  
  args:  
    user: synapse_user  
    password: max  
    dbname: synapse  
    host: localhost  
    cp_min: 5  
    cp_max: 10
enable_registration:true  
registration_requires_token:false  
enable_registration_without_verification:true
listeners:
  - port: 8008
    tls: false
    type: http
    bind_addresses: ['::1', '127.0.0.1']
    resources:
      - names: [client, federation]
        compress: false
  - port: 8448
    tls: true
    type: http
    resources:
      - names: [federation]
    bind_addresses: ['0.0.0.0']
federation_domain_whitelist:
  - "whatsapp2"
  - "whatsapp3"
federation_ip_range_blacklist: []
tls_certificate_path: "/etc/matrix-synapse/server.crt"  
tls_private_key_path: "/etc/matrix-synapse/server.key"
federation_verify_certificates: false
trusted_key_servers:  
- server_name: "whatsapp3"
  accept_keys_insecurely: true
`;

  test('is accepted with its meaning intact', () => {
    const { config } = load(seed);
    assert.deepEqual(config.database, {
      engine: 'postgres',
      database: 'synapse',
      user: 'synapse_user',
      password: 'max',
      host: 'localhost',
      port: undefined,
      poolMin: 5,
      poolMax: 10,
    });
    assert.deepEqual(config.listeners, [
      { port: 8008, bindAddresses: ['::1', '127.0.0.1'], tls: false, type: 'http', xForwarded: false, resources: [{ names: ['client', 'federation'], compress: false }] },
      { port: 8448, bindAddresses: ['0.0.0.0'], tls: true, type: 'http', xForwarded: false, resources: [{ names: ['federation'], compress: false }] },
    ]);
    assert.deepEqual(config.federationDomainWhitelist, ['whatsapp2', 'whatsapp3']);
    // An empty list lifts the private-range block for federation only (a LAN), keeping 0.0.0.0 and ::.
    assert.deepEqual(config.federationIpRangeBlacklist, ['0.0.0.0/32', '::/128']);
    assert.ok(config.ipRangeBlacklist.includes('10.0.0.0/8'));
    assert.equal(config.tlsCertificatePath, '/etc/matrix-synapse/server.crt');
    assert.equal(config.tlsPrivateKeyPath, '/etc/matrix-synapse/server.key');
    assert.equal(config.federationVerifyCertificates, false);
    assert.deepEqual(config.trustedKeyServers, [{ serverName: 'whatsapp3', acceptKeysInsecurely: true }]);
    assert.equal(config.enableRegistration, true);
    assert.equal(config.registrationRequiresToken, false);
    assert.equal(config.enableRegistrationWithoutVerification, true);
  });

  test("'key:value' lines without a space are read as meant, with a warning per line", () => {
    const { warnings } = load(seed);
    assert.deepEqual(
      warnings.filter((w) => w.includes("needs a space after ':'")).map((w) => w.split(': ')[1]),
      ['line 11', 'line 12', 'line 13'],
    );
    assert.ok(warnings[0]!.startsWith(`${FILE}: line 11: read 'enable_registration:true' as 'enable_registration: true'`));
  });

  test("only recognised keys are repaired; other 'a:b' lines stay YAML errors", () => {
    assert.match(errorOf(`${base}listeners: []\nsome_key:value\nfoo: 1\n`), /^\/etc\/axon\/homeserver\.yaml: line 3, column 1: invalid YAML: /);
  });

  test('the Debian package layout (server_name in conf.d) gets a pointer', () => {
    assert.match(errorOf('report_stats: false\n'), /server_name: is required .*conf\.d\/server_name\.yaml/);
  });
});

describe('each key', () => {
  test('server_name: DNS name, IPv4, bracketed IPv6, optional port', () => {
    for (const name of ['localhost', 'matrix.example.org:8448', '192.168.1.10', '[::1]:8448']) {
      assert.equal(load(`server_name: "${name}"\n`).config.serverName, name);
    }
    assert.equal(
      errorOf('server_name: "exa mple.org"\n'),
      `${FILE}: server_name: must be a server name: a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional :port, got "exa mple.org"`,
    );
    assert.match(errorOf('server_name: "::1"\n'), /^\/etc\/axon\/homeserver\.yaml: server_name: must be a server name/);
  });

  test('public_baseurl gains a trailing slash and must be http(s)', () => {
    assert.equal(load(`${base}public_baseurl: https://matrix.example.org\n`).config.publicBaseUrl, 'https://matrix.example.org/');
    assert.equal(errorOf(`${base}public_baseurl: ftp://x\n`), `${FILE}: public_baseurl: must be an http:// or https:// URL, got "ftp://x"`);
  });

  test('listeners: port, type, bind_addresses, resources', () => {
    const { config } = load(`${base}listeners:
  - port: 8008
    bind_address: 127.0.0.1
    x_forwarded: true
    resources:
      - names: [client, media, health, metrics, openid, consent, replication, keys, static]
        compress: true
`);
    assert.deepEqual(config.listeners[0], {
      port: 8008,
      bindAddresses: ['127.0.0.1'],
      tls: false,
      type: 'http',
      xForwarded: true,
      resources: [{ names: ['client', 'media', 'health', 'metrics', 'openid', 'consent', 'replication', 'keys', 'static'], compress: true }],
    });
    assert.equal(errorOf(`${base}listeners:\n  - port: "80a"\n`), `${FILE}: listeners[0].port: must be an integer from 1 to 65535, got "80a"`);
    assert.equal(errorOf(`${base}listeners:\n  - port: 70000\n`), `${FILE}: listeners[0].port: must be an integer from 1 to 65535, got 70000`);
    assert.equal(errorOf(`${base}listeners:\n  - tls: false\n`), `${FILE}: listeners[0].port: is required: the TCP port to listen on, e.g. 8008`);
    assert.equal(errorOf(`${base}listeners:\n  - port: 1\n    type: ftp\n`), `${FILE}: listeners[0].type: must be one of http, metrics, manhole, got "ftp"`);
    assert.match(errorOf(`${base}listeners:\n  - port: 1\n    bind_addresses: [localhost]\n`), /listeners\[0\]\.bind_addresses\[0\]: must be an IP address .* got "localhost"$/);
    assert.match(errorOf(`${base}listeners:\n  - port: 1\n    resources:\n      - names: [client, webclient]\n`), /listeners\[0\]\.resources\[0\]\.names\[1\]: must be one of client, federation, .*got "webclient"$/);
    assert.match(errorOf(`${base}listeners:\n  port: 8008\n`), /: listeners: must be a list, got a mapping$/);
    assert.match(errorOf(`${base}listeners:\n  - port: 1\n    tls: maybe\n`), /listeners\[0\]\.tls: must be true or false, got "maybe"$/);
  });

  test('a TLS listener needs the certificate and key paths', () => {
    const listener = `${base}listeners:\n  - port: 8448\n    tls: true\n`;
    assert.equal(errorOf(listener), `${FILE}: listeners[0].tls: is true, so tls_certificate_path must be set to a PEM file`);
    assert.equal(errorOf(`${listener}tls_certificate_path: a.crt\n`), `${FILE}: listeners[0].tls: is true, so tls_private_key_path must be set to a PEM file`);
    const { config } = load(`${listener}tls_certificate_path: a.crt\ntls_private_key_path: /k/a.key\n`);
    assert.equal(config.tlsCertificatePath, '/etc/axon/a.crt');
    assert.equal(config.tlsPrivateKeyPath, '/k/a.key');
  });

  test('database: sqlite3 paths are relative to the config directory', () => {
    assert.deepEqual(load(`${base}database:\n  name: sqlite3\n  args:\n    database: data/hs.db\n`).config.database, {
      engine: 'sqlite',
      path: '/etc/axon/data/hs.db',
    });
    assert.equal(errorOf(`${base}database:\n  name: sqlite3\n`), `${FILE}: database.args.database: is required for sqlite3: the path of the database file`);
    assert.equal(errorOf(`${base}database:\n  name: mysql\n`), `${FILE}: database.name: must be sqlite3 or psycopg2 (PostgreSQL), got "mysql"`);
  });

  test('database: postgres with `database` as an alias, string port, pool defaults', () => {
    const { config } = load(`${base}database:\n  name: postgres\n  args:\n    database: axon\n    port: "5433"\n    password: 1234\n`);
    assert.deepEqual(config.database, { engine: 'postgres', database: 'axon', user: undefined, password: '1234', host: undefined, port: 5433, poolMin: 5, poolMax: 10 });
    assert.equal(errorOf(`${base}database:\n  name: psycopg2\n  args:\n    user: a\n`), `${FILE}: database.args.dbname: is required for PostgreSQL: the name of the database`);
    assert.equal(errorOf(`${base}database:\n  name: psycopg2\n  args:\n    dbname: a\n    cp_min: 20\n    cp_max: 10\n`), `${FILE}: database.args.cp_min: must not exceed cp_max (10), got 20`);
    assert.equal(errorOf(`${base}database:\n  name: psycopg2\n  args:\n    dbname: a\n    port: 0\n`), `${FILE}: database.args.port: must be an integer from 1 to 65535, got 0`);
  });

  test('database: an empty postgres password is accepted and omitted, as libpq reads it', () => {
    const { config } = load(`${base}database:\n  name: psycopg2\n  args:\n    dbname: axon\n    user: synapse\n    password: ""\n`);
    assert.deepEqual(config.database, { engine: 'postgres', database: 'axon', user: 'synapse', password: undefined, host: undefined, port: undefined, poolMin: 5, poolMax: 10 });
    assert.equal(errorOf(`${base}database:\n  name: psycopg2\n  args:\n    dbname: a\n    password: [x]\n`), `${FILE}: database.args.password: must be a non-empty string, got a list`);
  });

  test('signing_key_path and media_store_path resolve against the config directory', () => {
    const { config } = load(`${base}signing_key_path: keys/k.key\nmedia_store_path: ../media\n`);
    assert.equal(config.signingKeyPath, '/etc/axon/keys/k.key');
    assert.equal(config.mediaStorePath, '/etc/media');
  });

  test('open registration without verification is refused, as by Synapse', () => {
    assert.equal(
      errorOf(`${base}enable_registration: true\n`),
      `${FILE}: enable_registration: open registration without verification invites spam and abuse; set registration_requires_token: true, or accept the risk with enable_registration_without_verification: true`,
    );
    assert.equal(load(`${base}enable_registration: true\nregistration_requires_token: true\n`).config.registrationRequiresToken, true);
    assert.equal(load(`${base}enable_registration: yes\nenable_registration_without_verification: on\n`).config.enableRegistration, true);
  });

  test('registration_shared_secret inline or from a file, not both', () => {
    assert.equal(load(`${base}registration_shared_secret: s3cret\n`).config.registrationSharedSecret, 's3cret');
    const dir = mkdtempSync(join(tmpdir(), 'axon-config-'));
    try {
      writeFileSync(join(dir, 'secret'), 'from-file\n');
      const file = join(dir, 'homeserver.yaml');
      writeFileSync(file, `${base}registration_shared_secret_path: secret\n`);
      assert.equal(loadConfig(file, { warn: () => {} }).registrationSharedSecret, 'from-file');
      writeFileSync(file, `${base}registration_shared_secret_path: missing\n`);
      assert.throws(() => loadConfig(file, { warn: () => {} }), (err: Error) => {
        assert.match(err.message, /registration_shared_secret_path: Axon \(running as user '.+'\) cannot read the registration shared secret file .*missing: it does not exist; create it with: openssl rand -hex 32 > /);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(
      errorOf(`${base}registration_shared_secret: a\nregistration_shared_secret_path: b\n`),
      `${FILE}: registration_shared_secret_path: cannot be set together with registration_shared_secret; keep one of them`,
    );
  });

  test('allow_guest_access, serve_server_wellknown, federation_verify_certificates are booleans', () => {
    const { config } = load(`${base}allow_guest_access: true\nserve_server_wellknown: true\nfederation_verify_certificates: true\n`);
    assert.equal(config.allowGuestAccess, true);
    assert.equal(config.serveServerWellknown, true);
    assert.equal(
      errorOf(`${base}federation_verify_certificates: false // only for tests\n`),
      `${FILE}: federation_verify_certificates: must be true or false, got "false // only for tests" (comments in YAML start with '#', not '//')`,
    );
  });

  test('allow_per_room_profiles: on unless set to false, as in Synapse', () => {
    assert.equal(load(base).config.allowPerRoomProfiles, true);
    const { config, warnings } = load(`${base}allow_per_room_profiles: false\n`);
    assert.equal(config.allowPerRoomProfiles, false);
    assert.deepEqual(warnings, [], 'no longer reported as unsupported');
  });

  test("use_insecure_ssl_client_just_for_testing_do_not_use: Synapse's key, off unless set", () => {
    assert.equal(load(base).config.insecureClientTls, false);
    const { config, warnings } = load(`${base}use_insecure_ssl_client_just_for_testing_do_not_use: true\n`);
    assert.equal(config.insecureClientTls, true);
    assert.deepEqual(warnings, []);
    assert.match(errorOf(`${base}use_insecure_ssl_client_just_for_testing_do_not_use: 'yes'\n`), /use_insecure_ssl_client_just_for_testing_do_not_use/);
  });

  test('IP ranges are validated CIDRs; bare addresses become single-address ranges', () => {
    const { config } = load(`${base}ip_range_blacklist: ['10.0.0.0/8', 'fd00::/8', '192.168.1.1']\nip_range_whitelist: ['::1']\n`);
    assert.deepEqual(config.ipRangeBlacklist, ['10.0.0.0/8', 'fd00::/8', '192.168.1.1/32', '0.0.0.0/32', '::/128']);
    assert.deepEqual(config.federationIpRangeBlacklist, config.ipRangeBlacklist);
    assert.deepEqual(config.ipRangeWhitelist, ['::1/128']);
    assert.equal(
      errorOf(`${base}ip_range_blacklist: ['10.0.0.0/33']\n`),
      `${FILE}: ip_range_blacklist[0]: must be an IP address or CIDR range like "10.0.0.0/8" or "fd00::/8", got "10.0.0.0/33"`,
    );
    assert.match(errorOf(`${base}federation_ip_range_blacklist: ['300.1.1.1/8']\n`), /federation_ip_range_blacklist\[0\]: must be an IP address/);
  });

  test('federation_domain_whitelist holds server names', () => {
    assert.match(errorOf(`${base}federation_domain_whitelist: ['ok.org', 'not ok']\n`), /federation_domain_whitelist\[1\]: must be a server name/);
  });

  test('federation_custom_ca_list: paths resolve against the config directory; each file must hold PEM certificates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-ca-'));
    try {
      const ca = await createTestCa();
      writeFileSync(join(dir, 'lan-ca.pem'), ca.certPem);
      writeFileSync(join(dir, 'key.pem'), ca.keyPem);
      writeFileSync(join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      const file = join(dir, 'homeserver.yaml');
      const parse = (text: string) => parseConfig(text, file, { warn: () => {} });
      assert.deepEqual(parse(`${base}federation_custom_ca_list: [lan-ca.pem]\n`).federationCustomCaList, [join(dir, 'lan-ca.pem')]);
      const failure = (list: string): string => {
        try {
          parse(`${base}federation_custom_ca_list: [${list}]\n`);
        } catch (err) {
          assert.ok(err instanceof ConfigError);
          return err.message;
        }
        assert.fail('expected a ConfigError');
      };
      assert.match(failure('missing.pem'), /federation_custom_ca_list\[0\]: Axon .* cannot read the CA certificate file .*missing\.pem: it does not exist$/);
      assert.match(failure('lan-ca.pem, key.pem'), /federation_custom_ca_list\[1\]: .*key\.pem holds no PEM certificate/);
      assert.match(failure('broken.pem'), /federation_custom_ca_list\[0\]: certificate 1 in .*broken\.pem cannot be parsed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('federation_hosts maps server names to host:port (8448 by default)', () => {
    const { config } = load(`${base}federation_hosts:\n  whatsapp3: "192.168.1.20:8448"\n  hs.lan: hs.internal\n  "v6.lan:8448": "[fd00::1]:443"\n`);
    assert.deepEqual(config.federationHosts, {
      whatsapp3: { host: '192.168.1.20', port: 8448 },
      'hs.lan': { host: 'hs.internal', port: 8448 },
      'v6.lan:8448': { host: 'fd00::1', port: 443 },
    });
    assert.deepEqual(load(base).config.federationHosts, {});
    assert.equal(
      errorOf(`${base}federation_hosts:\n  whatsapp3: "192.168.1.20:99999"\n`),
      `${FILE}: federation_hosts.whatsapp3: must be host:port, e.g. "192.168.1.20:8448" or "hs.lan:8448" (IPv6 in brackets), got "192.168.1.20:99999"`,
    );
    assert.match(errorOf(`${base}federation_hosts:\n  "not a name": "1.2.3.4"\n`), /federation_hosts key: must be a server name/);
    assert.match(errorOf(`${base}federation_hosts: [a]\n`), /federation_hosts: must be a mapping/);
  });

  test('federation_certificate_verification_whitelist and suppress_key_server_warning', () => {
    const { config } = load(`${base}federation_certificate_verification_whitelist: ['lon.example.com', '*.domain.com', '*.onion']\nsuppress_key_server_warning: true\n`);
    assert.deepEqual(config.federationCertificateVerificationWhitelist, ['lon.example.com', '*.domain.com', '*.onion']);
    assert.equal(config.suppressKeyServerWarning, true);
    assert.equal(load(base).config.suppressKeyServerWarning, false);
    assert.match(errorOf(`${base}federation_certificate_verification_whitelist: ['a b']\n`), /federation_certificate_verification_whitelist\[0\]: must be a host name or a glob/);
  });

  test('trusted_key_servers with verify_keys; insecure notaries refused when TLS is not verified', () => {
    const key = 'l8Hft5qXKn1vfHrg3p4+W8gELQVo8N13JkluMfmn2sQ';
    const { config } = load(`${base}trusted_key_servers:\n  - server_name: matrix.org\n    verify_keys:\n      "ed25519:auto": "${key}"\n`);
    assert.deepEqual(config.trustedKeyServers, [{ serverName: 'matrix.org', acceptKeysInsecurely: false, verifyKeys: { 'ed25519:auto': key } }]);
    assert.match(errorOf(`${base}trusted_key_servers:\n  - server_name: m.org\n    verify_keys:\n      "ed25519:a": "short"\n`), /trusted_key_servers\[0\]\.verify_keys\.ed25519:a: must be a 32-byte ed25519 public key/);
    assert.match(errorOf(`${base}federation_verify_certificates: false\ntrusted_key_servers:\n  - server_name: other\n`), /: trusted_key_servers\[0\]: federation_verify_certificates is false, so keys from 'other' could be forged/);
    // Synapse refuses its own default notary in that case too.
    assert.match(errorOf(`${base}federation_verify_certificates: false\n`), /: trusted_key_servers: federation_verify_certificates is false, so keys from 'matrix.org'/);
    assert.deepEqual(load(`${base}federation_verify_certificates: false\ntrusted_key_servers: []\n`).config.trustedKeyServers, []);
  });

  test('max_upload_size: plain numbers and K/M/G/T suffixes', () => {
    const size = (v: string): number => load(`${base}max_upload_size: ${v}\n`).config.maxUploadSize;
    assert.equal(size('1234'), 1234);
    assert.equal(size('"10K"'), 10 * 1024);
    assert.equal(size('50M'), 50 * 1024 * 1024);
    assert.equal(size('1G'), 1024 ** 3);
    assert.equal(errorOf(`${base}max_upload_size: 10 MB\n`), `${FILE}: max_upload_size: must be a size in bytes like 1048576, "10K", "50M" or "1G", got "10 MB"`);
  });

  test('rate limits: rc_message, rc_registration, rc_login.*, other rc_* kept', () => {
    const { config, warnings } = load(`${base}rc_message:\n  per_second: 1\n  burst_count: 20
rc_login:\n  address:\n    per_second: 0.5\n  failed_attempts:\n    burst_count: 7
rc_joins:\n  local:\n    per_second: 0.1\n    burst_count: 10
rc_media_create:\n  per_second: 10\n  burst_count: 50
rc_third_party_invite:\n  burst_count: 2
rc_federation:\n  window_size: 1000
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.rateLimits.message, { perSecond: 1, burstCount: 20 });
    assert.deepEqual(config.rateLimits.registration, { perSecond: 0.17, burstCount: 3 });
    assert.deepEqual(config.rateLimits.login, {
      address: { perSecond: 0.5, burstCount: 5 },
      account: { perSecond: 0.003, burstCount: 5 },
      failedAttempts: { perSecond: 0.17, burstCount: 7 },
    });
    assert.deepEqual(config.rateLimits.thirdPartyInvite, { perSecond: 0.0025, burstCount: 2 });
    assert.deepEqual(config.rateLimits.other, {
      'rc_joins.local': { perSecond: 0.1, burstCount: 10 },
      rc_media_create: { perSecond: 10, burstCount: 50 },
    });
    assert.equal(errorOf(`${base}rc_message:\n  per_second: -1\n`), `${FILE}: rc_message.per_second: must be a number of at least 0, got -1`);
  });

  test('token lifetimes: Synapse defaults, durations, and null to turn one off', () => {
    assert.deepEqual(load(base).config.tokenLifetimes, { refreshableAccessToken: 300_000, refreshToken: null, nonrefreshableAccessToken: null });
    const { config, warnings } = load(`${base}refreshable_access_token_lifetime: 10m\nrefresh_token_lifetime: 1d\nnonrefreshable_access_token_lifetime: 3600000\n`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.tokenLifetimes, { refreshableAccessToken: 600_000, refreshToken: 86_400_000, nonrefreshableAccessToken: 3_600_000 });
    assert.equal(load(`${base}refreshable_access_token_lifetime: null\n`).config.tokenLifetimes?.refreshableAccessToken, null);
    assert.equal(
      errorOf(`${base}refresh_token_lifetime: soon\n`),
      `${FILE}: refresh_token_lifetime: must be a duration such as "30s", "5m", "1h" or "2d", or a number of milliseconds; got "soon"`,
    );
  });

  test('login_via_existing_session: disabled by default; enabled, require_ui_auth, token_timeout', () => {
    assert.deepEqual(load(base).config.loginViaExistingSession, { enabled: false, requireUiAuth: true, tokenTimeoutMs: 300_000 });
    const { config, warnings } = load(`${base}login_via_existing_session:\n  enabled: true\n  require_ui_auth: false\n  token_timeout: 2m\n`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.loginViaExistingSession, { enabled: true, requireUiAuth: false, tokenTimeoutMs: 120_000 });
    assert.equal(errorOf(`${base}login_via_existing_session:\n  enabled: maybe\n`), `${FILE}: login_via_existing_session.enabled: must be true or false, got "maybe"`);
  });

  test('default_room_version: a known version, numbers accepted', () => {
    assert.equal(load(`${base}default_room_version: 10\n`).config.defaultRoomVersion, '10');
    assert.equal(load(`${base}default_room_version: "1"\n`).config.defaultRoomVersion, '1');
    assert.match(errorOf(`${base}default_room_version: "13"\n`), /: default_room_version: must be one of the room versions 1, 2, .*12, got "13"$/);
  });

  test('support and admin_contact make the support well-known; unset, there is none', () => {
    assert.equal(load(base).config.support, undefined);
    const full = load(
      `${base}admin_contact: mailto:root@example.org\nsupport:\n  support_page: https://example.org/help\n  contacts:\n    - {matrix_id: '@sec:example.org', role: m.role.security}\n`,
    );
    assert.deepEqual(full.warnings, []);
    assert.deepEqual(full.config.support, {
      contacts: [
        { role: 'm.role.security', matrixId: '@sec:example.org' },
        { role: 'm.role.admin', emailAddress: 'root@example.org' },
      ],
      supportPage: 'https://example.org/help',
    });
    assert.deepEqual(load(`${base}admin_contact: '@admin:example.org'\n`).config.support, { contacts: [{ role: 'm.role.admin', matrixId: '@admin:example.org' }] });
    assert.deepEqual(load(`${base}admin_contact: https://example.org/contact\n`).config.support, { contacts: [], supportPage: 'https://example.org/contact' });
    assert.match(errorOf(`${base}admin_contact: call me\n`), /: admin_contact: must be a mailto: address, a Matrix user ID or an https:\/\/ page/);
    assert.match(errorOf(`${base}support: {}\n`), /: support: needs contacts \(a non-empty list\) or support_page$/);
    assert.match(errorOf(`${base}support:\n  contacts: [{matrix_id: '@a:example.org'}]\n`), /: support\.contacts\[0\]\.role: is required/);
    assert.match(errorOf(`${base}support:\n  contacts: [{role: m.role.admin}]\n`), /: support\.contacts\[0\]: needs matrix_id or email_address/);
    assert.match(errorOf(`${base}support:\n  contacts: [{role: m.role.admin, matrix_id: admin}]\n`), /matrix_id: must be a Matrix user ID/);
    assert.match(errorOf(`${base}support:\n  support_page: ftp://example.org\n`), /support\.support_page: must be an http:\/\/ or https:\/\/ URL/);
  });

  test('url previews: the private ranges are off limits unless url_preview_ip_range_blacklist says otherwise; max_spider_size', () => {
    const on = load(`${base}url_preview_enabled: true\n`).config;
    assert.deepEqual(on.urlPreviewIpRangeBlacklist, [...DEFAULT_IP_RANGE_BLACKLIST, '0.0.0.0/32', '::/128']);
    assert.equal(on.maxSpiderSize, 10 * 1024 * 1024);
    const set = load(`${base}url_preview_enabled: true\nurl_preview_ip_range_blacklist: [10.0.0.0/8]\nmax_spider_size: 1M\n`).config;
    assert.deepEqual(set.urlPreviewIpRangeBlacklist, ['10.0.0.0/8', '0.0.0.0/32', '::/128']);
    assert.equal(set.maxSpiderSize, 1024 * 1024);
  });
});

describe('keys Axon does not act on', () => {
  test('unknown keys warn once each, with a suggestion for typos', () => {
    const { warnings } = load(`${base}enable_search: false\nenable_registraton: true\nfrobnicate: 1\n`);
    assert.deepEqual(warnings, [
      `${FILE}: ignoring unknown key 'enable_search' (a Synapse option Axon does not implement)`,
      `${FILE}: ignoring unknown key 'enable_registraton' (did you mean 'enable_registration'?)`,
      `${FILE}: ignoring unknown key 'frobnicate'`,
    ]);
  });

  test('common Synapse keys with no effect in Axon are accepted silently', () => {
    const { warnings } = load(`${base}macaroon_secret_key: x\nform_secret: y\npid_file: /run/s.pid\nreport_stats: false\nsuppress_key_server_warning: true\n`);
    assert.deepEqual(warnings, []);
  });

  test('unknown keys inside known sections warn with their path', () => {
    const { warnings } = load(`${base}listeners:\n  - port: 8008\n    tag: main\ndatabase:\n  name: psycopg2\n  args:\n    dbname: a\n    sslmode: require\n`);
    assert.deepEqual(warnings, [`${FILE}: ignoring unknown key 'listeners[0].tag'`, `${FILE}: ignoring unknown key 'database.args.sslmode'`]);
  });

  test('a key set twice warns; the last one counts, as in PyYAML', () => {
    const { config, warnings } = load(`${base}max_upload_size: 1\nmax_upload_size: 2\n`);
    assert.equal(config.maxUploadSize, 2);
    assert.deepEqual(warnings, [`${FILE}: 'max_upload_size' is set 2 times (lines 2, 3); only the last one counts`]);
  });
});

describe('the file itself', () => {
  test('YAML syntax errors name the file, the line and the reason', () => {
    assert.equal(errorOf(`${base}listeners: [\n`), `${FILE}: line 3, column 1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`);
    assert.match(errorOf(`${base}\tfoo: 1\n`), /^\/etc\/axon\/homeserver\.yaml: line 2, column 1: invalid YAML: Tabs are not allowed as indentation$/);
  });

  test('an empty file or a non-mapping top level', () => {
    assert.match(errorOf('# nothing\n'), /: the file is empty; it needs at least server_name/);
    assert.equal(errorOf('- a\n'), `${FILE}: the top level must be a mapping of keys to values, got a list`);
  });

  test('a missing file is one line naming it', () => {
    assert.throws(
      () => loadConfig('/nonexistent/axon/homeserver.yaml'),
      (err: Error) => err instanceof ConfigError && /^Axon \(running as user '.+'\) cannot read the configuration file \/nonexistent\/axon\/homeserver\.yaml: it does not exist$/.test(err.message),
    );
  });
});

describe('log_config', () => {
  /** Loads a homeserver.yaml beside a Synapse logging config with `logYaml` (undefined: no such file). */
  function withLogConfig(logYaml: string | undefined, fn: (loadIt: () => HomeserverConfig, file: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'axon-logconfig-'));
    try {
      const file = join(dir, 'homeserver.yaml');
      writeFileSync(file, `${base}log_config: log.yaml\n`);
      if (logYaml !== undefined) writeFileSync(join(dir, 'log.yaml'), logYaml);
      fn(() => loadConfig(file, { warn: () => {} }), file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // Synapse's generated log config, as `synapse --generate-config` writes it.
  const synapseLogConfig = (rootLevel: string, extra = '') =>
    `version: 1\nformatters:\n  precise:\n    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'\n` +
    `handlers:\n  console:\n    class: logging.StreamHandler\n    formatter: precise\nloggers:\n  synapse.storage.SQL:\n    level: INFO\n${extra}` +
    `root:\n  level: ${rootLevel}\n  handlers: [console]\ndisable_existing_loggers: false\n`;

  test('the root level of a Synapse logging config, resolved against the config directory', () => {
    withLogConfig(synapseLogConfig('WARNING'), (loadIt, file) => {
      const config = loadIt();
      assert.equal(config.logConfig, join(file, '..', 'log.yaml'));
      assert.equal(config.logLevel, 'warn');
    });
    withLogConfig(synapseLogConfig('DEBUG'), (loadIt) => assert.equal(loadIt().logLevel, 'debug'));
    withLogConfig(synapseLogConfig('CRITICAL'), (loadIt) => assert.equal(loadIt().logLevel, 'fatal'));
  });

  test('the synapse logger, which governs every Synapse logger, wins over root', () => {
    withLogConfig(synapseLogConfig('INFO', '  synapse:\n    level: ERROR\n'), (loadIt) => assert.equal(loadIt().logLevel, 'error'));
  });

  test('a config that sets no level means INFO', () => {
    withLogConfig('version: 1\nhandlers: {}\n', (loadIt) => assert.equal(loadIt().logLevel, 'info'));
  });

  test('a missing file, bad YAML or an unknown level is one line naming log_config, the file and the fix', () => {
    withLogConfig(undefined, (loadIt, file) => {
      const logFile = join(file, '..', 'log.yaml');
      assert.throws(loadIt, (err: Error) => err instanceof ConfigError && err.message === `${file}: log_config: Axon (running as user '${userInfo().username}') cannot read the logging configuration ${logFile}: it does not exist`);
    });
    withLogConfig('root: [level\n', (loadIt, file) => {
      assert.throws(loadIt, (err: Error) => err instanceof ConfigError && err.message.startsWith(`${file}: log_config: ${join(file, '..', 'log.yaml')}: invalid YAML:`) && !err.message.includes('\n'));
    });
    withLogConfig(synapseLogConfig('LOUD'), (loadIt, file) => {
      assert.throws(loadIt, (err: Error) => err instanceof ConfigError && err.message === `${file}: log_config: ${join(file, '..', 'log.yaml')}: root.level: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got "LOUD"`);
    });
  });
});

describe('enable_metrics', () => {
  test('is read as a boolean, off by default, and a metrics listener is accepted', () => {
    const { config, warnings } = load(`${base}enable_metrics: true\nlisteners:\n  - port: 9000\n    type: metrics\n    bind_addresses: ['127.0.0.1']\n`);
    assert.deepEqual(warnings, []);
    assert.equal(config.enableMetrics, true);
    assert.equal(config.listeners[0]?.type, 'metrics');
    assert.equal(errorOf(`${base}enable_metrics: maybe\n`), `${FILE}: enable_metrics: must be true or false, got "maybe"`);
  });
});
