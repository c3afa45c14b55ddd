import { type BusinessUnitSettings, DEFAULT_BUSINESS_UNIT } from '../platform/business-unit.js';
import type { RunSpent } from '../platform/script-runs.js';

export type { RunSpent };

/**
 * What a run may spend: the business unit's settings of the same names (docs/security.md). "CPU"
 * is the time the run computes plus the time its actions wait for the platform; a WAIT, the
 * effects it carries out and its own yields to the event loop are not counted.
 */
export type RunBudgets = Pick<
  BusinessUnitSettings,
  'runCpuMsPerEvent' | 'runCpuMsTotal' | 'runMaxSteps' | 'runMaxResumes'
>;

export const DEFAULT_RUN_BUDGETS: RunBudgets = {
  runCpuMsPerEvent: DEFAULT_BUSINESS_UNIT.runCpuMsPerEvent,
  runCpuMsTotal: DEFAULT_BUSINESS_UNIT.runCpuMsTotal,
  runMaxSteps: DEFAULT_BUSINESS_UNIT.runMaxSteps,
  runMaxResumes: DEFAULT_BUSINESS_UNIT.runMaxResumes,
};

export const NOTHING_SPENT: Readonly<RunSpent> = Object.freeze({ steps: 0, resumes: 0, cpuMs: 0 });

/** A run computing this long without a break lets the event loop turn, so that it never holds the server longer. */
export const YIELD_AFTER_MS = 4;
/** Steps between looks at the meter: a step costs well under a microsecond, reading the meter a little more. */
export const STEPS_BETWEEN_LOOKS = 32;

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A run's account: its budgets, what it has spent, and the meter that measures its CPU time. */
export class RunBudget {
  readonly spent: RunSpent;
  /** Meter reading when the run last let the event loop turn. */
  lastYield: number;

  constructor(
    readonly limits: RunBudgets,
    spent: Readonly<RunSpent>,
    readonly meter: () => number,
    /** Actions one event may run (RunOptions.maxSteps): the safety net for an endless loop. */
    readonly maxStepsPerEvent: number,
  ) {
    this.spent = { ...spent };
    this.lastYield = meter();
  }

  /**
   * Opens the account of one event: a start, a resume, a signal — or the ONRELEASE handler,
   * which runs once whatever the run has spent (`lifetime` false: it is held to the per-event
   * limits only, so a run that failed for its lifetime budget still gets its clean-up).
   */
  beginEvent(lifetime: boolean): EventBudget {
    return new EventBudget(this, lifetime);
  }
}

/**
 * One event's account, kept by the run's drive. The drive calls `checkpoint` before step
 * `lookAt` (every STEPS_BETWEEN_LOOKS steps, and exactly where a step limit falls), which
 * charges the CPU time, refuses a step beyond a budget and lets the event loop turn when due;
 * the steps between cost one comparison. The time an action waits for the platform is charged;
 * a WAIT, the effects the run carries out (ending its contact) and the yields are not
 * (`pause`/`unpause`).
 */
export class EventBudget {
  /** The step (counted from 1 in this event) before which the drive must call `checkpoint`. */
  lookAt = 1;
  private cpuMs = 0;
  private segmentStart: number;
  /** Steps of this event already added to the run's `spent`. */
  private stepsCounted = 0;
  /** The time the last charge found, and the step of the last look: how long a step takes lately. */
  private lastCharged = 0;
  private lastLook = 1;
  /** A resume beyond runMaxResumes: refused at the next checkpoint. */
  private refusal: string | null = null;
  /** The last checkpoint refused its step: that step did not run. */
  private refused = false;

  constructor(
    private readonly run: RunBudget,
    private readonly lifetime: boolean,
  ) {
    this.segmentStart = run.meter();
  }

  /**
   * The run goes on after a WAIT or a signal, having run `steps` in this event so far: a resume
   * counted against runMaxResumes, and a new event (the per-event allowance starts afresh,
   * `steps` counts from 0 again).
   */
  resumed(steps: number): void {
    const { spent, limits } = this.run;
    this.countSteps(steps);
    this.stepsCounted = 0;
    this.charge();
    this.cpuMs = 0;
    spent.resumes++;
    if (this.lifetime && spent.resumes > limits.runMaxResumes)
      this.refusal = `budget exceeded: ${limits.runMaxResumes} resumes (WAITs and signals) over the run's life (runMaxResumes)`;
    this.lookAt = 1;
  }

  /**
   * Before step `step` of this event: the reason to refuse it (a budget spent), or null to run it
   * — after letting the event loop turn, if the run has computed YIELD_AFTER_MS without a break.
   */
  async checkpoint(step: number): Promise<string | null> {
    const refusal = this.look(step);
    if (refusal !== null) {
      this.refused = true;
      return refusal;
    }
    const run = this.run;
    if (this.segmentStart - run.lastYield >= YIELD_AFTER_MS) {
      await yieldTurn();
      this.unpause();
      run.lastYield = this.segmentStart;
    }
    const { limits, spent } = run;
    const lifetimeLeft = this.lifetime ? limits.runMaxSteps - spent.steps : Number.POSITIVE_INFINITY;
    // Steps that take milliseconds each (texts of a megabyte) are looked at one by one, or the
    // yield would come 32 of them late; cheap steps are looked at every STEPS_BETWEEN_LOOKS.
    const perStep = this.lastCharged / Math.max(1, step - this.lastLook);
    const every =
      perStep > 0
        ? Math.max(1, Math.min(STEPS_BETWEEN_LOOKS, Math.floor(YIELD_AFTER_MS / perStep)))
        : STEPS_BETWEEN_LOOKS;
    this.lastLook = step;
    this.lookAt = step + Math.min(every, run.maxStepsPerEvent + 1 - step, lifetimeLeft);
    return null;
  }

  private look(step: number): string | null {
    if (this.refusal !== null) return this.refusal;
    const { limits, spent, maxStepsPerEvent } = this.run;
    this.countSteps(step - 1);
    if (step > maxStepsPerEvent)
      return `step limit of ${maxStepsPerEvent} actions reached; is there an endless loop?`;
    if (this.lifetime && spent.steps >= limits.runMaxSteps)
      return `budget exceeded: ${limits.runMaxSteps} actions over the run's life (runMaxSteps)`;
    this.charge();
    if (this.cpuMs > limits.runCpuMsPerEvent)
      return `budget exceeded: ${limits.runCpuMsPerEvent} ms of CPU in one event (runCpuMsPerEvent)`;
    if (this.lifetime && spent.cpuMs > limits.runCpuMsTotal)
      return `budget exceeded: ${limits.runCpuMsTotal} ms of CPU over the run's life (runCpuMsTotal)`;
    return null;
  }

  /** The run is about to await something that is not its own work (an action's query, a WAIT, ending its contact). */
  pause(): void {
    this.charge();
  }

  unpause(): void {
    this.segmentStart = this.run.meter();
  }

  /** The event is over, having counted `steps` (the last of them refused if a checkpoint said so). */
  end(steps: number): void {
    this.countSteps(this.refused ? steps - 1 : steps);
    this.charge();
  }

  private countSteps(ran: number): void {
    this.run.spent.steps += ran - this.stepsCounted;
    this.stepsCounted = ran;
  }

  private charge(): void {
    const now = this.run.meter();
    const spent = now - this.segmentStart;
    this.lastCharged = spent;
    this.segmentStart = now;
    this.cpuMs += spent;
    this.run.spent.cpuMs += spent;
  }
}
