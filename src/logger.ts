import { pino } from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout (pino; each line names the process: pid and hostname). `silent` for tests that do not read them. */
export function createLogger(level: string = 'info'): Logger {
  return pino({ level });
}
