// The federation tester behind `axon doctor federation SERVER` and
// POST /_axon/admin/v1/doctor/federation/{serverName}: whether this server,
// with its own settings, can federate with another, step by step as a
// request goes — our whitelist, discovery (with its trace), the address and
// the IP ranges, the TLS handshake and the certificate chain, /version, the
// server's keys and their self-signature, and a signed request the peer must
// accept. It uses the real transport (resolver, connector, signing client),
// so what it reports is what federation does. Every problem says what to
// change, in homeserver.yaml terms where the change is ours.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseServerName } from '../core/identifiers.js';
import type { JsonObject } from '../core/types.js';
import type { DiscoveryStep, FederationTarget, Resolution } from './discovery.js';
import { FederationError } from './errors.js';
import type { TlsProbe } from './https.js';
import type { FederationTransport } from './index.js';
import { SignatureError } from './event-signatures.js';
import { checkSelfSignedKeys } from './key-ring.js';

export type CheckStatus = 'ok' | 'warning' | 'problem';

export interface DoctorCheck {
  step: string;
  status: CheckStatus;
  detail: string;
  /** What to change, for warnings and problems. */
  fix?: string;
}

/** The report's JSON shape is the admin API's (the web console reads it). */
export interface FederationReport {
  /** True only when federation with the server would work. */
  ok: boolean;
  server: string;
  checks: DoctorCheck[];
}

export interface FederationDoctorOptions {
  /** This server's name. */
  serverName: string;
  transport: FederationTransport;
  clock: () => number;
  /** Deadline of each network step. Default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A user that does not exist, for a signed request whose only expected refusal is about us. */
const PROBE_LOCALPART = 'axon-doctor-probe';

export async function diagnoseFederation(opts: FederationDoctorOptions, server: string): Promise<FederationReport> {
  const checks: DoctorCheck[] = [];
  const report = (): FederationReport => ({ ok: !checks.some((c) => c.status === 'problem'), server, checks });

  if (!checkName(opts, server, checks)) return report();
  const allowed = checkWhitelist(opts, server, checks);
  const resolution = await discover(opts, server, checks);
  if (resolution === undefined) return report();
  const probe = await handshake(opts, server, resolution, checks);
  // Requests would be refused by our whitelist or could not get through TLS: nothing more to learn.
  if (!allowed || probe === undefined || probe.problem !== undefined) return report();

  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  await checkVersion(opts, server, timeoutMs, resolution, checks);
  // A server that is not `server` refuses requests addressed to that name whatever we do: one problem is enough.
  if (!(await checkKeys(opts, server, timeoutMs, resolution, checks))) return report();
  await checkSignedRequest(opts, server, timeoutMs, resolution, checks);
  return report();
}

function checkName(opts: FederationDoctorOptions, server: string, checks: DoctorCheck[]): boolean {
  if (parseServerName(server) === null) {
    checks.push({ step: 'server name', status: 'problem', detail: `${JSON.stringify(server)} is not a server name`, fix: 'give a server name as in user IDs: a host name or IP address, optionally with :port' });
    return false;
  }
  if (server === opts.serverName) {
    checks.push({ step: 'server name', status: 'problem', detail: `${server} is this server's own name`, fix: 'give the name of another server' });
    return false;
  }
  checks.push({ step: 'server name', status: 'ok', detail: server });
  return true;
}

function checkWhitelist(opts: FederationDoctorOptions, server: string, checks: DoctorCheck[]): boolean {
  if (opts.transport.client.isAllowed(server)) {
    checks.push({ step: 'federation_domain_whitelist', status: 'ok', detail: `federation with ${server} is allowed by our configuration` });
    return true;
  }
  checks.push({
    step: 'federation_domain_whitelist',
    status: 'problem',
    detail: `${server} is not in our federation_domain_whitelist: we neither send to it nor accept its requests`,
    fix: `add it to the list in homeserver.yaml: federation_domain_whitelist: [..., '${server}'] (or remove federation_domain_whitelist to federate with any server)`,
  });
  return false;
}

async function discover(opts: FederationDoctorOptions, server: string, checks: DoctorCheck[]): Promise<Resolution | undefined> {
  let resolution: Resolution;
  try {
    resolution = await opts.transport.resolver.resolve(server);
  } catch (err) {
    checks.push({ step: 'discovery', status: 'problem', detail: (err as Error).message, fix: 'check the server name' });
    return undefined;
  }
  for (const step of resolution.trace) checks.push({ step: `discovery: ${step.step}`, status: 'ok', detail: step.found });
  return resolution;
}

/** The first target that completes a TLS handshake, with a line for each attempt. */
async function handshake(opts: FederationDoctorOptions, server: string, resolution: Resolution, checks: DoctorCheck[]): Promise<TlsProbe | undefined> {
  const failed: DoctorCheck[] = [];
  for (const target of resolution.targets) {
    let probe: TlsProbe;
    try {
      probe = await opts.transport.connector.probeTls(server, target, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } catch (err) {
      if (!(err instanceof FederationError)) throw err;
      const check: DoctorCheck = { step: `connect to ${hostPort(target)}`, status: 'problem', detail: err.message, fix: await connectFix(err, server, target, resolution.trace) };
      failed.push(check);
      checks.push(check);
      continue;
    }
    // Requests go on to the next SRV target as this does: the ones before only cost time.
    for (const check of failed) check.status = 'warning';
    checks.push({ step: `connect to ${hostPort(target)}`, status: 'ok', detail: `connected to ${hostPort({ host: probe.address, port: probe.port })}, TLS handshake done (${probe.protocol ?? 'unknown protocol'})` });
    checks.push(certificateCheck(server, target, probe));
    return probe;
  }
  return undefined;
}

function certificateCheck(server: string, target: FederationTarget, probe: TlsProbe): DoctorCheck {
  const chain = probe.chain
    .map((c) => `${c.subject} issued by ${c.issuer}${c.subjectAltName ? ` [${c.subjectAltName}]` : ''}, valid ${c.validFrom} to ${c.validTo}`)
    .join('; ');
  const step = `certificate for ${target.certificateName}`;
  if (probe.problem !== undefined) {
    const issuer = probe.chain.at(-1)?.issuer ?? 'its issuer';
    const untrusted = probe.problem.message.includes('is not trusted');
    return {
      step,
      status: 'problem',
      detail: `${probe.problem.message}. Presented: ${chain}`,
      fix: untrusted
        ? `add the certificate of the CA "${issuer}" to federation_custom_ca_list: ['/path/to/that-ca.crt'] (for a LAN: axon tls init-ca and axon tls issue)`
        : `${server}'s certificate must name ${target.certificateName} in its subjectAltName: reissue it (axon tls issue --name ${target.certificateName}), or correct where discovery points (federation_hosts, .well-known)`,
    };
  }
  if (!probe.verified) {
    return {
      step,
      status: 'warning',
      detail: `not verified (federation_verify_certificates is false, or ${target.certificateName} matches federation_certificate_verification_whitelist): anyone on the path could impersonate ${server}. Presented: ${chain}`,
      fix: `trust its CA with federation_custom_ca_list and set federation_verify_certificates: true (and remove ${target.certificateName} from federation_certificate_verification_whitelist)`,
    };
  }
  return { step, status: 'ok', detail: `trusted and valid for ${target.certificateName}: ${chain}` };
}

async function checkVersion(opts: FederationDoctorOptions, server: string, timeoutMs: number, resolution: Resolution, checks: DoctorCheck[]): Promise<void> {
  const step = 'GET /_matrix/federation/v1/version';
  try {
    const answer = await opts.transport.client.request<{ server?: { name?: unknown; version?: unknown } }>(server, 'GET', '/_matrix/federation/v1/version', { timeoutMs });
    const name = typeof answer.server?.name === 'string' ? answer.server.name : 'an unnamed server';
    const version = typeof answer.server?.version === 'string' ? ` ${answer.server.version}` : '';
    checks.push({ step, status: 'ok', detail: `${server} runs ${name}${version}` });
  } catch (err) {
    checks.push(await requestProblem(step, err, server, resolution));
  }
}

/** False when the server there turned out to be another one (its keys name it). */
async function checkKeys(opts: FederationDoctorOptions, server: string, timeoutMs: number, resolution: Resolution, checks: DoctorCheck[]): Promise<boolean> {
  const step = 'GET /_matrix/key/v2/server';
  let response: JsonObject;
  try {
    response = await opts.transport.client.request<JsonObject>(server, 'GET', '/_matrix/key/v2/server', { timeoutMs });
  } catch (err) {
    checks.push(await requestProblem(step, err, server, resolution));
    return true;
  }
  try {
    const keys = checkSelfSignedKeys(response, server);
    const validUntil = new Date(keys.validUntilTs).toISOString();
    if (keys.validUntilTs < opts.clock()) {
      checks.push({
        step,
        status: 'problem',
        detail: `${server}'s keys are signed correctly (${keys.selfSignedBy.join(', ')}) but expired at ${validUntil}, before our clock's ${new Date(opts.clock()).toISOString()}`,
        fix: `check the clock of this machine and of ${server} (NTP); a server refreshes its key response on start`,
      });
      return true;
    }
    checks.push({ step, status: 'ok', detail: `signed by its own key ${keys.selfSignedBy.join(', ')}, valid until ${validUntil}` });
    return true;
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    const answeredAs = response['server_name'];
    const someoneElse = typeof answeredAs === 'string' && answeredAs !== server;
    checks.push({
      step,
      status: 'problem',
      detail: err.message,
      fix: someoneElse
        ? `the server there is ${answeredAs}: federate with it by that name (server names are not addresses; map the name to the address with federation_hosts)`
        : `${server} must serve its own keys, self-signed: check its signing_key_path (a proxy in front of it must pass /_matrix/key/ through unchanged)`,
    });
    return !someoneElse;
  }
}

/**
 * A request the peer authenticates: a profile query for a user of its own
 * that does not exist. Accepting our signature, it answers 404 (or 200);
 * 401 means it could not verify us (it cannot fetch our keys, or a clock
 * is wrong), 403 that it refuses us (its whitelist or deny-list).
 */
async function checkSignedRequest(opts: FederationDoctorOptions, server: string, timeoutMs: number, resolution: Resolution, checks: DoctorCheck[]): Promise<void> {
  const step = 'signed request (GET /_matrix/federation/v1/query/profile)';
  const userId = `@${PROBE_LOCALPART}:${server}`;
  try {
    await opts.transport.client.request(server, 'GET', '/_matrix/federation/v1/query/profile', { query: { user_id: userId, field: 'displayname' }, timeoutMs });
    checks.push({ step, status: 'ok', detail: `${server} accepted our X-Matrix signature` });
  } catch (err) {
    if (err instanceof FederationError && err.kind === 'http' && err.status === 404) {
      checks.push({ step, status: 'ok', detail: `${server} accepted our X-Matrix signature (and answered 404 for ${userId}, which does not exist)` });
      return;
    }
    if (err instanceof FederationError && err.kind === 'http' && err.status === 401) {
      checks.push({
        step,
        status: 'problem',
        detail: `${server} could not verify our signature: ${err.remoteError ?? err.message}`,
        fix:
          `${server} must reach ${opts.serverName} to fetch our keys (GET /_matrix/key/v2/server): on ${server}, map ${opts.serverName} in its federation_hosts (or DNS), trust our CA in its federation_custom_ca_list, ` +
          `allow our address in its ip_range_whitelist; and both clocks must be right (NTP). Run axon doctor federation ${opts.serverName} there to see its side`,
      });
      return;
    }
    if (err instanceof FederationError && err.kind === 'http' && err.status === 403) {
      checks.push({
        step,
        status: 'problem',
        detail: `${server} refuses requests from us: ${err.remoteError ?? err.message}`,
        fix: `on ${server}: add ${opts.serverName} to its federation_domain_whitelist (or take it off its deny-list)`,
      });
      return;
    }
    checks.push(await requestProblem(step, err, server, resolution));
  }
}

/** A request that failed after the handshake worked: the peer went away, or answered an error. */
async function requestProblem(step: string, err: unknown, server: string, resolution: Resolution): Promise<DoctorCheck> {
  if (!(err instanceof FederationError)) throw err;
  const target = resolution.targets[0]!;
  if (err.kind === 'http') {
    return { step, status: 'problem', detail: err.message, fix: `${server} answers federation requests with errors: is ${hostPort(target)} its federation listener (resources: [federation]), not another web server?` };
  }
  return { step, status: 'problem', detail: err.message, fix: await connectFix(err, server, target, resolution.trace) };
}

/** What to change when no connection or handshake could be made. */
async function connectFix(err: FederationError, server: string, target: FederationTarget, trace: DiscoveryStep[]): Promise<string> {
  const viaHosts = trace.some((s) => s.step === 'federation_hosts');
  const mapIt = `federation_hosts: {'${server}': "ADDRESS:PORT"}`;
  const where = viaHosts ? `federation_hosts maps ${server} to ${hostPort(target)}: correct that entry if it moved` : `or map it directly: ${mapIt}`;
  // describeError's wording for a name neither DNS nor /etc/hosts knows.
  if (err.kind === 'connect' && err.message.includes('does not resolve')) {
    return `${target.host} does not resolve: add it to DNS or /etc/hosts, or map ${server} to its address: ${mapIt}`;
  }
  switch (err.kind) {
    case 'refused': {
      const addresses = isIP(target.host) !== 0 ? [target.host] : await addressesOf(target.host);
      const ranges = addresses.map((a) => `'${a}/${isIP(a) === 6 ? 128 : 32}'`).join(', ');
      return `its address is in our blocked IP ranges (federation_ip_range_blacklist / ip_range_blacklist, by default all private networks): allow it with ip_range_whitelist: [${ranges || "'ADDRESS/32'"}]`;
    }
    case 'tls':
      return err.message.includes('is not trusted')
        ? `add the CA that signed ${server}'s certificate to federation_custom_ca_list`
        : `${server}'s certificate must name ${target.certificateName}; reissue it (axon tls issue --name ${target.certificateName}), or correct where discovery points`;
    case 'timeout':
      return `nothing answered at ${hostPort(target)} in time: is ${server} up, and does a firewall let us reach that port? ${where}`;
    default:
      return `make sure ${server} is running and its federation listener is on ${hostPort(target)}; ${where}`;
  }
}

async function addressesOf(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

function hostPort(t: { host: string; port: number }): string {
  return `${isIP(t.host) === 6 ? `[${t.host}]` : t.host}:${t.port}`;
}
