import { pino } from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout (pino). `silent` for tests that do not read them. */
export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: { pid: process.pid } });
}
