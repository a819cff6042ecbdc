// `axon doctor --config PATH`: the local server, checked as an operator
// would by hand — the config, the database, the signing key, the listeners,
// the TLS certificate, what /.well-known tells others, and the clock. The
// doctor only reads: it never migrates the database or writes a file.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect, isIP } from 'node:net';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import type { HomeserverConfig, ListenerConfig, ListenerResource } from '../../config/types.js';
import { parseServerName } from '../../core/identifiers.js';
import { parseSigningKeyFile } from '../../core/signing.js';
import type { DoctorCheck } from '../../federation/doctor.js';
import { delegatedServer } from '../../http/wellknown.js';
import type { Database } from '../../storage/database.js';
import { MIGRATIONS } from '../../storage/migrations/index.js';
import { PostgresDatabase } from '../../storage/postgres.js';
import { SqliteDatabase } from '../../storage/sqlite.js';
import { clientUrlFromConfig } from '../register-user.js';

/** A certificate expiring sooner than this is worth a warning. */
const EXPIRY_WARNING_MS = 30 * 24 * 60 * 60 * 1000;
/** Clock drift tolerated before we call the clock wrong (other servers allow a few minutes too). */
const CLOCK_TOLERANCE_MS = 60_000;
const CONNECT_TIMEOUT_MS = 2_000;

export interface LocalDoctorOptions {
  configPath: string;
  clock?: () => number;
}

export async function diagnoseLocal(opts: LocalDoctorOptions): Promise<DoctorCheck[]> {
  const clock = opts.clock ?? Date.now;
  const warnings: string[] = [];
  let config: HomeserverConfig;
  try {
    config = loadConfig(opts.configPath, { warn: (message) => warnings.push(message) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [{ step: 'config', status: 'problem', detail: err.message, fix: 'correct the key it names in homeserver.yaml' }];
  }
  const checks: DoctorCheck[] = [
    { step: 'config', status: 'ok', detail: `${config.configPath} is valid (server_name ${config.serverName})` },
    // Config warnings say what to change themselves.
    ...warnings.map((w): DoctorCheck => ({ step: 'config', status: 'warning', detail: w })),
  ];
  checks.push(...(await databaseChecks(config, clock)));
  checks.push(signingKeyCheck(config));
  for (const listener of config.listeners) checks.push(...(await listenerChecks(config, listener)));
  checks.push(...certificateChecks(config, clock));
  checks.push(...(await wellKnownChecks(config)));
  return checks;
}

async function databaseChecks(config: HomeserverConfig, clock: () => number): Promise<DoctorCheck[]> {
  const target = config.database;
  const where = target.engine === 'sqlite' ? target.path : `postgres ${target.user ?? ''}@${target.host ?? 'localhost'}:${target.port ?? 5432}/${target.database}`;
  if (target.engine === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
    return [{ step: 'database', status: 'warning', detail: `${where} does not exist yet`, fix: `axon start --config ${config.configPath} creates it` }];
  }
  let db: Database;
  try {
    db = target.engine === 'sqlite' ? new SqliteDatabase(target.path) : await connectPostgres(target);
  } catch (err) {
    return [{ step: 'database', status: 'problem', detail: `cannot open ${where}: ${(err as Error).message}`, fix: 'check database: in homeserver.yaml (host, port, user, password, database) and that the database server runs' }];
  }
  try {
    return [await migrationCheck(db, where), ...(await serverNameCheck(db, config)), await clockCheck(db, config, clock)];
  } finally {
    await db.close();
  }
}

async function connectPostgres(target: Extract<HomeserverConfig['database'], { engine: 'postgres' }>): Promise<Database> {
  const db = new PostgresDatabase({ ...target, poolMin: 0, poolMax: 1 });
  await db.connect();
  return db;
}

async function migrationCheck(db: Database, where: string): Promise<DoctorCheck> {
  let applied: Set<number>;
  try {
    applied = new Set((await db.query<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => Number(r.id)));
  } catch {
    return { step: 'database', status: 'warning', detail: `${where} is reachable but has no Axon schema yet`, fix: 'axon start creates the schema on its first start' };
  }
  const known = new Set(MIGRATIONS.map((m) => m.id));
  const newer = [...applied].filter((id) => !known.has(id));
  if (newer.length > 0) {
    return { step: 'database', status: 'problem', detail: `${where} has migrations this Axon does not know (${newer.join(', ')}): a newer Axon ran on it`, fix: 'run the newer Axon again, or restore a backup made before it ran' };
  }
  const pending = MIGRATIONS.filter((m) => !applied.has(m.id)).map((m) => `${m.id} ${m.name}`);
  if (pending.length > 0) {
    return { step: 'database', status: 'warning', detail: `${where} is reachable; ${pending.length} migration(s) not applied yet: ${pending.join(', ')}`, fix: 'they run at the next axon start; restart the server' };
  }
  return { step: 'database', status: 'ok', detail: `${where} is reachable and migrated (${applied.size} migrations)` };
}

/** The database serves one server name for life (server.ts's claimServerName). */
async function serverNameCheck(db: Database, config: HomeserverConfig): Promise<DoctorCheck[]> {
  const row = await db.queryOne<{ value: string }>("SELECT value FROM server_meta WHERE key = 'server_name'").catch(() => undefined);
  if (row === undefined || row.value === config.serverName) return [];
  return [
    {
      step: 'database',
      status: 'problem',
      detail: `the database belongs to server_name '${row.value}', but homeserver.yaml says '${config.serverName}'`,
      fix: `restore server_name: ${row.value}, or point database at a new database`,
    },
  ];
}

/** Events this server made are stamped with its clock: one from the future means the clock went back. */
async function clockCheck(db: Database, config: HomeserverConfig, clock: () => number): Promise<DoctorCheck> {
  const now = clock();
  const row = await db
    .queryOne<{ ts: number | null }>('SELECT MAX(origin_server_ts) AS ts FROM events WHERE sender LIKE ?', [`%:${config.serverName}`])
    .catch(() => undefined);
  const newest = row?.ts === null || row?.ts === undefined ? undefined : Number(row.ts);
  if (newest !== undefined && newest > now + CLOCK_TOLERANCE_MS) {
    return {
      step: 'clock',
      status: 'problem',
      detail: `this machine's clock says ${new Date(now).toISOString()}, but this server already made an event at ${new Date(newest).toISOString()}: the clock went back`,
      fix: 'set the clock right and keep it right (NTP, e.g. timedatectl set-ntp true); other servers reject signatures and keys from a wrong clock',
    };
  }
  return { step: 'clock', status: 'ok', detail: `${new Date(now).toISOString()}${newest === undefined ? '' : `; the newest local event is from ${new Date(newest).toISOString()}`}` };
}

function signingKeyCheck(config: HomeserverConfig): DoctorCheck {
  const path = config.signingKeyPath;
  const step = 'signing key';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { step, status: 'warning', detail: `${path} does not exist`, fix: 'axon start makes a new one; if this server had a key before, restore it from a backup instead (other servers know it)' };
    return { step, status: 'problem', detail: `cannot read ${path}: ${e.message}`, fix: `let the user Axon runs as read it: chown that user ${path}; chmod 600 ${path}` };
  }
  let keyIds: string[];
  try {
    keyIds = parseSigningKeyFile(text).map((k) => k.keyId);
  } catch (err) {
    return { step, status: 'problem', detail: `${path}: ${(err as Error).message}`, fix: 'restore the key file from a backup' };
  }
  if (keyIds.length === 0) return { step, status: 'problem', detail: `${path} holds no key`, fix: 'restore it from a backup, or delete it to make a new one' };
  const stat = statSync(path);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    return { step, status: 'warning', detail: `${path} is owned by uid ${stat.uid}, not by uid ${uid} that runs this check`, fix: `if Axon runs as uid ${uid}: chown ${uid} ${path}` };
  }
  if ((stat.mode & 0o077) !== 0) {
    return { step, status: 'problem', detail: `${path} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}): whoever reads it can speak as this server`, fix: `chmod 600 ${path}` };
  }
  return { step, status: 'ok', detail: `${path}: ${keyIds.join(', ')}, owner-only` };
}

async function listenerChecks(config: HomeserverConfig, listener: ListenerConfig): Promise<DoctorCheck[]> {
  const names = listener.resources.flatMap((r) => r.names).join(', ');
  const checks: DoctorCheck[] = [];
  for (const bind of listener.bindAddresses) {
    const address = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
    const where = `${bind.includes(':') ? `[${bind}]` : bind}:${listener.port}`;
    const step = `listener ${where} (${listener.tls ? 'TLS, ' : ''}${names})`;
    const error = await tryConnect(address, listener.port);
    checks.push(
      error === undefined
        ? { step, status: 'ok', detail: 'accepting connections' }
        : {
            step,
            status: 'problem',
            detail: `nothing accepts connections there (${error})`,
            fix: `start the server (axon start --config ${config.configPath}); if it runs, it could not bind this address: its log says why`,
          },
    );
  }
  return checks;
}

function tryConnect(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no answer within ${CONNECT_TIMEOUT_MS} ms`);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

function certificateChecks(config: HomeserverConfig, clock: () => number): DoctorCheck[] {
  if (!config.listeners.some((l) => l.tls)) return [];
  const step = 'TLS certificate';
  const path = config.tlsCertificatePath;
  if (path === undefined) return [{ step, status: 'problem', detail: 'a listener has tls: true, but tls_certificate_path is not set', fix: 'set tls_certificate_path and tls_private_key_path (a LAN CA: axon tls init-ca, axon tls issue)' }];
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(path));
  } catch (err) {
    return [{ step, status: 'problem', detail: `cannot read a certificate from ${path}: ${(err as Error).message}`, fix: 'point tls_certificate_path at a PEM certificate' }];
  }
  const host = parseServerName(config.serverName)!.host.replace(/^\[|\]$/g, '');
  const now = clock();
  const notAfter = Date.parse(cert.validTo);
  const notBefore = Date.parse(cert.validFrom);
  const reissue = `issue a new one: axon tls issue --ca CA_DIR --name ${config.serverName}`;
  const checks: DoctorCheck[] = [];
  if (notAfter < now) checks.push({ step, status: 'problem', detail: `${path} expired on ${cert.validTo}`, fix: reissue });
  else if (notBefore > now) checks.push({ step, status: 'problem', detail: `${path} is valid only from ${cert.validFrom}: this clock or the certificate's is wrong`, fix: 'check the clock (NTP)' });
  else if (notAfter - now < EXPIRY_WARNING_MS) checks.push({ step, status: 'warning', detail: `${path} expires on ${cert.validTo}`, fix: reissue });
  const named = isIP(host) === 0 ? cert.checkHost(host) !== undefined : cert.checkIP(host) !== undefined;
  if (!named) {
    checks.push({ step, status: 'problem', detail: `${path} is for ${cert.subjectAltName ?? cert.subject}, not for ${host} (server_name)`, fix: `other servers refuse it; ${reissue}` });
  }
  const keyProblem = privateKeyProblem(config, cert);
  if (keyProblem !== undefined) checks.push(keyProblem);
  if (checks.length === 0) checks.push({ step, status: 'ok', detail: `${path}: ${cert.subjectAltName ?? cert.subject}, valid until ${cert.validTo}, issued by ${cert.issuer.replace(/\n/g, ', ')}` });
  return checks;
}

function privateKeyProblem(config: HomeserverConfig, cert: X509Certificate): DoctorCheck | undefined {
  const path = config.tlsPrivateKeyPath;
  const step = 'TLS private key';
  if (path === undefined) return { step, status: 'problem', detail: 'tls_private_key_path is not set', fix: 'set tls_private_key_path to the key of the certificate' };
  try {
    if (!cert.checkPrivateKey(createPrivateKey(readFileSync(path)))) {
      return { step, status: 'problem', detail: `${path} is not the key of ${config.tlsCertificatePath}`, fix: 'point tls_private_key_path at the key issued with the certificate' };
    }
  } catch (err) {
    return { step, status: 'problem', detail: `cannot read a private key from ${path}: ${(err as Error).message}`, fix: 'point tls_private_key_path at a PEM private key' };
  }
  return undefined;
}

/** What /.well-known says, and where that was learnt. */
interface WellKnownAnswers {
  source: string;
  baseUrl: string;
  /** m.server, or null when /.well-known/matrix/server is not served. */
  delegated: string | null;
}

/**
 * The running server's own /.well-known answers, from a client listener;
 * when it does not answer, what the config makes it answer.
 */
async function wellKnownAnswers(config: HomeserverConfig): Promise<WellKnownAnswers> {
  const configured = {
    source: 'from the config (the server did not answer)',
    baseUrl: config.publicBaseUrl,
    delegated: config.serveServerWellknown ? delegatedServer(config.publicBaseUrl) : null,
  };
  const url = clientUrlFromConfig(config);
  if (url === undefined) return configured;
  try {
    const get = (path: string) => fetch(`${url}${path}`, { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) });
    const [client, server] = await Promise.all([get('/.well-known/matrix/client'), get('/.well-known/matrix/server')]);
    const baseUrl = ((await client.json()) as { 'm.homeserver'?: { base_url?: unknown } })['m.homeserver']?.base_url;
    const delegated = server.status === 200 ? ((await server.json()) as { 'm.server'?: unknown })['m.server'] : null;
    if (typeof baseUrl !== 'string' || (delegated !== null && typeof delegated !== 'string')) return configured;
    return { source: `as ${url} serves it`, baseUrl, delegated };
  } catch {
    return configured;
  }
}

/**
 * What /.well-known tells others, against the listeners: remote servers
 * connect with TLS to the delegated host:port (or server_name:8448), and
 * clients to the base URL. A reverse proxy may sit in between, so a
 * mismatch is a warning.
 */
async function wellKnownChecks(config: HomeserverConfig): Promise<DoctorCheck[]> {
  const serves = (resource: ListenerResource, tls: boolean, port: number): boolean =>
    config.listeners.some((l) => l.port === port && l.tls === tls && l.resources.some((r) => r.names.includes(resource)));
  const answers = await wellKnownAnswers(config);
  const checks: DoctorCheck[] = [];
  const base = new URL(answers.baseUrl);
  const basePort = Number(base.port || (base.protocol === 'https:' ? 443 : 80));
  checks.push(
    serves('client', base.protocol === 'https:', basePort)
      ? { step: '.well-known/matrix/client', status: 'ok', detail: `clients are sent to ${answers.baseUrl}, a client listener (${answers.source})` }
      : {
          step: '.well-known/matrix/client',
          status: 'warning',
          detail: `clients are sent to ${answers.baseUrl} (${answers.source}), but no ${base.protocol === 'https:' ? 'TLS ' : 'plain '}client listener is on port ${basePort}`,
          fix: "unless a reverse proxy there forwards to a client listener, set public_baseurl to a listener's URL",
        },
  );
  const target = parseServerName(answers.delegated ?? config.serverName)!;
  const step = answers.delegated === null ? 'federation endpoint (no .well-known/matrix/server)' : '.well-known/matrix/server';
  const port = target.port ?? 8448;
  const where = `${target.host}:${port}`;
  checks.push(
    serves('federation', true, port)
      ? { step, status: 'ok', detail: `other servers connect to ${where}, a TLS federation listener (${answers.source})` }
      : {
          step,
          status: 'warning',
          detail: `other servers connect to ${where} with TLS (${answers.source}), but no TLS federation listener is on port ${port}`,
          fix: `unless a reverse proxy there forwards federation, add a listener (port: ${port}, tls: true, resources: [{names: [federation]}])${answers.delegated !== null ? ' or change public_baseurl' : ', or delegate with serve_server_wellknown: true'}; peers on a LAN may instead map this server in their federation_hosts`,
        },
  );
  return checks;
}
