import { actions } from '../../src/actions/registry.js';
import { createSimulatedClock } from '../../src/clock.js';
import { compileScript } from '../../src/runtime/compile.js';
import type { ScriptAction, ScriptType } from '../../src/script/types.js';
import { createSimulation, simulate } from '../../src/simulator/simulate.js';
import { openSqliteStore } from '../../src/storage/sqlite/open-sqlite.js';
import { baseWorld, NOW } from './simulate.js';

export type OpenWorld = Awaited<ReturnType<typeof openWorld>>;

/**
 * A world loaded into its own in-memory store, driven through the platform facade on a
 * simulated clock. Scripts can then run against that same store (`runScript`), so a test can
 * prepare state no script can reach (a canceled callback, a handle issued before a change).
 */
export async function openWorld(world: Record<string, unknown> = baseWorld()) {
  const store = await openSqliteStore(':memory:');
  const clock = createSimulatedClock(Date.parse(String(world.now ?? NOW)));
  const simulation = createSimulation({ store, clock, actions });
  const { platform } = simulation;
  const loaded = await platform.loadWorld(world);
  if (!loaded.ok) {
    await store.close();
    throw new Error(loaded.message);
  }
  return {
    store,
    clock,
    platform,
    /** Moves the clock to `iso`, dispatching and routing everything due on the way. */
    advanceTo: (iso: string) => simulation.advanceTo(Date.parse(iso)),
    snapshot: () => platform.snapshot(),
    /** Runs a script for a new contact against this world, from the clock's current time. */
    async runScript(
      scriptActions: ScriptAction[],
      options: {
        variables?: Record<string, string>;
        until?: string;
        mediaType?: ScriptType;
        /** The run's ID: a security user issued in one runScript resolves in another with the same. */
        runId?: string;
      } = {},
    ) {
      const script = compileScript(
        { name: 'test', mediaType: options.mediaType ?? 'Generic', actions: scriptActions },
        actions,
      );
      const report = await simulate({
        script,
        actions,
        store,
        now: clock.now(),
        ...(options.variables ? { variables: options.variables } : {}),
        ...(options.until ? { until: Date.parse(options.until) } : {}),
        ...(options.runId ? { runId: options.runId } : {}),
      });
      if (!report.ok) throw new Error(report.message);
      return report.value;
    },
    close: () => store.close(),
  };
}

/** `world` with some agents' fields changed, by agent ID; a field changed to undefined is removed. */
export function withAgents<W extends { agents: ReadonlyArray<{ id: number }> }>(
  world: W,
  changes: Record<number, Record<string, unknown>>,
): W {
  const agents = world.agents.map((a) => {
    const changed: Record<string, unknown> = { ...a, ...changes[a.id] };
    for (const key of Object.keys(changed)) if (changed[key] === undefined) delete changed[key];
    return changed;
  });
  return { ...world, agents };
}
