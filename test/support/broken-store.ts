import { actions } from '../../src/actions/registry.js';
import { createSimulatedClock } from '../../src/clock.js';
import { createPlatform } from '../../src/platform/platform.js';
import { compileScript } from '../../src/runtime/compile.js';
import { ScriptRun } from '../../src/runtime/run.js';
import type { ScriptAction } from '../../src/script/types.js';
import { openSqliteStore } from '../../src/storage/sqlite/open-sqlite.js';

/** A platform whose every transaction fails, as when the database is down. */
export async function brokenPlatform() {
  const store = await openSqliteStore(':memory:');
  const broken = {
    ...store,
    transaction: async () => {
      throw new Error('database unavailable');
    },
  };
  const platform = createPlatform({ store: broken, clock: createSimulatedClock(0) });
  return { platform, close: () => store.close() };
}

/** Runs a script whose platform fails every transaction, as when the database is down. */
export async function runWithBrokenStore(scriptActions: ScriptAction[]) {
  const { platform, close } = await brokenPlatform();
  const run = new ScriptRun(
    compileScript({ name: 'broken', actions: scriptActions }, actions),
    { id: 1 },
    { platform, wait: async () => 'continue' as const },
  );
  const outcome = await run.start();
  await close();
  return { outcome, trace: run.trace, variables: run.variables.toObject() };
}
