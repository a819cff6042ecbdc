// Can Axon, as the OS user it runs as, read and write the files its
// configuration names? Checked at start so that a wrong owner is reported as
// one line with the fix, not as a crash later — the seed's Synapse install
// failed exactly so, on a signing key it could not write, until someone ran
// `chown -R matrix-synapse:matrix-synapse /etc/matrix-synapse`.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { HomeserverConfig } from './types.js';
import { ConfigError } from './errors.js';

export class FileAccessError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'FileAccessError';
  }
}

interface OsUser {
  user: string;
  group: string;
}

/** The OS user Axon runs as; tests pass another uid to see what a different user would be told. */
export interface RunningUser extends OsUser {
  uid: number;
}

export function osUser(): RunningUser {
  const info = userInfo();
  return { uid: info.uid, user: info.username, group: nameOf('/etc/group', info.gid) ?? info.username };
}

/**
 * node:os looks up neither groups nor other users; /etc/group and
 * /etc/passwd (`name:x:id:…`) are where they live on the systems Axon runs on.
 */
function nameOf(database: '/etc/group' | '/etc/passwd', id: number): string | undefined {
  try {
    const line = readFileSync(database, 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(id));
    return line?.split(':')[0];
  } catch {
    return undefined;
  }
}

function chownFix(path: string, recursive: boolean, who: OsUser): string {
  return `fix with: sudo chown ${recursive ? '-R ' : ''}${who.user}:${who.group} ${path}`;
}

/**
 * One line for an fs error on `path`: what Axon tried, as which user, why it
 * failed and what command fixes it.
 */
export function describeFsError(path: string, err: NodeJS.ErrnoException, action: 'read' | 'write', what: string): string {
  const who = osUser();
  const subject = `Axon (running as user '${who.user}') cannot ${action} the ${what} ${path}`;
  switch (err.code) {
    case 'ENOENT':
      return `${subject}: it does not exist`;
    case 'EACCES':
    case 'EPERM':
      return `${subject}: permission denied; ${chownFix(path, false, who)}`;
    case 'EISDIR':
      return `${subject}: it is a directory, not a file`;
    case 'ENOTDIR':
      return `${subject}: a part of the path is a file, not a directory`;
    case 'EROFS':
      return `${subject}: the file system is read-only`;
    default:
      return `${subject}: ${err.message}`;
  }
}

/**
 * Makes sure `dir` exists (creating it and its parents) and is writable.
 * The reported path is the one to fix: the file blocking the path, or the
 * nearest existing directory Axon may not write to.
 */
export function ensureWritableDirectory(dir: string, what: string): void {
  const who = osUser();
  const subject = `Axon (running as user '${who.user}') cannot write to the ${what} ${dir}`;
  const existing = nearestExisting(dir);
  if (!statSync(existing).isDirectory()) {
    throw new FileAccessError(`${subject}: ${existing} is a file, not a directory; move that file away or choose another path`);
  }
  if (!canWrite(existing)) {
    throw new FileAccessError(`${subject}: permission denied on ${existing}; ${chownFix(existing, true, who)}`);
  }
  if (existing !== dir) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new FileAccessError(`${subject}: creating it failed: ${(err as Error).message}`);
    }
  }
}

/** A file Axon must read (and, with `write`, also update in place). */
export function ensureReadableFile(path: string, what: string, write = false): void {
  try {
    accessSync(path, write ? constants.R_OK | constants.W_OK : constants.R_OK);
    if (statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    throw new FileAccessError(describeFsError(path, err as NodeJS.ErrnoException, write ? 'write' : 'read', what));
  }
}

function nearestExisting(path: string): string {
  let current = path;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

function canWrite(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Everything the server reads or writes on disk, checked before it starts.
 * The signing key is only required to be creatable: `axon start` makes one
 * when it is missing, as Synapse does.
 */
export function checkServerFiles(config: HomeserverConfig): void {
  ensureWritableDirectory(config.mediaStorePath, 'media store (media_store_path)');
  if (config.database.engine === 'sqlite' && config.database.path !== ':memory:') {
    // SQLite writes journal files beside the database, so its directory must be writable too.
    ensureWritableDirectory(dirname(config.database.path), 'directory of the SQLite database (database.args.database)');
    if (existsSync(config.database.path)) ensureReadableFile(config.database.path, 'SQLite database', true);
  }
  if (existsSync(config.signingKeyPath)) {
    ensureReadableFile(config.signingKeyPath, 'signing key (signing_key_path)');
  } else {
    ensureWritableDirectory(dirname(config.signingKeyPath), 'directory for the new signing key (signing_key_path)');
  }
  if (config.listeners.some((l) => l.tls)) {
    if (config.tlsCertificatePath !== undefined) ensureReadableFile(config.tlsCertificatePath, 'TLS certificate (tls_certificate_path)');
    if (config.tlsPrivateKeyPath !== undefined) ensureReadableFile(config.tlsPrivateKeyPath, 'TLS private key (tls_private_key_path)');
  }
  for (const ca of config.federationCustomCaList) ensureReadableFile(ca, 'CA certificate (federation_custom_ca_list)');
}

/**
 * Where Axon keeps its data (media, SQLite database, signing key), each an
 * existing directory or file whose owner is not the user Axon runs as: one
 * warning each, with the chown that fixes it. Permission to write is checked
 * by checkServerFiles; this catches what permission checks miss — root can
 * write anywhere, but what it creates in /var/lib/axon then belongs to root
 * and the next start as axon fails on it. A path inside a reported directory
 * is left out, since `chown -R` of the directory fixes it too.
 */
export function ownershipWarnings(config: HomeserverConfig, runningAs: RunningUser = osUser()): string[] {
  const foreign = dataPaths(config).filter(({ path }) => existsSync(path) && statSync(path).uid !== runningAs.uid);
  const dirs = foreign.filter((p) => p.directory).map((p) => p.path);
  return foreign
    .filter(({ path }) => !dirs.some((dir) => path !== dir && path.startsWith(`${dir}/`)))
    .map(({ path, what, directory }) => {
      const owner = statSync(path).uid;
      const ownerName = nameOf('/etc/passwd', owner);
      // Root taking over the service user's files is the likelier mistake than the files being wrong.
      const instead = runningAs.uid === 0 && ownerName !== undefined ? ` (or run Axon as '${ownerName}', as packaging/axon.service does)` : '';
      return (
        `the ${what} ${path} belongs to '${ownerName ?? `uid ${owner}`}', but Axon runs as '${runningAs.user}'; ` +
        `fix with: sudo chown ${directory ? '-R ' : ''}${runningAs.user}:${runningAs.group} ${path}${instead}`
      );
    });
}

interface DataPath {
  path: string;
  what: string;
  directory: boolean;
}

function dataPaths(config: HomeserverConfig): DataPath[] {
  const paths: DataPath[] = [{ path: config.mediaStorePath, what: 'media store (media_store_path)', directory: true }];
  // The key's directory matters only while the key is to be created: a key
  // kept beside a root-owned /etc/axon/homeserver.yaml is the usual layout.
  if (existsSync(config.signingKeyPath)) paths.push({ path: config.signingKeyPath, what: 'signing key (signing_key_path)', directory: false });
  else paths.push({ path: dirname(config.signingKeyPath), what: 'directory for the new signing key (signing_key_path)', directory: true });
  if (config.database.engine === 'sqlite' && config.database.path !== ':memory:') {
    const db = config.database.path;
    paths.push({ path: dirname(db), what: 'directory of the SQLite database (database.args.database)', directory: true });
    // SQLite's journal files are written beside the database and must be writable too.
    for (const file of [db, `${db}-wal`, `${db}-shm`]) paths.push({ path: file, what: 'SQLite database file', directory: false });
  }
  // One warning per path, however many roles it has.
  return paths.filter((p, i) => paths.findIndex((q) => q.path === p.path) === i);
}
