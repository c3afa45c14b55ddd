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

/** Names this process among those sharing a database (the runs it holds): host and process ID. */
export function processName(): string {
  return `${hostname()}:${process.pid}`;
}
