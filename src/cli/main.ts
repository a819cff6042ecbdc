// The `axon` command line. Operator mistakes (configuration, files, usage)
// end with one line on stderr and exit code 2; a failed operation with exit
// code 1; only a bug shows a stack trace.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { doctorCommand, doctorFederationCommand } from './doctor/index.js';
import { CliError } from './errors.js';
import { generateConfigCommand } from './generate-config.js';
import { registerUserCommand } from './register-user.js';
import { startCommand } from './start.js';
import { tlsInitCaCommand, tlsIssueCommand } from './tls.js';

function buildProgram(): Command {
  const program = new Command('axon')
    .description('Axon, a Matrix homeserver')
    // Set before the subcommands are added: they inherit it.
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('generate-config')
    .description('write a new homeserver.yaml and signing key')
    .requiredOption('--server-name <name>', 'the domain in user IDs, e.g. example.org (cannot be changed later)')
    .requiredOption('--config <path>', 'where to write homeserver.yaml')
    .option('--data-dir <dir>', "where the database and media go (default: the config file's directory)")
    .action((opts: { serverName: string; config: string; dataDir?: string }) => generateConfigCommand(opts));

  program
    .command('start')
    .description('run the homeserver')
    .requiredOption('--config <path>', 'path of homeserver.yaml')
    .option('--generate-if-missing', 'generate a local-only config (127.0.0.1, open registration) if none exists')
    .option('--server-name <name>', 'server name for a generated config (default: localhost)')
    .option('--data-dir <dir>', "data directory for a generated config (default: the config file's directory)")
    .action((opts: { config: string; generateIfMissing?: boolean; serverName?: string; dataDir?: string }) => startCommand(opts));

  program
    .command('register-user')
    .description('create an account through the shared-secret admin API (like register_new_matrix_user)')
    .requiredOption('--config <path>', 'path of homeserver.yaml (for registration_shared_secret and the listener)')
    .requiredOption('--user <name>', 'localpart of the new user, e.g. alice')
    .requiredOption('--password <password>', 'password of the new user')
    .option('--admin', 'make the user a server admin', false)
    .option('--url <url>', 'base URL of the server (default: from the config\'s client listener)')
    .action((opts: { config: string; user: string; password: string; admin: boolean; url?: string }) => registerUserCommand(opts));

  const doctor = program
    .command('doctor')
    .description('check the local server (config, database, signing key, listeners, TLS certificate, .well-known, clock)')
    .requiredOption('--config <path>', 'path of homeserver.yaml')
    .action((opts: { config: string }) => doctorCommand(opts));
  doctor
    .command('federation <server>')
    .description("test federation with another server, with this server's settings; exit code 0 only when it would work")
    .option('--timeout <ms>', 'deadline of each network step', parsePositiveInteger, 10_000)
    .action((server: string, opts: { timeout: number }, command: Command) =>
      doctorFederationCommand({ config: (command.parent!.opts() as { config: string }).config, server, timeout: opts.timeout }),
    );

  const tls = program.command('tls').description('a small certificate authority, so that servers on a LAN federate with verification on');
  tls
    .command('init-ca')
    .description('make a CA certificate and key (ca.crt, ca.key) in a directory')
    .requiredOption('--dir <dir>', 'where to write them')
    .action((opts: { dir: string }) => tlsInitCaCommand(opts));
  tls
    .command('issue')
    .description("issue a server certificate and key with the CA, and print the homeserver.yaml lines that use them")
    .requiredOption('--ca <dir>', 'the directory of axon tls init-ca')
    .requiredOption('--name <server_name>', "the server's server_name")
    .option('--ip <address>', 'an IP address to include (repeat for more); the first is where other servers connect', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--port <port>', 'the federation port other servers connect to (default: the port in the name, else 8448)', parsePositiveInteger)
    .action((opts: { ca: string; name: string; ip: string[]; port?: number }) => tlsIssueCommand(opts));

  return program;
}

function parsePositiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
  }
  if (err instanceof ConfigError || err instanceof CliError) {
    process.stderr.write(`axon: ${err.message}\n`);
    return err instanceof CliError ? err.exitCode : 2;
  }
  process.stderr.write(`axon: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

await main(process.argv);
