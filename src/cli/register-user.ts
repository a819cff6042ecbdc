// `axon register-user`: Synapse's register_new_matrix_user. Creates an
// account through the shared-secret registration admin API
// (POST /_synapse/admin/v1/register), which works while registration is
// closed and can create admins.
import { createHmac } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { loadConfig } from '../config/load.js';
import type { HomeserverConfig } from '../config/types.js';
import { CliError } from './errors.js';

export interface RegisterUserArgs {
  config?: string;
  user: string;
  password: string;
  admin?: boolean;
  url?: string;
}

const REGISTER_PATH = '/_synapse/admin/v1/register';

/**
 * The request's proof of the shared secret: HMAC-SHA1 keyed with it over
 * nonce, username, password and "admin"/"notadmin", NUL-separated, in hex.
 */
export function registrationMac(secret: string, nonce: string, username: string, password: string, admin: boolean): string {
  return createHmac('sha1', secret)
    .update([nonce, username, password, admin ? 'admin' : 'notadmin'].join('\0'))
    .digest('hex');
}

/**
 * The base URL of a client listener from the config. Bind addresses become
 * the address to dial: a wildcard means the loopback of its family, and an
 * explicit IPv4 loopback is preferred over "localhost", which may resolve to
 * ::1 while the server only listens on 127.0.0.1.
 */
export function clientUrlFromConfig(config: HomeserverConfig): string | undefined {
  const clients = config.listeners.filter((l) => l.type === 'http' && l.resources.some((r) => r.names.includes('client')));
  const listener = clients.find((l) => !l.tls) ?? clients[0];
  if (listener === undefined) return undefined;
  const addresses = listener.bindAddresses;
  const host = addresses.some((a) => a === '127.0.0.1' || a === '0.0.0.0')
    ? '127.0.0.1'
    : addresses.some((a) => a === '::1' || a === '::')
      ? '[::1]'
      : isIPv6(addresses[0]!)
        ? `[${addresses[0]}]`
        : addresses[0]!;
  return `${listener.tls ? 'https' : 'http'}://${host}:${listener.port}`;
}

export async function registerUserCommand(args: RegisterUserArgs): Promise<void> {
  const { url, secret } = target(args);
  const endpoint = `${url.replace(/\/+$/, '')}${REGISTER_PATH}`;
  const { nonce } = (await call(endpoint, { method: 'GET' }, args)) as { nonce?: unknown };
  if (typeof nonce !== 'string') throw new CliError(`${endpoint} did not return a nonce; is this a Matrix homeserver with the admin API?`);
  const body = {
    nonce,
    username: args.user,
    password: args.password,
    admin: args.admin ?? false,
    mac: registrationMac(secret, nonce, args.user, args.password, args.admin ?? false),
  };
  const result = (await call(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, args)) as {
    user_id?: unknown;
  };
  if (typeof result.user_id !== 'string') throw new CliError(`${endpoint} answered without a user_id`);
  process.stdout.write(`${result.user_id}\n`);
}

function target(args: RegisterUserArgs): { url: string; secret: string } {
  if (args.config === undefined) {
    throw new CliError('--config is required: the shared secret is read from registration_shared_secret in homeserver.yaml', 2);
  }
  const config = loadConfig(args.config, { warn: () => {} });
  if (config.registrationSharedSecret === undefined) {
    throw new CliError(
      `${config.configPath}: registration_shared_secret is not set; add one (e.g. the output of: openssl rand -hex 32) and restart the server`,
      2,
    );
  }
  const url = args.url ?? clientUrlFromConfig(config);
  if (url === undefined) {
    throw new CliError(`${config.configPath}: no listener serves the client API; add 'client' to a listener's resources or pass --url`, 2);
  }
  return { url, secret: config.registrationSharedSecret };
}

async function call(endpoint: string, init: RequestInit, args: RegisterUserArgs): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(endpoint, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') {
      throw new CliError(
        `cannot connect to ${endpoint}: connection refused; the server must be running (start it with: axon start --config ${args.config}) or pass --url`,
      );
    }
    throw new CliError(`cannot reach ${endpoint}: ${cause?.message ?? (err as Error).message}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${endpoint} answered ${response.status} with something that is not JSON: ${text.slice(0, 100)}`);
  }
  if (!response.ok) {
    const { errcode, error } = json as { errcode?: unknown; error?: unknown };
    throw new CliError(`registration failed (${response.status}): ${String(errcode ?? 'unknown error')}: ${String(error ?? text)}`);
  }
  return json;
}
