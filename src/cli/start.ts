// `axon start`: load the config and signing key, check the files the server
// needs, start it, and stop it cleanly on SIGINT/SIGTERM.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { checkServerFiles, ownershipWarnings } from '../config/access.js';
import { ConfigError } from '../config/errors.js';
import { generateConfigFiles } from '../config/generate.js';
import { loadConfig } from '../config/load.js';
import type { HomeserverConfig } from '../config/types.js';
import { DEFAULT_LOG_LEVEL } from '../config/log-config.js';
import { loadOrCreateSigningKeys } from '../config/signing-key.js';
import { CliError } from './errors.js';

export interface StartArgs {
  config: string;
  generateIfMissing?: boolean;
  serverName?: string;
  dataDir?: string;
}

export async function startCommand(args: StartArgs): Promise<void> {
  const logger = pino({ name: 'axon' });
  const configPath = resolve(args.config);
  prepareConfigFile(configPath, args, logger);

  const config = loadConfig(configPath, { warn: (message) => logger.warn(message) });
  logger.level = config.logLevel ?? DEFAULT_LOG_LEVEL;
  if (args.serverName !== undefined && args.serverName !== config.serverName) {
    logger.warn(`--server-name ${args.serverName} ignored: ${configPath} already exists with server_name ${config.serverName}`);
  }
  checkServerFiles(config);
  for (const warning of ownershipWarnings(config)) logger.warn(warning);
  const signing = loadOrCreateSigningKeys(config.signingKeyPath, (message) => logger.warn(message));
  if (signing.created) logger.warn(`created a new signing key ${signing.keys[0]!.keyId} in ${config.signingKeyPath}; back it up`);

  // Loaded only here so that the other commands do not pull in the server.
  const { startHomeserver, StartupError } = await import('../server.js');
  let running;
  try {
    running = await startHomeserver({ config, signingKeys: signing.keys, logger });
  } catch (err) {
    if (err instanceof StartupError) throw new CliError(err.message, 2);
    throw err;
  }
  const urls = running.listeners.map((l) => `${l.tls ? 'https' : 'http'}://${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}/`);
  logger.info(`${config.serverName} is running on ${urls.join(', ')} (config ${configPath})`);
  stopOnSignals(running, logger);
  reloadOnHangup(running, configPath, logger);
}

/**
 * SIGHUP (systemctl reload) reads the config again and applies the log level
 * and the TLS certificate, as Synapse does, so a renewed certificate needs no
 * restart. A config or certificate that does not load is reported and the
 * running server keeps what it had.
 */
function reloadOnHangup(running: { reload(config: HomeserverConfig): void }, configPath: string, logger: Logger): void {
  process.on('SIGHUP', () => {
    try {
      const config = loadConfig(configPath, { warn: (message) => logger.warn(message) });
      running.reload(config);
      logger.info({ level: logger.level }, 'SIGHUP: reloaded the log level and TLS certificate; other settings change on restart');
    } catch (err) {
      // A bad edit must not take a running server down: say what is wrong and carry on.
      logger.error(`SIGHUP: nothing reloaded: ${(err as Error).message}`);
    }
  });
}

/** With --generate-if-missing, a missing config is generated (npm start's first run). */
function prepareConfigFile(configPath: string, args: StartArgs, logger: Logger): void {
  if (existsSync(configPath)) return;
  if (!args.generateIfMissing) {
    throw new ConfigError(
      `${configPath} does not exist; create it with: axon generate-config --server-name <your domain> --config ${configPath}`,
    );
  }
  const files = generateConfigFiles({
    serverName: args.serverName ?? 'localhost',
    configPath,
    dataDir: args.dataDir ?? dirname(configPath),
    openLocalRegistration: true,
  });
  logger.info(`generated ${files.configPath} and signing key ${files.signingKeyPath}`);
}

function stopOnSignals(running: { close(): Promise<void> }, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal} received: shutting down`);
    running.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
