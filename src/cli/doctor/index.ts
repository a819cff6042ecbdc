// `axon doctor`: checks of the local server, and `axon doctor federation
// SERVER`, the federation tester run with this server's settings. Each line
// is ok, warning or problem, problems and warnings with their fix. Exit code
// 0 when there is no problem (for federation: when it would work), else 1.
import { readFileSync } from 'node:fs';
import { CaFileError } from '../../config/ca-files.js';
import { loadConfig } from '../../config/load.js';
import type { HomeserverConfig } from '../../config/types.js';
import { parseSigningKeyFile, type SigningKey } from '../../core/signing.js';
import { diagnoseFederation, type DoctorCheck } from '../../federation/doctor.js';
import { createFederationTransport, type FederationTransport } from '../../federation/index.js';
import { axonVersion } from '../../http/federation/version.js';
import { CliError } from '../errors.js';
import { diagnoseLocal } from './local.js';

export async function doctorCommand(args: { config: string }): Promise<void> {
  const checks = await diagnoseLocal({ configPath: args.config });
  const problems = print(checks);
  process.stdout.write(problems === 0 ? 'no problems found\n' : `${problems} problem(s) found\n`);
  if (problems > 0) process.exitCode = 1;
}

export async function doctorFederationCommand(args: { config: string; server: string; timeout?: number }): Promise<void> {
  const config = loadConfig(args.config, { warn: () => {} });
  const transport = transportFor(config);
  try {
    process.stdout.write(`federation with ${args.server}, as ${config.serverName} sees it:\n`);
    const report = await diagnoseFederation({ serverName: config.serverName, transport, clock: Date.now, timeoutMs: args.timeout }, args.server);
    const problems = print(report.checks);
    process.stdout.write(report.ok ? `federation with ${args.server} would work\n` : `federation with ${args.server} would NOT work: ${problems} problem(s)\n`);
    if (!report.ok) process.exitCode = 1;
  } finally {
    transport.client.close();
  }
}

function transportFor(config: HomeserverConfig): FederationTransport {
  try {
    return createFederationTransport({ config, signingKeys: readSigningKeys(config), clock: Date.now, userAgent: `Axon/${axonVersion()} (doctor)` });
  } catch (err) {
    // A CA file that was fine when the config was loaded may have gone since, as at start.
    if (err instanceof CaFileError) throw new CliError(`${config.configPath}: federation_custom_ca_list: ${err.message}`, 2);
    throw err;
  }
}

/** The key requests are signed with; the doctor never makes one (that is axon start's job). */
function readSigningKeys(config: HomeserverConfig): SigningKey[] {
  let keys: SigningKey[];
  try {
    keys = parseSigningKeyFile(readFileSync(config.signingKeyPath, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot use the signing key ${config.signingKeyPath} (signing_key_path): ${(err as Error).message}; run axon doctor --config ${config.configPath} for details`, 2);
  }
  if (keys.length === 0) throw new CliError(`${config.signingKeyPath} (signing_key_path) holds no key`, 2);
  return keys;
}

/** Prints the checks, one line each (and a fix line under warnings and problems); returns how many are problems. */
function print(checks: readonly DoctorCheck[]): number {
  for (const c of checks) {
    process.stdout.write(`${c.status.padEnd(8)} ${c.step}: ${c.detail}\n`);
    if (c.fix !== undefined && c.status !== 'ok') process.stdout.write(`${''.padEnd(8)} fix: ${c.fix}\n`);
  }
  return checks.filter((c) => c.status === 'problem').length;
}
