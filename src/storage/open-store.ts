import { fail, ok, type Result } from '../result.js';
import { openPostgresStore } from './postgres/open-postgres.js';
import { openSqliteStore } from './sqlite/open-sqlite.js';
import type { Store } from './store.js';

export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** Where `--db` / SWITCHBOARD_DB points: a `postgres://` URL, or a SQLite file path. */
export function parseDatabase(spec: string): Result<DatabaseLocation, 'InvalidDatabase'> {
  const text = spec.trim();
  if (text === '')
    return fail('InvalidDatabase', 'the database is empty: give a file path or a postgres:// URL');
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      new URL(text);
    } catch {
      return fail('InvalidDatabase', `'${redact(text)}' is not a valid postgres:// URL`);
    }
    return ok({ kind: 'postgres', url: text });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return fail('InvalidDatabase', `'${redact(text)}' is neither a file path nor a postgres:// URL`);
  }
  return ok({ kind: 'sqlite', path: text });
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

export interface OpenStoreOptions {
  onConnectionError?(error: Error): void;
}

/** Opens and migrates the store; a failure is one line saying which database and why. */
export async function openStore(
  spec: string,
  options: OpenStoreOptions = {},
): Promise<Result<Store, 'InvalidDatabase' | 'DatabaseUnavailable'>> {
  const location = parseDatabase(spec);
  if (!location.ok) return location;
  try {
    if (location.value.kind === 'sqlite') return ok(await openSqliteStore(location.value.path));
    return ok(
      await openPostgresStore({
        url: location.value.url,
        ...(options.onConnectionError ? { onConnectionError: options.onConnectionError } : {}),
      }),
    );
  } catch (e) {
    const where =
      location.value.kind === 'sqlite'
        ? `the SQLite database ${location.value.path}`
        : `PostgreSQL at ${redact(location.value.url)}`;
    const error = e as Error & { code?: string };
    const why = error.message || error.code || String(e);
    return fail('DatabaseUnavailable', `cannot open ${where}: ${why.split('\n')[0]}`);
  }
}
