import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempFiles } from '../test/support/cli.js';
import { readHandleKey } from './config.js';

const KEY = 'k'.repeat(40);

describe('readHandleKey', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const env = (values: Record<string, string>) => {
    vi.stubEnv('SWITCHBOARD_HANDLE_KEY', values.SWITCHBOARD_HANDLE_KEY ?? '');
    vi.stubEnv('SWITCHBOARD_HANDLE_KEY_FILE', values.SWITCHBOARD_HANDLE_KEY_FILE ?? '');
  };

  it('is absent when nothing names a key: the database keys sign', () => {
    env({});
    expect(readHandleKey({})).toEqual({ ok: true, value: undefined });
  });

  it('takes the key from the environment, or from a file (trimmed), the flag before both', () => {
    const { file, other } = tempFiles({ file: `${KEY}\n`, other: 'o'.repeat(32) });
    env({ SWITCHBOARD_HANDLE_KEY: KEY });
    expect(readHandleKey({})).toEqual({ ok: true, value: { key: KEY, from: 'SWITCHBOARD_HANDLE_KEY' } });
    env({ SWITCHBOARD_HANDLE_KEY_FILE: file as string });
    expect(readHandleKey({})).toEqual({
      ok: true,
      value: { key: KEY, from: `SWITCHBOARD_HANDLE_KEY_FILE (${file})` },
    });
    env({ SWITCHBOARD_HANDLE_KEY: KEY, SWITCHBOARD_HANDLE_KEY_FILE: file as string });
    expect(readHandleKey({ handleKeyFile: other as string })).toEqual({
      ok: true,
      value: { key: 'o'.repeat(32), from: other },
    });
  });

  it.each([
    [
      'both variables set',
      { SWITCHBOARD_HANDLE_KEY: KEY, SWITCHBOARD_HANDLE_KEY_FILE: '/x' },
      'set SWITCHBOARD_HANDLE_KEY_FILE or SWITCHBOARD_HANDLE_KEY, not both',
    ],
    [
      'a short key',
      { SWITCHBOARD_HANDLE_KEY: 'hunter2' },
      'the handle key in SWITCHBOARD_HANDLE_KEY has 7 characters; give at least 32 (e.g. openssl rand -base64 32)',
    ],
    [
      'a file it cannot read',
      { SWITCHBOARD_HANDLE_KEY_FILE: '/nonexistent/key' },
      'cannot read the handle key file /nonexistent/key (ENOENT)',
    ],
  ])('refuses %s', (_what, values, message) => {
    env(values);
    expect(readHandleKey({})).toEqual({ ok: false, code: 'InvalidConfig', message });
  });
});
