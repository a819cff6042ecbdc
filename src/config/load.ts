// homeserver.yaml → HomeserverConfig. Keys, meanings and defaults are
// Synapse's (its "Configuration Manual"), so a Synapse operator's file works
// as written; where Axon chooses differently the comment says why. Every
// problem is a ConfigError with one line naming the file, the key path and
// what is wrong; keys Axon does not act on are reported through `warn`.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, parseDocument, type Document } from 'yaml';
import { tryDecodeBase64 } from '../core/base64.js';
import { isCommonNamespacedIdentifier, isValidUserId, parseServerName } from '../core/identifiers.js';
import { ROOM_VERSIONS } from '../core/room-versions.js';
import type { DatabaseTarget } from '../storage/open.js';
import { describeFsError } from './access.js';
import { CaFileError, readPemCertificates } from './ca-files.js';
import { ConfigError, describeValue } from './errors.js';
import { readLogLevel } from './log-config.js';
import { SILENT_SYNAPSE_KEYS, UNSUPPORTED_SYNAPSE_KEYS } from './keys.js';
import type {
  FederationHost,
  HomeserverConfig,
  ListenerConfig,
  ListenerResource,
  LoginViaExistingSessionConfig,
  PresenceConfig,
  RateLimit,
  RateLimits,
  SupportConfig,
  SupportContact,
  ThumbnailSize,
  TokenLifetimes,
  TrustedKeyServer,
  TurnConfig,
  UserDirectoryConfig,
} from './types.js';
import {
  ConfigSource,
  isMapping,
  isUnset,
  readBoolean,
  readCidr,
  readInteger,
  readList,
  readMapping,
  readNonNegativeNumber,
  readOptionalPath,
  readOptionalString,
  readPath,
  readServerName,
  readSize,
  readString,
  type Mapping,
  type Warn,
} from './values.js';

export { ConfigError } from './errors.js';

export interface LoadOptions {
  /** Receives one line per ignored key or tolerated mistake. Default: stderr. */
  warn?: Warn;
  /** Used for listeners without bind_addresses. Default: see defaultBindAddresses(). */
  defaultBindAddresses?: string[];
}

/** Reads and validates a homeserver.yaml. Throws ConfigError for anything wrong with it. */
export function loadConfig(path: string, options: LoadOptions = {}): HomeserverConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(describeFsError(file, err as NodeJS.ErrnoException, 'read', 'configuration file'));
  }
  return parseConfig(text, file, options);
}

/** Validates the text of a homeserver.yaml; `file` names it in messages and anchors relative paths. */
export function parseConfig(text: string, file: string, options: LoadOptions = {}): HomeserverConfig {
  const warn = options.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const src = new ConfigSource(file, dirname(file), warn);
  const root = parseYaml(text, src);
  return buildConfig(root, src, options.defaultBindAddresses ?? defaultBindAddresses());
}

// ------------------------------------------------------------------ YAML

/**
 * Top-level keys written as `key:value`. YAML needs a space after the colon,
 * so PyYAML (and Synapse) reject such a line; the seed's own write-up adds
 * `enable_registration:true` this way. For keys we recognise, the intent is
 * unambiguous, so we read them as meant and say so.
 */
const MISSING_SPACE = /^([a-z_][a-z0-9_]*):(\S.*)$/;

function repairMissingSpaces(text: string, src: ConfigSource): string {
  return text
    .split('\n')
    .map((line, index) => {
      const match = MISSING_SPACE.exec(line.replace(/\r$/, ''));
      if (match === null || !isRecognisedKey(match[1]!)) return line;
      const fixed = `${match[1]}: ${match[2]}`;
      src.warnAbout(`line ${index + 1}: read '${line.trim()}' as '${fixed.trim()}' (YAML needs a space after ':'; Synapse rejects this line)`);
      return fixed;
    })
    .join('\n');
}

function parseYaml(text: string, src: ConfigSource): Mapping {
  const lineCounter = new LineCounter();
  // YAML 1.1 is what PyYAML speaks, so `yes`/`no`/`on`/`off` mean what they do for Synapse.
  const doc = parseDocument(repairMissingSpaces(text, src), { version: '1.1', uniqueKeys: false, lineCounter });
  const error = doc.errors[0];
  if (error !== undefined) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ConfigError(`${src.file}: line ${line}, column ${col}: invalid YAML: ${yamlReason(error.message)}`);
  }
  warnAboutDuplicateKeys(doc, lineCounter, src);
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (isUnset(value)) {
    throw new ConfigError(`${src.file}: the file is empty; it needs at least server_name (see: axon generate-config --help)`);
  }
  if (!isMapping(value)) {
    throw new ConfigError(`${src.file}: the top level must be a mapping of keys to values, got ${describeValue(value)}`);
  }
  return value;
}

/** The parser's reason without the position it appends (we give ours) or its multi-line excerpt. */
function yamlReason(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** PyYAML keeps the last of repeated keys; we do too, but a repeat is usually a paste gone wrong. */
function warnAboutDuplicateKeys(doc: Document, lineCounter: LineCounter, src: ConfigSource): void {
  if (!isMap(doc.contents)) return;
  const lines = new Map<string, number[]>();
  for (const pair of doc.contents.items) {
    const key = pair.key as { value?: unknown; range?: [number, number, number] } | null;
    if (key === null || typeof key.value !== 'string' || key.range === undefined) continue;
    const seen = lines.get(key.value) ?? [];
    seen.push(lineCounter.linePos(key.range[0]).line);
    lines.set(key.value, seen);
  }
  for (const [key, at] of lines) {
    if (at.length > 1) src.warnAbout(`'${key}' is set ${at.length} times (lines ${at.join(', ')}); only the last one counts`);
  }
}

// ------------------------------------------------------------ top level

const AXON_KEYS: ReadonlySet<string> = new Set([
  'server_name',
  'public_baseurl',
  'listeners',
  'database',
  'signing_key_path',
  'enable_registration',
  'registration_requires_token',
  'enable_registration_without_verification',
  'registration_shared_secret',
  'registration_shared_secret_path',
  'allow_guest_access',
  'tls_certificate_path',
  'tls_private_key_path',
  'federation_domain_whitelist',
  'ip_range_blacklist',
  'federation_ip_range_blacklist',
  'ip_range_whitelist',
  'federation_verify_certificates',
  'federation_certificate_verification_whitelist',
  'federation_custom_ca_list',
  'federation_hosts',
  'trusted_key_servers',
  'suppress_key_server_warning',
  'media_store_path',
  'max_upload_size',
  'url_preview_enabled',
  'url_preview_ip_range_blacklist',
  'url_preview_ip_range_whitelist',
  'max_spider_size',
  'max_image_pixels',
  'dynamic_thumbnails',
  'thumbnail_sizes',
  'serve_server_wellknown',
  'log_config',
  'enable_metrics',
  'default_room_version',
  'presence',
  'turn_uris',
  'turn_shared_secret',
  'turn_shared_secret_path',
  'turn_user_lifetime',
  'turn_username',
  'turn_password',
  'turn_allow_guests',
  'allow_public_rooms_without_auth',
  'allow_per_room_profiles',
  'use_insecure_ssl_client_just_for_testing_do_not_use',
  'allow_public_rooms_over_federation',
  'allow_device_name_lookup_over_federation',
  'user_directory',
  'admin_contact',
  'support',
  'refreshable_access_token_lifetime',
  'refresh_token_lifetime',
  'nonrefreshable_access_token_lifetime',
  'login_via_existing_session',
]);

function isRecognisedKey(key: string): boolean {
  return AXON_KEYS.has(key) || key.startsWith('rc_') || SILENT_SYNAPSE_KEYS.has(key) || UNSUPPORTED_SYNAPSE_KEYS.has(key);
}

function buildConfig(root: Mapping, src: ConfigSource, bindDefault: string[]): HomeserverConfig {
  warnAboutIgnoredKeys(root, src);
  if (isUnset(root['server_name'])) {
    // Debian's Synapse package keeps server_name in conf.d/server_name.yaml, not in homeserver.yaml.
    src.fail('server_name', 'is required (the name in your user IDs, e.g. example.org; Debian-packaged Synapse keeps it in conf.d/server_name.yaml — copy it here)');
  }
  const serverName = readServerName(src, 'server_name', root['server_name']);
  const listeners = readListeners(src, root['listeners'], bindDefault);
  const tls = readTlsFiles(src, root, listeners);
  const federationVerifyCertificates = readBoolean(src, 'federation_verify_certificates', root['federation_verify_certificates'], true);
  const ipRangeBlacklist = readIpRanges(src, 'ip_range_blacklist', root['ip_range_blacklist'], DEFAULT_IP_RANGE_BLACKLIST);
  return {
    configPath: src.file,
    serverName,
    publicBaseUrl: readPublicBaseUrl(src, root['public_baseurl'], serverName),
    listeners,
    database: readDatabase(src, root['database']),
    signingKeyPath: readOptionalPath(src, 'signing_key_path', root['signing_key_path']) ?? resolve(src.baseDir, `${serverName}.signing.key`),
    ...readRegistration(src, root),
    allowGuestAccess: readBoolean(src, 'allow_guest_access', root['allow_guest_access'], false),
    ...tls,
    federationDomainWhitelist: readDomainWhitelist(src, root['federation_domain_whitelist']),
    ipRangeBlacklist,
    federationIpRangeBlacklist: readFederationIpRangeBlacklist(src, root, ipRangeBlacklist),
    ipRangeWhitelist: readIpRanges(src, 'ip_range_whitelist', root['ip_range_whitelist'], []),
    federationVerifyCertificates,
    federationCertificateVerificationWhitelist: readCertificateWhitelist(src, root['federation_certificate_verification_whitelist']),
    federationCustomCaList: readCaList(src, root['federation_custom_ca_list']),
    federationHosts: readFederationHosts(src, root['federation_hosts']),
    trustedKeyServers: readTrustedKeyServers(src, root, federationVerifyCertificates),
    suppressKeyServerWarning: readBoolean(src, 'suppress_key_server_warning', root['suppress_key_server_warning'], false),
    mediaStorePath: readOptionalPath(src, 'media_store_path', root['media_store_path']) ?? resolve(src.baseDir, 'media_store'),
    maxUploadSize: isUnset(root['max_upload_size']) ? 50 * 1024 * 1024 : readSize(src, 'max_upload_size', root['max_upload_size']),
    ...readMediaOptions(src, root),
    serveServerWellknown: readBoolean(src, 'serve_server_wellknown', root['serve_server_wellknown'], false),
    rateLimits: readRateLimits(src, root),
    ...readLogging(src, root),
    enableMetrics: readBoolean(src, 'enable_metrics', root['enable_metrics'], false),
    defaultRoomVersion: readRoomVersion(src, root['default_room_version']),
    presence: readPresence(src, root['presence']),
    turn: readTurn(src, root),
    allowPublicRoomsWithoutAuth: readBoolean(src, 'allow_public_rooms_without_auth', root['allow_public_rooms_without_auth'], false),
    allowPerRoomProfiles: readBoolean(src, 'allow_per_room_profiles', root['allow_per_room_profiles'], true),
    insecureClientTls: readBoolean(src, 'use_insecure_ssl_client_just_for_testing_do_not_use', root['use_insecure_ssl_client_just_for_testing_do_not_use'], false),
    allowPublicRoomsOverFederation: readBoolean(src, 'allow_public_rooms_over_federation', root['allow_public_rooms_over_federation'], false),
    allowDeviceNameLookupOverFederation: readBoolean(
      src,
      'allow_device_name_lookup_over_federation',
      root['allow_device_name_lookup_over_federation'],
      false,
    ),
    userDirectory: readUserDirectory(src, root['user_directory']),
    support: readSupport(src, root),
    tokenLifetimes: readTokenLifetimes(src, root),
    loginViaExistingSession: readLoginViaExistingSession(src, root['login_via_existing_session']),
  };
}

/** Synapse's defaults for the token lifetimes that are optional in HomeserverConfig. */
export const TOKEN_LIFETIME_DEFAULTS: TokenLifetimes = { refreshableAccessToken: 5 * 60_000, refreshToken: null, nonrefreshableAccessToken: null };

/** Synapse's defaults for login_via_existing_session. */
export const LOGIN_VIA_EXISTING_SESSION_DEFAULTS: LoginViaExistingSessionConfig = { enabled: false, requireUiAuth: true, tokenTimeoutMs: 5 * 60_000 };

/**
 * A lifetime key that may be set to null: as Synapse reads them, a missing
 * key takes its default, while an explicit null (or ~) means "none".
 */
function readLifetime(src: ConfigSource, root: Mapping, key: string, fallback: number | null): number | null {
  if (!(key in root)) return fallback;
  return isUnset(root[key]) ? null : readDuration(src, key, root[key]);
}

function readTokenLifetimes(src: ConfigSource, root: Mapping): TokenLifetimes {
  return {
    refreshableAccessToken: readLifetime(src, root, 'refreshable_access_token_lifetime', TOKEN_LIFETIME_DEFAULTS.refreshableAccessToken),
    refreshToken: readLifetime(src, root, 'refresh_token_lifetime', TOKEN_LIFETIME_DEFAULTS.refreshToken),
    nonrefreshableAccessToken: readLifetime(src, root, 'nonrefreshable_access_token_lifetime', TOKEN_LIFETIME_DEFAULTS.nonrefreshableAccessToken),
  };
}

function readLoginViaExistingSession(src: ConfigSource, value: unknown): LoginViaExistingSessionConfig {
  const defaults = LOGIN_VIA_EXISTING_SESSION_DEFAULTS;
  if (isUnset(value)) return { ...defaults };
  const section = readMapping(src, 'login_via_existing_session', value);
  warnAboutUnknownSubkeys(src, 'login_via_existing_session', section, ['enabled', 'require_ui_auth', 'token_timeout']);
  return {
    enabled: readBoolean(src, 'login_via_existing_session.enabled', section['enabled'], defaults.enabled),
    requireUiAuth: readBoolean(src, 'login_via_existing_session.require_ui_auth', section['require_ui_auth'], defaults.requireUiAuth),
    tokenTimeoutMs: isUnset(section['token_timeout'])
      ? defaults.tokenTimeoutMs
      : readDuration(src, 'login_via_existing_session.token_timeout', section['token_timeout']),
  };
}

/**
 * GET /.well-known/matrix/support (support.yaml) from the `support` block —
 * the spec's `contacts` and `support_page` — and Synapse's `admin_contact`
 * (a mailto: address, a Matrix user ID or a web page), which adds an
 * m.role.admin contact (or the page). Undefined when neither is set.
 */
function readSupport(src: ConfigSource, root: Mapping): SupportConfig | undefined {
  const section = isUnset(root['support']) ? {} : readMapping(src, 'support', root['support']);
  warnAboutUnknownSubkeys(src, 'support', section, ['contacts', 'support_page']);
  const contacts = isUnset(section['contacts'])
    ? []
    : readList(src, 'support.contacts', section['contacts']).map((v, i) => readSupportContact(src, `support.contacts[${i}]`, v));
  let supportPage = isUnset(section['support_page']) ? undefined : readWebUrl(src, 'support.support_page', section['support_page']);
  if (!isUnset(root['admin_contact'])) {
    const contact = readString(src, 'admin_contact', root['admin_contact']);
    if (/^https?:\/\//i.test(contact)) supportPage ??= readWebUrl(src, 'admin_contact', contact);
    else contacts.push(adminContact(src, contact));
  }
  if (contacts.length === 0 && supportPage === undefined) {
    if (!isUnset(root['support'])) src.fail('support', 'needs contacts (a non-empty list) or support_page');
    return undefined;
  }
  return { contacts, ...(supportPage !== undefined ? { supportPage } : {}) };
}

function readSupportContact(src: ConfigSource, keyPath: string, value: unknown): SupportContact {
  const entry = readMapping(src, keyPath, value);
  warnAboutUnknownSubkeys(src, keyPath, entry, ['matrix_id', 'email_address', 'role']);
  if (isUnset(entry['role'])) src.fail(`${keyPath}.role`, 'is required: m.role.admin, m.role.security or a namespaced role such as org.example.role');
  const role = readString(src, `${keyPath}.role`, entry['role']);
  if (!isCommonNamespacedIdentifier(role)) src.fail(`${keyPath}.role`, `must be m.role.admin, m.role.security or a namespaced role such as org.example.role, got ${describeValue(role)}`);
  if (isUnset(entry['matrix_id']) && isUnset(entry['email_address'])) src.fail(keyPath, 'needs matrix_id or email_address (or both)');
  const contact: SupportContact = { role };
  if (!isUnset(entry['matrix_id'])) contact.matrixId = readMatrixId(src, `${keyPath}.matrix_id`, entry['matrix_id']);
  if (!isUnset(entry['email_address'])) contact.emailAddress = readEmailAddress(src, `${keyPath}.email_address`, entry['email_address']);
  return contact;
}

/** Synapse's admin_contact as a contact: `mailto:address` or a Matrix user ID. */
function adminContact(src: ConfigSource, value: string): SupportContact {
  if (/^mailto:/i.test(value)) return { role: 'm.role.admin', emailAddress: readEmailAddress(src, 'admin_contact', value.slice('mailto:'.length)) };
  if (value.startsWith('@')) return { role: 'm.role.admin', matrixId: readMatrixId(src, 'admin_contact', value) };
  src.fail('admin_contact', `must be a mailto: address, a Matrix user ID or an https:// page, got ${describeValue(value)}`);
}

function readMatrixId(src: ConfigSource, keyPath: string, value: unknown): string {
  const id = readString(src, keyPath, value);
  if (!isValidUserId(id)) src.fail(keyPath, `must be a Matrix user ID such as @admin:example.org, got ${describeValue(id)}`);
  return id;
}

function readEmailAddress(src: ConfigSource, keyPath: string, value: unknown): string {
  const address = readString(src, keyPath, value);
  if (!/^[^@\s]+@[^@\s]+$/.test(address)) src.fail(keyPath, `must be an email address such as admin@example.org, got ${describeValue(address)}`);
  return address;
}

function readWebUrl(src: ConfigSource, keyPath: string, value: unknown): string {
  const text = readString(src, keyPath, value);
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') src.fail(keyPath, `must be an http:// or https:// URL, got ${describeValue(value)}`);
  return text;
}

/** Synapse's user_directory section. */
function readUserDirectory(src: ConfigSource, value: unknown): UserDirectoryConfig {
  if (isUnset(value)) return { enabled: true, searchAllUsers: false, preferLocalUsers: false };
  const section = readMapping(src, 'user_directory', value);
  warnAboutUnknownSubkeys(src, 'user_directory', section, ['enabled', 'search_all_users', 'prefer_local_users']);
  return {
    enabled: readBoolean(src, 'user_directory.enabled', section['enabled'], true),
    searchAllUsers: readBoolean(src, 'user_directory.search_all_users', section['search_all_users'], false),
    preferLocalUsers: readBoolean(src, 'user_directory.prefer_local_users', section['prefer_local_users'], false),
  };
}

/** Synapse's turn_* keys (its "TURN" configuration section). */
function readTurn(src: ConfigSource, root: Mapping): TurnConfig {
  const uris = isUnset(root['turn_uris'])
    ? []
    : readList(src, 'turn_uris', root['turn_uris']).map((uri, i) => readString(src, `turn_uris[${i}]`, uri));
  if (!isUnset(root['turn_shared_secret']) && !isUnset(root['turn_shared_secret_path'])) {
    src.fail('turn_shared_secret_path', 'cannot be used together with turn_shared_secret; keep one of them');
  }
  const secretPath = readOptionalPath(src, 'turn_shared_secret_path', root['turn_shared_secret_path']);
  const sharedSecret = secretPath !== undefined ? readSecretFile(src, 'turn_shared_secret_path', secretPath) : readOptionalString(src, 'turn_shared_secret', root['turn_shared_secret']);
  const username = readOptionalString(src, 'turn_username', root['turn_username']);
  const password = readOptionalString(src, 'turn_password', root['turn_password']);
  return {
    uris,
    userLifetimeMs: isUnset(root['turn_user_lifetime']) ? 60 * 60 * 1000 : readDuration(src, 'turn_user_lifetime', root['turn_user_lifetime']),
    allowGuests: readBoolean(src, 'turn_allow_guests', root['turn_allow_guests'], true),
    ...(sharedSecret !== undefined ? { sharedSecret } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

function readSecretFile(src: ConfigSource, key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    src.fail(key, `cannot read ${path}: ${(err as Error).message}`);
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Synapse's durations: a number of milliseconds, or a number with a unit ("30s", "5m", "1h", "2d", "1w", "1y"). */
function readDuration(src: ConfigSource, key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const match = typeof value === 'string' ? /^(\d+)\s*(ms|s|m|h|d|w|y)?$/.exec(value.trim()) : null;
  if (!match) src.fail(key, `must be a duration such as "30s", "5m", "1h" or "2d", or a number of milliseconds; got ${describeValue(value)}`);
  return Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!;
}

/** Synapse's `presence: {enabled: true}`; only `enabled` is read. */
function readPresence(src: ConfigSource, value: unknown): PresenceConfig {
  if (isUnset(value)) return { enabled: true };
  const section = readMapping(src, 'presence', value);
  warnAboutUnknownSubkeys(src, 'presence', section, ['enabled']);
  return { enabled: readBoolean(src, 'presence.enabled', section['enabled'], true) };
}

function warnAboutIgnoredKeys(root: Mapping, src: ConfigSource): void {
  for (const key of Object.keys(root)) {
    if (AXON_KEYS.has(key) || key.startsWith('rc_') || SILENT_SYNAPSE_KEYS.has(key)) continue;
    if (UNSUPPORTED_SYNAPSE_KEYS.has(key)) {
      src.warnAbout(`ignoring unknown key '${key}' (a Synapse option Axon does not implement)`);
      continue;
    }
    const guess = closestKnownKey(key);
    src.warnAbout(`ignoring unknown key '${key}'${guess === undefined ? '' : ` (did you mean '${guess}'?)`}`);
  }
}

/** A likely intended key for a typo: within two edits of one Axon reads. */
function closestKnownKey(key: string): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const known of AXON_KEYS) {
    const distance = editDistance(key, known);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: known, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function warnAboutUnknownSubkeys(src: ConfigSource, keyPath: string, value: Mapping, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) src.warnAbout(`ignoring unknown key '${keyPath}.${key}'`);
  }
}

function readPublicBaseUrl(src: ConfigSource, value: unknown, serverName: string): string {
  // Synapse's default. Behind no reverse proxy this is often wrong, which is
  // why `axon generate-config` always writes the value out explicitly.
  if (isUnset(value)) return `https://${serverName}/`;
  const text = readString(src, 'public_baseurl', value);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    src.fail('public_baseurl', `must be an http:// or https:// URL, got ${describeValue(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    src.fail('public_baseurl', `must be an http:// or https:// URL, got ${describeValue(value)}`);
  }
  // Synapse appends the slash too: clients join paths onto it.
  return text.endsWith('/') ? text : `${text}/`;
}

function readRoomVersion(src: ConfigSource, value: unknown): string {
  if (isUnset(value)) return '12';
  // `default_room_version: 10` is a YAML number; Synapse str()s it.
  const id = typeof value === 'number' ? String(value) : value;
  if (typeof id !== 'string' || !ROOM_VERSIONS.has(id)) {
    src.fail('default_room_version', `must be one of the room versions ${[...ROOM_VERSIONS.keys()].join(', ')}, got ${describeValue(value)}`);
  }
  return id;
}

// ------------------------------------------------------------ listeners

const RESOURCE_NAMES: readonly ListenerResource[] = [
  'client', 'federation', 'keys', 'media', 'static', 'health', 'metrics', 'openid', 'consent', 'replication',
];
const LISTENER_TYPES = ['http', 'metrics', 'manhole'];
const LISTENER_KEYS = ['port', 'bind_addresses', 'bind_address', 'tls', 'type', 'x_forwarded', 'resources'];

/**
 * Synapse listens on ['::', '0.0.0.0'] by default, which fails outright on a
 * host without IPv6 and, on Linux, fails on '0.0.0.0' after '::' already took
 * the port for both families. So: '::' alone where IPv6 exists (Linux serves
 * IPv4 on it too unless net.ipv6.bindv6only is set, then both), else '0.0.0.0'.
 */
export function defaultBindAddresses(): string[] {
  const hasIpv6 = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === 'IPv6'));
  if (!hasIpv6) return ['0.0.0.0'];
  let v6Only = false;
  try {
    v6Only = readFileSync('/proc/sys/net/ipv6/bindv6only', 'utf8').trim() === '1';
  } catch {
    // Not Linux: keep the dual-stack assumption.
  }
  return v6Only ? ['::', '0.0.0.0'] : ['::'];
}

function readListeners(src: ConfigSource, value: unknown, bindDefault: string[]): ListenerConfig[] {
  if (isUnset(value)) {
    // Synapse starts with no listener at all, which serves nobody. Axon's
    // default is the local-only listener `axon generate-config` writes.
    return [{ port: 8008, bindAddresses: ['127.0.0.1'], tls: false, type: 'http', xForwarded: false, resources: [{ names: ['client', 'federation'], compress: false }] }];
  }
  return readList(src, 'listeners', value).map((item, i) => readListener(src, `listeners[${i}]`, item, bindDefault));
}

function readListener(src: ConfigSource, keyPath: string, value: unknown, bindDefault: string[]): ListenerConfig {
  const listener = readMapping(src, keyPath, value);
  warnAboutUnknownSubkeys(src, keyPath, listener, LISTENER_KEYS);
  if (isUnset(listener['port'])) src.fail(`${keyPath}.port`, 'is required: the TCP port to listen on, e.g. 8008');
  const port = readInteger(src, `${keyPath}.port`, listener['port'], 1, 65535);
  const type = isUnset(listener['type']) ? 'http' : readString(src, `${keyPath}.type`, listener['type']);
  if (!LISTENER_TYPES.includes(type)) {
    src.fail(`${keyPath}.type`, `must be one of ${LISTENER_TYPES.join(', ')}, got ${describeValue(type)}`);
  }
  return {
    port,
    bindAddresses: readBindAddresses(src, keyPath, listener, bindDefault),
    tls: readBoolean(src, `${keyPath}.tls`, listener['tls'], false),
    type,
    xForwarded: readBoolean(src, `${keyPath}.x_forwarded`, listener['x_forwarded'], false),
    resources: isUnset(listener['resources'])
      ? []
      : readList(src, `${keyPath}.resources`, listener['resources']).map((r, j) => readResource(src, `${keyPath}.resources[${j}]`, r)),
  };
}

function readBindAddresses(src: ConfigSource, keyPath: string, listener: Mapping, bindDefault: string[]): string[] {
  // `bind_address` (one string) is Synapse's older spelling.
  if (isUnset(listener['bind_addresses']) && !isUnset(listener['bind_address'])) {
    return [readBindAddress(src, `${keyPath}.bind_address`, listener['bind_address'])];
  }
  if (isUnset(listener['bind_addresses'])) return [...bindDefault];
  const list = readList(src, `${keyPath}.bind_addresses`, listener['bind_addresses']);
  if (list.length === 0) src.fail(`${keyPath}.bind_addresses`, "must list at least one address, e.g. ['127.0.0.1']");
  return list.map((a, i) => readBindAddress(src, `${keyPath}.bind_addresses[${i}]`, a));
}

function readBindAddress(src: ConfigSource, keyPath: string, value: unknown): string {
  if (typeof value !== 'string' || isIP(value) === 0) {
    src.fail(keyPath, `must be an IP address such as '127.0.0.1', '0.0.0.0', '::1' or '::', got ${describeValue(value)}`);
  }
  return value;
}

function readResource(src: ConfigSource, keyPath: string, value: unknown): ListenerConfig['resources'][number] {
  const resource = readMapping(src, keyPath, value);
  warnAboutUnknownSubkeys(src, keyPath, resource, ['names', 'compress']);
  const names = readList(src, `${keyPath}.names`, resource['names']).map((name, i) => {
    if (!RESOURCE_NAMES.includes(name as ListenerResource)) {
      src.fail(`${keyPath}.names[${i}]`, `must be one of ${RESOURCE_NAMES.join(', ')}, got ${describeValue(name)}`);
    }
    return name as ListenerResource;
  });
  return { names, compress: readBoolean(src, `${keyPath}.compress`, resource['compress'], false) };
}

function readTlsFiles(
  src: ConfigSource,
  root: Mapping,
  listeners: ListenerConfig[],
): { tlsCertificatePath?: string; tlsPrivateKeyPath?: string } {
  const tlsCertificatePath = readOptionalPath(src, 'tls_certificate_path', root['tls_certificate_path']);
  const tlsPrivateKeyPath = readOptionalPath(src, 'tls_private_key_path', root['tls_private_key_path']);
  const tlsListener = listeners.findIndex((l) => l.tls);
  if (tlsListener !== -1) {
    const missing = tlsCertificatePath === undefined ? 'tls_certificate_path' : tlsPrivateKeyPath === undefined ? 'tls_private_key_path' : undefined;
    if (missing !== undefined) {
      src.fail(`listeners[${tlsListener}].tls`, `is true, so ${missing} must be set to a PEM file`);
    }
  }
  return { tlsCertificatePath, tlsPrivateKeyPath };
}

// -------------------------------------------------------------- database

const POSTGRES_ARGS = ['user', 'password', 'dbname', 'database', 'host', 'port', 'cp_min', 'cp_max'];
const DATABASE_KEYS = ['name', 'args', 'txn_limit', 'allow_unsafe_locale'];

function readDatabase(src: ConfigSource, value: unknown): DatabaseTarget {
  if (isUnset(value)) return { engine: 'sqlite', path: resolve(src.baseDir, 'homeserver.db') };
  const database = readMapping(src, 'database', value);
  warnAboutUnknownSubkeys(src, 'database', database, DATABASE_KEYS);
  const name = database['name'];
  const args = isUnset(database['args']) ? {} : readMapping(src, 'database.args', database['args']);
  if (name === 'sqlite3') return readSqlite(src, args);
  // psycopg2 is what Synapse configs say; the engine is PostgreSQL either way.
  if (name === 'psycopg2' || name === 'psycopg' || name === 'postgres' || name === 'postgresql') return readPostgres(src, args);
  src.fail('database.name', `must be sqlite3 or psycopg2 (PostgreSQL), got ${describeValue(name)}`);
}

function readSqlite(src: ConfigSource, args: Mapping): DatabaseTarget {
  // cp_min/cp_max often linger in SQLite configs and mean nothing there.
  warnAboutUnknownSubkeys(src, 'database.args', args, ['database', 'cp_min', 'cp_max']);
  if (isUnset(args['database'])) src.fail('database.args.database', 'is required for sqlite3: the path of the database file');
  if (args['database'] === ':memory:') return { engine: 'sqlite', path: ':memory:' };
  return { engine: 'sqlite', path: readPath(src, 'database.args.database', args['database']) };
}

function readPostgres(src: ConfigSource, args: Mapping): DatabaseTarget {
  warnAboutUnknownSubkeys(src, 'database.args', args, POSTGRES_ARGS);
  // psycopg2 takes both spellings of the database name.
  const dbKey = isUnset(args['dbname']) ? 'database' : 'dbname';
  if (isUnset(args[dbKey])) src.fail('database.args.dbname', 'is required for PostgreSQL: the name of the database');
  const poolMin = isUnset(args['cp_min']) ? 5 : readInteger(src, 'database.args.cp_min', args['cp_min'], 0, 1000);
  const poolMax = isUnset(args['cp_max']) ? Math.max(10, poolMin) : readInteger(src, 'database.args.cp_max', args['cp_max'], 1, 1000);
  if (poolMin > poolMax) src.fail('database.args.cp_min', `must not exceed cp_max (${poolMax}), got ${poolMin}`);
  return {
    engine: 'postgres',
    database: readString(src, `database.args.${dbKey}`, args[dbKey]),
    user: readOptionalString(src, 'database.args.user', args['user']),
    password: readPostgresPassword(src, args['password']),
    host: readOptionalString(src, 'database.args.host', args['host']),
    port: readPostgresPort(src, args['port']),
    poolMin,
    poolMax,
  };
}

/**
 * psycopg2 hands the password to libpq, which treats an empty one as none
 * (trust or peer authentication, or a password from PGPASSWORD or
 * ~/.pgpass), so Synapse configs may say `password: ""`: it is omitted.
 */
function readPostgresPassword(src: ConfigSource, value: unknown): string | undefined {
  if (value === '') return undefined;
  // A numeric password is still a password; psycopg2 str()s it.
  if (typeof value === 'number') return String(value);
  return readOptionalString(src, 'database.args.password', value);
}

function readPostgresPort(src: ConfigSource, value: unknown): number | undefined {
  if (isUnset(value)) return undefined;
  // libpq takes the port as a string, so "5432" is common and fine.
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return readInteger(src, 'database.args.port', port, 1, 65535);
}

// ---------------------------------------------------------- registration

function readRegistration(
  src: ConfigSource,
  root: Mapping,
): Pick<HomeserverConfig, 'enableRegistration' | 'registrationRequiresToken' | 'enableRegistrationWithoutVerification' | 'registrationSharedSecret'> {
  const enableRegistration = readBoolean(src, 'enable_registration', root['enable_registration'], false);
  const registrationRequiresToken = readBoolean(src, 'registration_requires_token', root['registration_requires_token'], false);
  const enableRegistrationWithoutVerification = readBoolean(
    src,
    'enable_registration_without_verification',
    root['enable_registration_without_verification'],
    false,
  );
  // Synapse refuses to start in this state; so do we. Axon has no email or
  // captcha verification, so a token is the only verification on offer.
  if (enableRegistration && !registrationRequiresToken && !enableRegistrationWithoutVerification) {
    src.fail(
      'enable_registration',
      'open registration without verification invites spam and abuse; set registration_requires_token: true, or accept the risk with enable_registration_without_verification: true',
    );
  }
  return {
    enableRegistration,
    registrationRequiresToken,
    enableRegistrationWithoutVerification,
    registrationSharedSecret: readSharedSecret(src, root),
  };
}

function readLogging(src: ConfigSource, root: Mapping): Pick<HomeserverConfig, 'logConfig' | 'logLevel'> {
  const logConfig = readOptionalPath(src, 'log_config', root['log_config']);
  return { logConfig, logLevel: readLogLevel(src, logConfig) };
}

function readSharedSecret(src: ConfigSource, root: Mapping): string | undefined {
  const inline = readOptionalString(src, 'registration_shared_secret', root['registration_shared_secret']);
  const path = readOptionalPath(src, 'registration_shared_secret_path', root['registration_shared_secret_path']);
  if (path === undefined) return inline;
  if (inline !== undefined) {
    src.fail('registration_shared_secret_path', 'cannot be set together with registration_shared_secret; keep one of them');
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const problem = describeFsError(path, err as NodeJS.ErrnoException, 'read', 'registration shared secret file');
    const create = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `; create it with: openssl rand -hex 32 > ${path}` : '';
    src.fail('registration_shared_secret_path', `${problem}${create}`);
  }
  const secret = text.trim();
  if (secret === '') src.fail('registration_shared_secret_path', `${path} is empty`);
  return secret;
}

// ------------------------------------------------------------ federation

/** Synapse's DEFAULT_IP_RANGE_BLACKLIST: loopback, private, link-local, shared, test and multicast ranges. */
export const DEFAULT_IP_RANGE_BLACKLIST: readonly string[] = [
  '127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '192.0.0.0/24', '169.254.0.0/16',
  '192.88.99.0/24', '198.18.0.0/15', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4',
  '::1/128', 'fe80::/10', 'fc00::/7', '2001:db8::/32', 'ff00::/8', 'fec0::/10',
];

/** Synapse always adds the unspecified addresses, which reach the local host. */
const ALWAYS_BLOCKED = ['0.0.0.0/32', '::/128'];

function readIpRanges(src: ConfigSource, key: string, value: unknown, fallback: readonly string[]): string[] {
  const ranges = isUnset(value) ? [...fallback] : readList(src, key, value).map((v, i) => readCidr(src, `${key}[${i}]`, v));
  return key === 'ip_range_whitelist' ? ranges : withAlwaysBlocked(ranges);
}

function withAlwaysBlocked(ranges: string[]): string[] {
  return [...ranges, ...ALWAYS_BLOCKED.filter((r) => !ranges.includes(r))];
}

/**
 * Synapse's older key: when present (even as `[]`, as on the seed's LAN) it
 * replaces ip_range_blacklist for federation only; when absent federation
 * uses ip_range_blacklist.
 */
function readFederationIpRangeBlacklist(src: ConfigSource, root: Mapping, ipRangeBlacklist: string[]): string[] {
  if (!('federation_ip_range_blacklist' in root)) return ipRangeBlacklist;
  return readIpRanges(src, 'federation_ip_range_blacklist', root['federation_ip_range_blacklist'] ?? [], []);
}

function readDomainWhitelist(src: ConfigSource, value: unknown): string[] | undefined {
  if (isUnset(value)) return undefined;
  return readList(src, 'federation_domain_whitelist', value).map((v, i) => readServerName(src, `federation_domain_whitelist[${i}]`, v));
}

/** Each file must hold PEM certificates: a wrong path fails here, not at the first federation request. */
function readCaList(src: ConfigSource, value: unknown): string[] {
  const key = 'federation_custom_ca_list';
  if (isUnset(value)) return [];
  return readList(src, key, value).map((v, i) => {
    const path = readPath(src, `${key}[${i}]`, v);
    try {
      readPemCertificates(path);
    } catch (err) {
      if (err instanceof CaFileError) src.fail(`${key}[${i}]`, err.message);
      throw err;
    }
    return path;
  });
}

/** Globs matched against the host name a certificate is checked for (Synapse's glob_to_regex). */
function readCertificateWhitelist(src: ConfigSource, value: unknown): string[] {
  const key = 'federation_certificate_verification_whitelist';
  if (isUnset(value)) return [];
  return readList(src, key, value).map((v, i) => {
    const glob = readString(src, `${key}[${i}]`, v);
    if (!/^[\x21-\x7e]+$/.test(glob)) src.fail(`${key}[${i}]`, `must be a host name or a glob such as "*.lan", got ${describeValue(v)}`);
    return glob;
  });
}

/**
 * Axon's own key: `federation_hosts: {whatsapp3: "192.168.1.20:8448"}` sends
 * requests for a server name to that address, for networks where the name is
 * in no DNS. The port defaults to 8448, as in discovery.
 */
function readFederationHosts(src: ConfigSource, value: unknown): Record<string, FederationHost> {
  const key = 'federation_hosts';
  if (isUnset(value)) return {};
  const hosts: Record<string, FederationHost> = {};
  for (const [serverName, target] of Object.entries(readMapping(src, key, value))) {
    readServerName(src, `${key} key`, serverName);
    const text = typeof target === 'number' ? String(target) : readString(src, `${key}.${serverName}`, target);
    const parsed = parseServerName(text.trim());
    if (parsed === null) {
      src.fail(`${key}.${serverName}`, `must be host:port, e.g. "192.168.1.20:8448" or "hs.lan:8448" (IPv6 in brackets), got ${describeValue(target)}`);
    }
    hosts[serverName] = { host: parsed.host.replace(/^\[(.*)\]$/, '$1'), port: parsed.port ?? 8448 };
  }
  return hosts;
}

/**
 * Default: matrix.org, as Synapse. A LAN without internet should set
 * `trusted_key_servers: []` so keys are fetched from each server directly
 * (what `axon generate-config` writes) rather than waiting on a notary it
 * cannot reach.
 */
function readTrustedKeyServers(src: ConfigSource, root: Mapping, verifyCertificates: boolean): TrustedKeyServer[] {
  const value = root['trusted_key_servers'];
  const servers = isUnset(value)
    ? [{ serverName: 'matrix.org', acceptKeysInsecurely: false }]
    : readList(src, 'trusted_key_servers', value).map((v, i) => readTrustedKeyServer(src, `trusted_key_servers[${i}]`, v));
  if (!verifyCertificates) {
    servers.forEach((server, i) => {
      // As Synapse: without TLS verification, a notary's answers could be
      // forged in transit unless we can check its signature ourselves.
      if (server.acceptKeysInsecurely || server.verifyKeys !== undefined) return;
      src.fail(
        isUnset(value) ? 'trusted_key_servers' : `trusted_key_servers[${i}]`,
        `federation_verify_certificates is false, so keys from '${server.serverName}' could be forged in transit; give its verify_keys, set accept_keys_insecurely: true, or set trusted_key_servers: [] to fetch keys from each server directly`,
      );
    });
  }
  return servers;
}

function readTrustedKeyServer(src: ConfigSource, keyPath: string, value: unknown): TrustedKeyServer {
  const entry = readMapping(src, keyPath, value);
  warnAboutUnknownSubkeys(src, keyPath, entry, ['server_name', 'verify_keys', 'accept_keys_insecurely']);
  const server: TrustedKeyServer = {
    serverName: readServerName(src, `${keyPath}.server_name`, entry['server_name']),
    acceptKeysInsecurely: readBoolean(src, `${keyPath}.accept_keys_insecurely`, entry['accept_keys_insecurely'], false),
  };
  if (!isUnset(entry['verify_keys'])) {
    const keys = readMapping(src, `${keyPath}.verify_keys`, entry['verify_keys']);
    server.verifyKeys = {};
    for (const [keyId, key] of Object.entries(keys)) {
      server.verifyKeys[keyId] = readVerifyKey(src, `${keyPath}.verify_keys.${keyId}`, keyId, key);
    }
  }
  return server;
}

function readVerifyKey(src: ConfigSource, keyPath: string, keyId: string, value: unknown): string {
  if (!keyId.startsWith('ed25519:')) src.fail(keyPath, 'only ed25519 keys are supported; key IDs look like ed25519:auto');
  const bytes = typeof value === 'string' ? tryDecodeBase64(value) : null;
  if (bytes === null || bytes.length !== 32) {
    src.fail(keyPath, `must be a 32-byte ed25519 public key in unpadded base64, got ${describeValue(value)}`);
  }
  return value as string;
}

// ----------------------------------------------------------------- media

/** Synapse's defaults for the media repository options that are optional in HomeserverConfig. */
export const MEDIA_DEFAULTS = {
  urlPreviewEnabled: false,
  /**
   * Axon's choice, where Synapse refuses to start without the key: previews
   * fetch URLs any user names, so they never reach the server's own networks
   * (loopback, private, link-local, …) unless the operator says otherwise.
   */
  urlPreviewIpRangeBlacklist: withAlwaysBlocked([...DEFAULT_IP_RANGE_BLACKLIST]) as readonly string[],
  maxSpiderSize: 10 * 1024 * 1024,
  maxImagePixels: 32 * 1024 * 1024,
  dynamicThumbnails: false,
  thumbnailSizes: [
    { width: 32, height: 32, method: 'crop' },
    { width: 96, height: 96, method: 'crop' },
    { width: 320, height: 240, method: 'scale' },
    { width: 640, height: 480, method: 'scale' },
    { width: 800, height: 600, method: 'scale' },
  ] as readonly ThumbnailSize[],
} as const;

type MediaOptions = Required<
  Pick<HomeserverConfig, 'urlPreviewEnabled' | 'urlPreviewIpRangeBlacklist' | 'urlPreviewIpRangeWhitelist' | 'maxSpiderSize' | 'maxImagePixels' | 'dynamicThumbnails' | 'thumbnailSizes'>
>;

function readMediaOptions(src: ConfigSource, root: Mapping): MediaOptions {
  return {
    urlPreviewEnabled: readBoolean(src, 'url_preview_enabled', root['url_preview_enabled'], MEDIA_DEFAULTS.urlPreviewEnabled),
    urlPreviewIpRangeBlacklist: readIpRanges(src, 'url_preview_ip_range_blacklist', root['url_preview_ip_range_blacklist'], MEDIA_DEFAULTS.urlPreviewIpRangeBlacklist),
    urlPreviewIpRangeWhitelist: isUnset(root['url_preview_ip_range_whitelist'])
      ? []
      : readList(src, 'url_preview_ip_range_whitelist', root['url_preview_ip_range_whitelist']).map((v, i) => readCidr(src, `url_preview_ip_range_whitelist[${i}]`, v)),
    maxSpiderSize: isUnset(root['max_spider_size']) ? MEDIA_DEFAULTS.maxSpiderSize : readSize(src, 'max_spider_size', root['max_spider_size']),
    maxImagePixels: isUnset(root['max_image_pixels']) ? MEDIA_DEFAULTS.maxImagePixels : readSize(src, 'max_image_pixels', root['max_image_pixels']),
    dynamicThumbnails: readBoolean(src, 'dynamic_thumbnails', root['dynamic_thumbnails'], MEDIA_DEFAULTS.dynamicThumbnails),
    thumbnailSizes: isUnset(root['thumbnail_sizes'])
      ? [...MEDIA_DEFAULTS.thumbnailSizes]
      : readList(src, 'thumbnail_sizes', root['thumbnail_sizes']).map((v, i) => readThumbnailSize(src, `thumbnail_sizes[${i}]`, v)),
  };
}

function readThumbnailSize(src: ConfigSource, keyPath: string, value: unknown): ThumbnailSize {
  const entry = readMapping(src, keyPath, value);
  warnAboutUnknownSubkeys(src, keyPath, entry, ['width', 'height', 'method']);
  if (isUnset(entry['width']) || isUnset(entry['height'])) src.fail(keyPath, 'needs width and height, e.g. {width: 320, height: 240, method: scale}');
  const method = isUnset(entry['method']) ? 'scale' : readString(src, `${keyPath}.method`, entry['method']);
  if (method !== 'crop' && method !== 'scale') src.fail(`${keyPath}.method`, `must be crop or scale, got ${describeValue(method)}`);
  return {
    width: readInteger(src, `${keyPath}.width`, entry['width'], 1, 10000),
    height: readInteger(src, `${keyPath}.height`, entry['height'], 1, 10000),
    method,
  };
}

// ----------------------------------------------------------- rate limits

const RATE_LIMIT_DEFAULTS = {
  rc_message: { perSecond: 0.2, burstCount: 10 },
  rc_registration: { perSecond: 0.17, burstCount: 3 },
  address: { perSecond: 0.003, burstCount: 5 },
  account: { perSecond: 0.003, burstCount: 5 },
  failed_attempts: { perSecond: 0.17, burstCount: 3 },
  // Synapse's defaults: five, then one every 400 s.
  rc_third_party_invite: { perSecond: 0.0025, burstCount: 5 },
} satisfies Record<string, RateLimit>;

/** What Synapse's RatelimitSettings.parse falls back to for a bucket without its own defaults. */
const GENERIC_RATE_LIMIT: RateLimit = { perSecond: 0.17, burstCount: 3 };

/** rc_federation is a window/sleep scheme, not a token bucket; Axon accepts and does not use it. */
const NON_BUCKET_RATE_LIMITS = new Set(['rc_federation']);

function readRateLimits(src: ConfigSource, root: Mapping): RateLimits {
  const login = isUnset(root['rc_login']) ? {} : readMapping(src, 'rc_login', root['rc_login']);
  warnAboutUnknownSubkeys(src, 'rc_login', login, ['address', 'account', 'failed_attempts']);
  const other: Record<string, RateLimit> = {};
  for (const [key, value] of Object.entries(root)) {
    if (!key.startsWith('rc_') || key in RATE_LIMIT_DEFAULTS || key === 'rc_login' || NON_BUCKET_RATE_LIMITS.has(key)) continue;
    Object.assign(other, readOtherRateLimit(src, key, value));
  }
  return {
    message: readRateLimit(src, 'rc_message', root['rc_message'], RATE_LIMIT_DEFAULTS.rc_message),
    registration: readRateLimit(src, 'rc_registration', root['rc_registration'], RATE_LIMIT_DEFAULTS.rc_registration),
    login: {
      address: readRateLimit(src, 'rc_login.address', login['address'], RATE_LIMIT_DEFAULTS.address),
      account: readRateLimit(src, 'rc_login.account', login['account'], RATE_LIMIT_DEFAULTS.account),
      failedAttempts: readRateLimit(src, 'rc_login.failed_attempts', login['failed_attempts'], RATE_LIMIT_DEFAULTS.failed_attempts),
    },
    thirdPartyInvite: readRateLimit(src, 'rc_third_party_invite', root['rc_third_party_invite'], RATE_LIMIT_DEFAULTS.rc_third_party_invite),
    other,
  };
}

function readRateLimit(src: ConfigSource, keyPath: string, value: unknown, fallback: RateLimit): RateLimit {
  if (isUnset(value)) return { ...fallback };
  const limit = readMapping(src, keyPath, value);
  warnAboutUnknownSubkeys(src, keyPath, limit, ['per_second', 'burst_count']);
  return {
    perSecond: isUnset(limit['per_second']) ? fallback.perSecond : readNonNegativeNumber(src, `${keyPath}.per_second`, limit['per_second']),
    // Synapse int()s the burst count.
    burstCount: isUnset(limit['burst_count'])
      ? fallback.burstCount
      : Math.floor(readNonNegativeNumber(src, `${keyPath}.burst_count`, limit['burst_count'])),
  };
}

/** Other rc_* keys are either one bucket or, like rc_joins (local/remote), a mapping of named buckets. */
function readOtherRateLimit(src: ConfigSource, key: string, value: unknown): Record<string, RateLimit> {
  if (isUnset(value)) return {};
  const limit = readMapping(src, key, value);
  const isBucket = Object.keys(limit).some((k) => k === 'per_second' || k === 'burst_count');
  if (isBucket) return { [key]: readRateLimit(src, key, limit, GENERIC_RATE_LIMIT) };
  const buckets: Record<string, RateLimit> = {};
  for (const [name, bucket] of Object.entries(limit)) {
    buckets[`${key}.${name}`] = readRateLimit(src, `${key}.${name}`, bucket, GENERIC_RATE_LIMIT);
  }
  return buckets;
}
