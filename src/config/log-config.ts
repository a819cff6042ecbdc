// The log level, from the file Synapse's `log_config` names: a Python
// logging configuration (logging.config.dictConfig) in YAML. Axon logs JSON
// lines to stdout through pino, so of that file it reads only the level —
// the `synapse` logger's if set (it governs every Synapse logger), else the
// root logger's — and leaves handlers and formatters to the service manager
// (journald keeps stdout). Without log_config the level is INFO, Synapse's
// default.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describeFsError } from './access.js';
import { describeValue } from './errors.js';
import { isMapping, type ConfigSource } from './values.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** Python's level names (logging.getLevelName) → pino's. NOTSET on the root logger lets everything through. */
const PYTHON_LEVELS: Readonly<Record<string, LogLevel>> = {
  NOTSET: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'fatal',
  FATAL: 'fatal',
};

/** The level the log_config file at `path` sets; problems are one-line ConfigErrors naming log_config and the file. */
export function readLogLevel(src: ConfigSource, path: string | undefined): LogLevel {
  if (path === undefined) return DEFAULT_LOG_LEVEL;
  const fail = (problem: string): never => src.fail('log_config', `${path}: ${problem}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return src.fail('log_config', describeFsError(path, err as NodeJS.ErrnoException, 'read', 'logging configuration'));
  }
  let doc: unknown;
  try {
    doc = parse(text, { version: '1.1' });
  } catch (err) {
    return fail(`invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isMapping(doc)) return fail(`must be a Python logging configuration (a mapping with root: and loggers:), got ${describeValue(doc)}`);
  const loggers = isMapping(doc['loggers']) ? doc['loggers'] : {};
  const synapse = loggers['synapse'];
  if (isMapping(synapse) && synapse['level'] !== undefined) return pythonLevel(synapse['level'], 'loggers.synapse.level', fail);
  const root = doc['root'];
  if (isMapping(root) && root['level'] !== undefined) return pythonLevel(root['level'], 'root.level', fail);
  return DEFAULT_LOG_LEVEL;
}

function pythonLevel(value: unknown, keyPath: string, fail: (problem: string) => never): LogLevel {
  const level = typeof value === 'string' ? PYTHON_LEVELS[value.trim().toUpperCase()] : undefined;
  return level ?? fail(`${keyPath}: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got ${describeValue(value)}`);
}
