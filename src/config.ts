import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fail, ok, type Result } from './result.js';

/** Everything `serve` and the database commands take from flags and the environment. */
export interface Config {
  /** `--db`, else SWITCHBOARD_DB, else `./data/switchboard.db`. */
  db: string;
  /** `--log-level`, else LOG_LEVEL, else `info`. */
  logLevel: string;
  /** `--port`, else PORT, else 3000. */
  port: number;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The one place besides cli/ that reads `process`: flags win over the environment. */
export function readConfig(flags: {
  db?: string;
  logLevel?: string;
  port?: string;
}): Result<Config, 'InvalidConfig'> {
  const env = process.env;
  const db = flags.db ?? env.SWITCHBOARD_DB ?? './data/switchboard.db';
  const logLevel = flags.logLevel ?? env.LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(logLevel)) {
    return fail('InvalidConfig', `log level '${logLevel}' is not one of ${LEVELS.join(', ')}`);
  }
  const portText = flags.port ?? env.PORT ?? '3000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return fail('InvalidConfig', `port '${portText}' is not a port number (0-65535)`);
  }
  return ok({ db, logLevel, port });
}

/** Shorter keys are refused: a guessable key lets anyone mint security users. */
const MIN_HANDLE_KEY_LENGTH = 32;

/** A key that signs security-user handles from outside the database, and where it came from. */
export interface HandleKey {
  key: string;
  /** `--handle-key-file FILE`, `SWITCHBOARD_HANDLE_KEY_FILE (FILE)` or `SWITCHBOARD_HANDLE_KEY`. */
  from: string;
}

/**
 * The handle key from `--handle-key-file`, else SWITCHBOARD_HANDLE_KEY_FILE, else
 * SWITCHBOARD_HANDLE_KEY; undefined when none is set (the database's keys sign). A file's
 * content is trimmed (a trailing newline is not part of the key).
 */
export function readHandleKey(flags: {
  handleKeyFile?: string;
}): Result<HandleKey | undefined, 'InvalidConfig'> {
  const env = process.env;
  if (flags.handleKeyFile === undefined && env.SWITCHBOARD_HANDLE_KEY_FILE && env.SWITCHBOARD_HANDLE_KEY) {
    return fail('InvalidConfig', 'set SWITCHBOARD_HANDLE_KEY_FILE or SWITCHBOARD_HANDLE_KEY, not both');
  }
  const file = flags.handleKeyFile ?? (env.SWITCHBOARD_HANDLE_KEY_FILE || undefined);
  let found: HandleKey;
  if (file !== undefined) {
    const from = flags.handleKeyFile === undefined ? `SWITCHBOARD_HANDLE_KEY_FILE (${file})` : file;
    try {
      found = { key: readFileSync(file, 'utf8').trim(), from };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return fail('InvalidConfig', `cannot read the handle key file ${file}${code ? ` (${code})` : ''}`);
    }
  } else if (env.SWITCHBOARD_HANDLE_KEY) {
    found = { key: env.SWITCHBOARD_HANDLE_KEY.trim(), from: 'SWITCHBOARD_HANDLE_KEY' };
  } else {
    return ok(undefined);
  }
  if (found.key.length < MIN_HANDLE_KEY_LENGTH) {
    return fail(
      'InvalidConfig',
      `the handle key in ${found.from} has ${found.key.length} characters; give at least ${MIN_HANDLE_KEY_LENGTH} (e.g. openssl rand -base64 32)`,
    );
  }
  return ok(found);
}

/** Names this process among those sharing a database (the runs it holds): host and process ID. */
export function processName(): string {
  return `${hostname()}:${process.pid}`;
}
