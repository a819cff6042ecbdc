// `axon tls init-ca` and `axon tls issue`: a small certificate authority for
// servers on a LAN, so that they federate with certificate verification on
// (federation_custom_ca_list) instead of switching it off. Keys are written
// owner-only; the homeserver.yaml lines to use them are printed.
//
//   axon tls init-ca --dir /etc/axon/ca
//   axon tls issue --ca /etc/axon/ca --name hs1.lan --ip 192.168.1.10
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { DEFAULT_IP_RANGE_BLACKLIST } from '../config/load.js';
import { parseServerName } from '../core/identifiers.js';
import { IpPolicy } from '../core/ip-policy.js';
import { CliError } from './errors.js';
import { createCa, issueServerCertificate, type CertificatePems } from './tls-certificates.js';

const DEFAULT_FEDERATION_PORT = 8448;

export interface InitCaArgs {
  dir: string;
}

export async function tlsInitCaCommand(args: InitCaArgs): Promise<void> {
  const dir = resolve(args.dir);
  const { certPath, keyPath } = caPaths(dir);
  for (const path of [certPath, keyPath]) {
    if (existsSync(path)) throw new CliError(`${path} already exists; Axon will not overwrite a CA (servers trust it). Issue certificates with: axon tls issue --ca ${dir} --name SERVER_NAME`, 2);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createCa(`Axon LAN CA (${new Date().toISOString().slice(0, 10)})`);
  writeFileSync(certPath, ca.certPem, { mode: 0o644 });
  writeFileSync(keyPath, ca.keyPem, { mode: 0o600, flag: 'wx' });
  process.stdout.write(
    [
      `wrote ${certPath} (the CA certificate: every server that federates with yours trusts it)`,
      `wrote ${keyPath} (the CA key: keep it secret, it can make certificates every server here trusts)`,
      `next, for each server: axon tls issue --ca ${dir} --name SERVER_NAME --ip ITS_ADDRESS`,
      '',
    ].join('\n'),
  );
}

export interface IssueArgs {
  ca: string;
  name: string;
  ip?: string[];
  /** The federation port other servers connect to (for the federation_hosts line). */
  port?: number;
}

export async function tlsIssueCommand(args: IssueArgs): Promise<void> {
  const dir = resolve(args.ca);
  const parsed = parseServerName(args.name);
  if (parsed === null) throw new CliError(`--name: ${JSON.stringify(args.name)} is not a server name (a host name or IP address, optionally with :port)`, 2);
  const ips = args.ip ?? [];
  const badIp = ips.find((ip) => isIP(ip) === 0);
  if (badIp !== undefined) throw new CliError(`--ip: ${JSON.stringify(badIp)} is not an IP address`, 2);
  const ca = readCa(dir);
  // The certificate names the host the server name stands for; a port is not part of it.
  const host = parsed.host.replace(/^\[|\]$/g, '');
  const names = [...new Set([host, ...ips])];
  const fileBase = join(dir, host);
  const certPath = `${fileBase}.crt`;
  const keyPath = `${fileBase}.key`;
  let issued: CertificatePems;
  try {
    issued = await issueServerCertificate(ca, names);
  } catch (err) {
    throw new CliError(`cannot issue with the CA in ${dir}: ${(err as Error).message}`, 2);
  }
  writeFileSync(certPath, issued.certPem, { mode: 0o644 });
  writeFileSync(keyPath, issued.keyPem, { mode: 0o600 });
  const port = args.port ?? parsed.port ?? DEFAULT_FEDERATION_PORT;
  process.stdout.write(
    issueInstructions({ serverName: args.name, names, certPath, keyPath, caCertPath: caPaths(dir).certPath, address: ips[0] ?? host, port }),
  );
}

/** The homeserver.yaml lines for the server the certificate is for, and for the servers that talk to it. */
function issueInstructions(o: { serverName: string; names: string[]; certPath: string; keyPath: string; caCertPath: string; address: string; port: number }): string {
  const blocked = isIP(o.address) !== 0 && new IpPolicy(DEFAULT_IP_RANGE_BLACKLIST, []).isBlocked(o.address);
  const range = `${o.address}/${isIP(o.address) === 6 ? 128 : 32}`;
  return [
    `wrote ${o.certPath} (for ${o.names.join(', ')})`,
    `wrote ${o.keyPath} (its private key, readable by its owner only)`,
    '',
    `# homeserver.yaml of ${o.serverName}:`,
    `tls_certificate_path: ${o.certPath}`,
    `tls_private_key_path: ${o.keyPath}`,
    `# and a listener with tls: true and resources [federation] on port ${o.port}; to trust the other servers of this CA:`,
    'federation_custom_ca_list:',
    `  - ${o.caCertPath}`,
    '',
    `# homeserver.yaml of every other server that federates with ${o.serverName} (copy ${o.caCertPath} there):`,
    'federation_custom_ca_list:',
    `  - ${o.caCertPath}`,
    'federation_hosts:',
    `  ${o.serverName}: "${isIP(o.address) === 6 ? `[${o.address}]` : o.address}:${o.port}"`,
    ...(blocked ? [`# ${o.address} is a private address, blocked by default:`, 'ip_range_whitelist:', `  - '${range}'`] : []),
    '',
  ].join('\n');
}

function caPaths(dir: string): { certPath: string; keyPath: string } {
  return { certPath: join(dir, 'ca.crt'), keyPath: join(dir, 'ca.key') };
}

function readCa(dir: string): CertificatePems {
  const { certPath, keyPath } = caPaths(dir);
  try {
    return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new CliError(`${e.path ?? dir} does not exist; make the CA first with: axon tls init-ca --dir ${dir}`, 2);
    throw new CliError(`cannot read the CA in ${dir}: ${e.message}`, 2);
  }
}

