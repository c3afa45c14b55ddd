import { actions } from '../actions/registry.js';
import { systemClock } from '../clock.js';
import { readConfig, readHandleKey } from '../config.js';
import { demoWorld } from '../demo.js';
import { createLogger } from '../logger.js';
import { createPlatform } from '../platform/platform.js';
import { startServer } from '../serve.js';
import { openStore, redact } from '../storage/open-store.js';
import type { Store } from '../storage/store.js';
import { type Output, readText, readWorldFile } from './io.js';
import { formatFinding } from './validate-command.js';

export interface DatabaseFlags {
  db?: string;
}

/** Opens the configured store or says in one line why not (exit 1). */
async function withStore(
  flags: DatabaseFlags,
  io: Output,
  work: (store: Store, where: string) => Promise<number>,
): Promise<number> {
  const config = readConfig(flags);
  if (!config.ok) {
    io.err(`switchboard: ${config.message}\n`);
    return 2;
  }
  const opened = await openStore(config.value.db);
  if (!opened.ok) {
    io.err(`switchboard: ${opened.message}\n`);
    return opened.code === 'InvalidDatabase' ? 2 : 1;
  }
  try {
    return await work(opened.value, redact(config.value.db));
  } finally {
    await opened.value.close();
  }
}

/** Operations from the CLI act as the system, recorded in the audit log as `cli`. */
const CLI = { channel: 'cli' } as const;

export function migrateCommand(flags: DatabaseFlags, io: Output): Promise<number> {
  return withStore(flags, io, async (_store, where) => {
    io.out(`${where}: schema is up to date\n`);
    return 0;
  });
}

export function seedCommand(file: string, flags: DatabaseFlags, io: Output): Promise<number> {
  const read = readWorldFile(file);
  if (!read.ok) {
    io.err(`switchboard seed: ${read.message}\n`);
    return Promise.resolve(2);
  }
  const { world, scripts } = read.value;
  return withStore(flags, io, async (store, where) => {
    const used = await store.db.selectFrom('agents').select('id').limit(1).executeTakeFirst();
    const skills = await store.db.selectFrom('skills').select('id').limit(1).executeTakeFirst();
    if (used || skills) {
      io.err(
        `switchboard seed: ${where} already holds skills or agents; seed loads a world into an empty database\n`,
      );
      return 1;
    }
    // A seeded world starts now: its `now` is for simulations only.
    const platform = createPlatform({ store, clock: systemClock });
    const loaded = await platform.loadWorld(
      world,
      { files: scripts, catalog: actions },
      { channel: 'cli', via: 'seed' },
    );
    if (!loaded.ok) {
      io.err(`switchboard seed: ${file}: ${loaded.message}\n`);
      return 2;
    }
    await store.notify('wake');
    const snapshot = await platform.snapshot();
    io.out(
      `${where}: seeded ${snapshot.agents.length} agents, ${snapshot.contacts.length} contacts, ${snapshot.callbacks.length} callbacks\n`,
    );
    return 0;
  });
}

export function deployCommand(files: string[], flags: DatabaseFlags, io: Output): Promise<number> {
  return withStore(flags, io, async (store, where) => {
    const platform = createPlatform({ store, clock: systemClock });
    let exit = 0;
    for (const file of files) {
      const text = readText(file);
      if (!text.ok) {
        io.err(`switchboard deploy: ${text.message}\n`);
        exit = 2;
        continue;
      }
      const deployed = await platform.deployScript(text.value, actions, CLI);
      if (!deployed.ok) {
        io.err(`switchboard deploy: ${file}: ${deployed.message} (run switchboard validate ${file})\n`);
        exit = exit || 1;
        continue;
      }
      // The warnings the API answers a deploy with (PUT /scripts/{name}): the script is deployed all the same.
      for (const f of deployed.value.findings) io.err(`${formatFinding(file, f)}\n`);
      io.out(`${where}: deployed script '${deployed.value.script.name}' from ${file}\n`);
    }
    return exit;
  });
}

export function tokenCreateCommand(
  agent: string,
  flags: DatabaseFlags & { label?: string },
  io: Output,
): Promise<number> {
  return withStore(flags, io, async (store) => {
    const id = Number(agent);
    if (!Number.isSafeInteger(id) || id < 1) {
      io.err(`switchboard token create: --agent '${agent}' is not an agent ID\n`);
      return 2;
    }
    const platform = createPlatform({ store, clock: systemClock });
    const created = await platform.createToken(id, flags.label ?? 'cli', CLI);
    if (!created.ok) {
      io.err(`switchboard token create: ${created.message}\n`);
      return 1;
    }
    io.out(`${created.value.token}\n`);
    return 0;
  });
}

export function tokenRevokeCommand(ref: string, flags: DatabaseFlags, io: Output): Promise<number> {
  return withStore(flags, io, async (store) => {
    const platform = createPlatform({ store, clock: systemClock });
    const revoked = await platform.revokeToken(ref, CLI);
    if (!revoked.ok) {
      io.err(`switchboard token revoke: ${revoked.message}\n`);
      return 1;
    }
    io.out(`token ${revoked.value.id} revoked\n`);
    return 0;
  });
}

export function contactEndCommand(
  id: string,
  flags: DatabaseFlags & { reason?: string },
  io: Output,
): Promise<number> {
  return withStore(flags, io, async (store) => {
    const platform = createPlatform({ store, clock: systemClock });
    const ended = await platform.endContact(id, flags.reason ?? 'EndedByOperator', CLI);
    if (!ended.ok) {
      io.err(`switchboard contact end: ${ended.message}\n`);
      return 1;
    }
    await store.notify('wake');
    io.out(`contact ${ended.value.id} ended (${ended.value.disconnectReason})\n`);
    return 0;
  });
}

export function contactSignalCommand(
  id: string,
  params: string[],
  flags: DatabaseFlags,
  io: Output,
): Promise<number> {
  return withStore(flags, io, async (store) => {
    const platform = createPlatform({ store, clock: systemClock });
    const signaled = await platform.signalContact(id, params, CLI);
    if (!signaled.ok) {
      io.err(`switchboard contact signal: ${signaled.message}\n`);
      return 1;
    }
    await store.notify('wake');
    io.out(`contact ${signaled.value.id} signaled\n`);
    return 0;
  });
}

/** `switchboard keys rotate`: a new signing key, and what became of the others. */
export function keysRotateCommand(
  flags: DatabaseFlags & { retireOld?: boolean },
  io: Output,
): Promise<number> {
  return withStore(flags, io, async (store, where) => {
    const external = readHandleKey({});
    if (external.ok && external.value) {
      io.err(
        `switchboard keys rotate: note: ${external.value.from} is set; a server given it signs with that key and uses none of the database's\n`,
      );
    }
    const platform = createPlatform({ store, clock: systemClock });
    const rotation = await platform.rotateSigningKeys({ retireOld: flags.retireOld ?? false }, CLI);
    const ids = (list: number[]) => `${list.length === 1 ? 'key' : 'keys'} ${list.join(', ')}`;
    io.out(`${where}: added signing key ${rotation.added}; security users are signed with it from now on\n`);
    if (rotation.retired.length > 0) {
      io.out(
        flags.retireOld
          ? `retired ${ids(rotation.retired)}: the security users they signed no longer resolve\n`
          : `retired ${ids(rotation.retired)}: every security user they signed has expired\n`,
      );
    }
    for (const kept of rotation.kept) {
      io.out(
        `key ${kept.id} verifies the security users it signed until ${new Date(kept.verifiesUntil).toISOString()} (--retire-old retires it now)\n`,
      );
    }
    return 0;
  });
}

/** On an empty database: the demo business unit and a supervisor token, printed once. */
async function seedDemo(store: Store, io: Output): Promise<void> {
  const empty = !(await store.db.selectFrom('agents').select('id').limit(1).executeTakeFirst());
  if (!empty) return;
  const platform = createPlatform({ store, clock: systemClock });
  const loaded = await platform.loadWorld(demoWorld(systemClock.now()), undefined, {
    channel: 'cli',
    via: 'serve --demo',
  });
  if (!loaded.ok) throw new Error(`the demo world does not load: ${loaded.message}`);
  const token = await platform.createToken(1001, 'demo supervisor', CLI);
  if (!token.ok) throw new Error(token.message);
  io.out(
    `Created the demo business unit: 3 skills, 3 agents, 3 queued contacts, 3 callbacks due in 2, 10 and 60 minutes.\n` +
      `Supervisor token (agent 1001, sofia; shown once): ${token.value.token}\n`,
  );
}

/** `switchboard serve`: runs until SIGTERM/SIGINT, then finishes the work in flight and exits 0. */
export async function serveCommand(
  flags: DatabaseFlags & {
    logLevel?: string;
    port?: string;
    host?: string;
    demo?: boolean;
    handleKeyFile?: string;
  },
  io: Output,
  signals: { once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): void },
): Promise<number> {
  const config = readConfig(flags);
  if (!config.ok) {
    io.err(`switchboard serve: ${config.message}\n`);
    return 2;
  }
  const handleKey = readHandleKey(flags);
  if (!handleKey.ok) {
    io.err(`switchboard serve: ${handleKey.message}\n`);
    return 2;
  }
  const log = createLogger(config.value.logLevel);
  const opened = await openStore(config.value.db, {
    onConnectionError: (err) => log.warn({ err }, 'database connection lost; the pool reconnects'),
  });
  if (!opened.ok) {
    io.err(`switchboard serve: ${opened.message}\n`);
    return opened.code === 'InvalidDatabase' ? 2 : 1;
  }
  const store = opened.value;
  if (flags.demo) await seedDemo(store, io);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      store,
      log,
      port: config.value.port,
      ...(flags.host ? { host: flags.host } : {}),
      ...(handleKey.value ? { handleKey: handleKey.value.key } : {}),
    });
  } catch (e) {
    await store.close();
    const error = e as Error & { code?: string };
    const why =
      error.code === 'EADDRINUSE'
        ? `port ${config.value.port} is in use (choose another with --port)`
        : error.message;
    io.err(`switchboard serve: ${why}\n`);
    return 1;
  }
  io.out(
    `Switchboard is running at ${server.url} on ${redact(config.value.db)} — API docs at ${server.url}/docs\n` +
      `A bearer token for an agent: npx switchboard token create --agent ID${flags.db ? ` --db ${redact(flags.db)}` : ''}\n`,
  );
  await new Promise<void>((resolve) => {
    signals.once('SIGTERM', resolve);
    signals.once('SIGINT', resolve);
  });
  log.info('shutting down: finishing the work in flight');
  await server.stop();
  await store.close();
  return 0;
}
