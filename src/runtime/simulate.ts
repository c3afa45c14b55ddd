import { createSimulatedClock } from '../clock.js';
import type { Agent, AuditEntry, Contact, ScheduledCallback } from '../platform/model.js';
import { createPlatform, type Platform } from '../platform/platform.js';
import { fail, ok, type Result } from '../result.js';
import type { Store } from '../storage/store.js';
import type { CompiledScript } from './compile.js';
import { type RunOutcome, ScriptRun, type TraceEntry } from './run.js';

export interface Signal {
  /** When to send it (epoch ms); sent once the run has parked, at the latest. */
  at?: number;
  params: string[];
}

export interface SimulateOptions {
  script: CompiledScript;
  /** An empty, migrated store: the simulation's world lives here. */
  store: Store;
  /** A world fixture, checked by `loadWorld`. */
  world?: unknown;
  variables?: Readonly<Record<string, string>>;
  /** Start of the simulated clock (epoch ms); default the world's `now`, else the current second. */
  now?: number;
  /** After the run parks or ends, advance the clock to here, dispatching and routing what falls due. */
  until?: number;
  /** ONSIGNAL events for a run parked at STOP. */
  signals?: readonly Signal[];
  maxSteps?: number;
  trace?: boolean;
}

/** DESIGN §4: the JSON `switchboard run --json` prints. */
export interface SimulationReport {
  outcome: RunOutcome;
  contactId: number;
  trace: Array<Omit<TraceEntry, 'at'> & { at: string }>;
  variables: Record<string, unknown>;
  world: { contacts: Contact[]; callbacks: ScheduledCallback[]; agents: Agent[]; audit: AuditEntry[] };
}

/**
 * Moves simulated time forward to `until`, stopping at every moment something falls due on the
 * way (a callback, a target agent's wait running out) so that it is dispatched and routed at
 * its own time, exactly as the server's scheduler would.
 */
export async function advanceTo(
  platform: Platform,
  clock: { set(ms: number): void; now(): number },
  until: number,
) {
  for (;;) {
    await platform.dispatchDue();
    await platform.route();
    const next = await platform.nextWakeAt();
    if (next === null || next > until) break;
    clock.set(Math.max(next, clock.now()));
  }
  clock.set(until);
}

/** Runs a script for one new contact against a world, fully offline, and reports what happened. */
export async function simulate(
  options: SimulateOptions,
): Promise<Result<SimulationReport, 'InvalidWorld' | 'InvalidUntil'>> {
  const worldNow = (options.world as { now?: unknown } | undefined)?.now;
  const start =
    options.now ??
    (typeof worldNow === 'string' && !Number.isNaN(Date.parse(worldNow))
      ? Date.parse(worldNow)
      : Math.floor(Date.now() / 1000) * 1000);
  if (options.until !== undefined && options.until < start) {
    return fail(
      'InvalidUntil',
      `--until ${new Date(options.until).toISOString()} is before the start of the run, ${new Date(start).toISOString()}`,
    );
  }
  const clock = createSimulatedClock(start);
  const platform = createPlatform({ store: options.store, clock });
  if (options.world !== undefined) {
    const loaded = await platform.loadWorld(options.world);
    if (!loaded.ok) return loaded;
  }
  await advanceTo(platform, clock, start);

  const vars = options.variables ?? {};
  const pick = (name: string) => Object.entries(vars).find(([k]) => k.toLowerCase() === name)?.[1];
  const skillId = Number(pick('skillid'));
  const contact = await platform.startContact(
    {
      mediaType: options.script.scriptType,
      direction: 'Inbound',
      state: 'Active',
      skillId: Number.isSafeInteger(skillId) && skillId > 0 ? skillId : null,
      ani: pick('ani') ?? null,
      dnis: pick('dnis') ?? null,
    },
    { channel: 'script', via: options.script.name },
  );
  const run = new ScriptRun(
    options.script,
    { id: contact.id, ani: contact.ani, dnis: contact.dnis, skillId: contact.skillId },
    {
      platform,
      wait: async (ms) => {
        await advanceTo(platform, clock, clock.now() + ms);
        return 'continue';
      },
    },
    {
      variables: vars,
      ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    },
  );
  let outcome = await run.start();

  const signals = [...(options.signals ?? [])].sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  for (const signal of signals) {
    if (outcome !== 'stopped') break;
    if (signal.at !== undefined && signal.at > clock.now()) await advanceTo(platform, clock, signal.at);
    outcome = (await run.signal(signal.params)) ?? outcome;
  }
  if (options.until !== undefined && options.until > clock.now())
    await advanceTo(platform, clock, options.until);

  const iso = (ms: number) => new Date(ms).toISOString();
  return ok({
    outcome,
    contactId: contact.id,
    trace: run.trace.map((t) => ({ ...t, at: iso(t.at) })),
    variables: run.variables.toObject(),
    world: await platform.snapshot(),
  });
}
