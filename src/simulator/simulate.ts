import { randomUUID } from 'node:crypto';
import type { ActionRegistry } from '../actions/registry.js';
import { createSimulatedClock, type SimulatedClock, systemClock } from '../clock.js';
import { createLogger } from '../logger.js';
import type { PlatformEvent } from '../platform/events.js';
import { createPlatform } from '../platform/platform.js';
import type { Agent, AuditEntry, Contact, ScheduledCallback } from '../platform/resources.js';
import { agentAsDeployer, type DetachedRun } from '../platform/security.js';
import { checkWorld, worldNow } from '../platform/world.js';
import { fail, ok, type Result } from '../result.js';
import type { CompiledScript } from '../runtime/compile.js';
import { type RunOutcome, ScriptRun, type TraceEntry } from '../runtime/run.js';
import { createRunWorker } from '../scheduler/run-worker.js';
import { createTick } from '../scheduler/tick.js';
import type { Store } from '../storage/store.js';

export interface Signal {
  /** When to send it (epoch ms); sent once the run has parked, at the latest. */
  at?: number;
  params: string[];
}

export interface SimulateOptions {
  script: CompiledScript;
  actions: ActionRegistry;
  /** An empty, migrated store: the simulation's world lives here. */
  store: Store;
  /** A world fixture, checked by `loadWorld`. */
  world?: unknown;
  /** Scripts the world's skills run, deployed before the run (a world file's `scripts`, read by the caller). */
  scripts?: ReadonlyArray<{ file: string; text: string }>;
  variables?: Readonly<Record<string, string>>;
  /** Start of the simulated clock (epoch ms); default the world's `now`, else the current second. */
  now?: number;
  /** After the run parks or ends, advance the clock to here, dispatching and routing what falls due. */
  until?: number;
  /** ONSIGNAL events for a run parked at STOP. */
  signals?: readonly Signal[];
  maxSteps?: number;
  trace?: boolean;
  /**
   * The script's deployer, an agent of the world (ID or username): its SETSECURITYUSER may then
   * assume only agents within that agent's permissions, as on the server. Absent: no check.
   */
  deployedBy?: string;
  /** ID of the simulated run, which the security users it is issued are bound to. Default: a random UUID. */
  runId?: string;
}

/**
 * One line of a simulation's trace: an action the simulated script ran (`id`, `action`, `branch`…);
 * an action of a skill's script (the same, with `script` and `contactId`); or an event on the
 * simulated clock (`event`, a DESIGN §8 name, with the ids it concerns).
 */
export interface TraceStep extends Partial<Omit<TraceEntry, 'at'>> {
  at: string;
  script?: string;
  event?: PlatformEvent['type'];
  contactId?: number;
  callbackId?: number;
  agentId?: number | null;
  skillId?: number | null;
  targetAgentId?: number | null;
  from?: string;
  to?: string;
  reason?: string;
  lateMs?: number;
  scheduledFor?: string;
}

/** DESIGN §4: the JSON `switchboard run --json` prints. */
export interface SimulationReport {
  outcome: RunOutcome;
  contactId: number;
  trace: TraceStep[];
  variables: Record<string, unknown>;
  world: { contacts: Contact[]; callbacks: ScheduledCallback[]; agents: Agent[]; audit: AuditEntry[] };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Events a reader of a trace wants to see; the rest (a contact created, a run queued) other lines already say. */
const TRACED: ReadonlySet<PlatformEvent['type']> = new Set([
  'contact.queued',
  'contact.routed',
  'contact.ended',
  'callback.scheduled',
  'callback.rescheduled',
  'callback.canceled',
  'callback.dispatched',
  'callback.delivered',
  'callback.completed',
  'agent.state_changed',
]);

/**
 * A platform on a simulated clock, moved forward by the same tick the server's scheduler runs:
 * due callbacks dispatched and routed, skill scripts run, at their own times. `steps` collects
 * what the tick did, for a trace.
 */
export function createSimulation(options: {
  store: Store;
  clock: SimulatedClock;
  actions: ActionRegistry;
  /** Scripts act within their deployer's permissions (PlatformOptions). Default: not checked. */
  actWithinDeployer?: boolean;
}) {
  const { store, clock } = options;
  /** The runs the simulation drives itself, outside the work queue, by contact. */
  const detached = new Map<number, DetachedRun>();
  const platform = createPlatform({
    store,
    clock,
    scriptsActWithinDeployer: options.actWithinDeployer ?? false,
    detachedRun: (contactId) => detached.get(contactId),
  });
  /**
   * What the tick did, each with how many steps the simulated script had taken by then. A skill
   * script's action is rendered at the end: a note may be added to it after it is told.
   */
  const steps: Array<{ step: () => TraceStep; after: number }> = [];
  let ownSteps = () => 0;
  let tracing = false;
  platform.on((event) => {
    if (!tracing || !TRACED.has(event.type)) return;
    steps.push({ step: () => traceStepOf(event), after: ownSteps() });
  });
  const log = createLogger('silent');
  const runs = createRunWorker({
    platform,
    actions: options.actions,
    log,
    owner: 'simulator',
    onTrace: ({ contactId, script }, entry) => {
      steps.push({ step: () => ({ ...entry, at: iso(entry.at), script, contactId }), after: ownSteps() });
    },
  });
  const tick = createTick({ platform, runs, log });

  return {
    platform,
    clock,
    /** Tells the platform of a run the simulation drives itself (its script, deployer, ID). */
    detach(contactId: number, run: DetachedRun) {
      detached.set(contactId, run);
    },
    /** What the tick did since the simulation began, in the order it happened. */
    steps,
    /**
     * From now on, what happens goes into `steps`; `count` says how far the simulated script has
     * got, so that its steps and the others interleave in the order they happened.
     */
    trace(count: () => number = () => 0) {
      tracing = true;
      ownSteps = count;
    },
    /**
     * Moves simulated time forward to `until`, stopping at every moment something falls due on the
     * way, so that it happens at its own time, exactly as the server's scheduler would do it.
     */
    async advanceTo(until: number): Promise<void> {
      for (;;) {
        const turn = await tick.run();
        if (turn.next === null || turn.next > until) break;
        // Due now and nothing done (cannot happen with one process): stop rather than spin.
        if (turn.next <= clock.now() && !turn.progressed) break;
        clock.set(Math.max(turn.next, clock.now()));
      }
      clock.set(until);
    },
  };
}

/** Runs a script for one new contact against a world, fully offline, and reports what happened. */
export async function simulate(
  options: SimulateOptions,
): Promise<Result<SimulationReport, 'InvalidWorld' | 'InvalidUntil' | 'InvalidDeployer'>> {
  let world: Parameters<typeof worldNow>[0] | undefined;
  if (options.world !== undefined) {
    const checked = checkWorld(options.world);
    if (!checked.ok) return checked;
    world = checked.value;
  }
  const start = options.now ?? (world && worldNow(world)) ?? Math.floor(systemClock.now() / 1000) * 1000;
  if (options.until !== undefined && options.until < start) {
    return fail(
      'InvalidUntil',
      `--until ${iso(options.until)} is before the start of the run, ${iso(start)}`,
    );
  }
  const simulation = createSimulation({
    store: options.store,
    clock: createSimulatedClock(start),
    actions: options.actions,
    actWithinDeployer: options.deployedBy !== undefined,
  });
  const { platform, clock } = simulation;
  if (world !== undefined) {
    const loaded = await platform.loadWorld(world, {
      files: options.scripts ?? [],
      catalog: options.actions,
    });
    if (!loaded.ok) return loaded;
  }
  let deployer: DetachedRun['deployer'];
  if (options.deployedBy !== undefined) {
    const found = await agentAsDeployer(options.store.db, options.deployedBy);
    if (!found.ok) return fail('InvalidDeployer', `--deployed-by: ${found.message} in the world`);
    deployer = found.value;
  }
  // From here, everything that happens is in the trace; the script's own contact is created
  // before its steps are counted.
  let run: ScriptRun | undefined;
  simulation.trace(() => run?.trace.length ?? 0);
  await simulation.advanceTo(start);

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
  simulation.detach(contact.id, {
    runId: options.runId ?? randomUUID(),
    scriptName: options.script.name,
    ...(deployer ? { deployer } : {}),
  });
  run = new ScriptRun(
    options.script,
    { id: contact.id, ani: contact.ani, dnis: contact.dnis, skillId: contact.skillId },
    {
      platform,
      wait: async (ms) => {
        await simulation.advanceTo(clock.now() + ms);
        return 'continue';
      },
    },
    {
      variables: vars,
      ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    },
  );
  // The run hears its contact end only while it drives; parked at STOP, it is told here, as the
  // server's worker tells a parked run: ONRELEASE comes before any later signal.
  let contactEnded = false;
  const stopWatching = platform.on((event) => {
    if (event.type === 'contact.ended' && event.contactId === contact.id) contactEnded = true;
  });
  let outcome = await run.start();
  const advanceTo = async (to: number) => {
    if (to > clock.now()) await simulation.advanceTo(to);
    if (contactEnded && outcome === 'stopped') outcome = (await run?.release()) ?? outcome;
  };
  try {
    const signals = [...(options.signals ?? [])].sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
    for (const signal of signals) {
      if (outcome !== 'stopped') break;
      if (signal.at !== undefined) await advanceTo(signal.at);
      // Released on the way: the signal finds no script to deliver to.
      if (outcome !== 'stopped') break;
      outcome = (await run.signal(signal.params)) ?? outcome;
    }
    if (options.until !== undefined) await advanceTo(options.until);
  } finally {
    stopWatching();
  }

  // The script's steps and the tick's, in the order they happened.
  const trace: TraceStep[] = [];
  let ticked = 0;
  const tickedUpTo = (count: number) => {
    for (; ticked < simulation.steps.length && (simulation.steps[ticked]?.after ?? 0) <= count; ticked++)
      trace.push((simulation.steps[ticked] as { step: () => TraceStep }).step());
  };
  run.trace.forEach((t, i) => {
    tickedUpTo(i);
    trace.push({ ...t, at: iso(t.at) });
  });
  tickedUpTo(Number.POSITIVE_INFINITY);
  return ok({
    outcome,
    contactId: contact.id,
    trace,
    variables: run.variables.toObject(),
    world: await platform.snapshot(),
  });
}

/** An event as a trace line: its ids, its times as ISO instants. */
function traceStepOf(event: PlatformEvent): TraceStep {
  const { type, at, ...fields } = event;
  const step: Record<string, unknown> = { at: iso(at), event: type };
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'dueAt') step.scheduledFor = iso(Number(value));
    // Whether a parked script still owes its ONRELEASE is the scheduler's business, not the trace's.
    else if (key !== 'scriptOwed') step[key] = value;
  }
  return step as unknown as TraceStep;
}
