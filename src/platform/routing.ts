import type { ExpressionBuilder } from 'kysely';
import type { Database } from '../storage/schema.js';
import type { Executor } from '../storage/store.js';
import { changeAgentState } from './agents.js';
import { type AuditRecord, recordAudit } from './audit.js';
import { transitionCallbacks } from './callback-states.js';
import { recordEvents } from './events.js';
import { type OperationContext, SCHEDULER } from './model.js';
import { unqueueContact } from './queue.js';
import { queueRun } from './script-runs.js';

export interface RoutedContact {
  contactId: number;
  agentId: number;
  callbackId: number | null;
}

export interface RoutingOptions {
  /**
   * PostgreSQL, where several transactions route at once: every row routing changes is first
   * locked with SKIP LOCKED. SQLite has one writer at a time and needs none.
   */
  lockRows: boolean;
  /**
   * What caused this routing (an API call that freed an agent, the scheduler's tick): the audit
   * names it, and a skill's script started here records it as who started the contact.
   */
  cause?: OperationContext;
}

/** An agent set Available by hand while still on a contact must not be given a second one. */
function onNoContact({ not, exists, selectFrom }: ExpressionBuilder<Database, 'agents'>) {
  return not(
    exists(
      selectFrom('contacts')
        .select('contacts.id')
        .whereRef('contacts.agent_id', '=', 'agents.id')
        .where('contacts.state', '=', 'Active'),
    ),
  );
}

/** Compound SELECTs per statement: SQLite allows 500; stay well under. */
const SKILLS_PER_QUERY = 100;

interface Candidate {
  contactId: number;
  skillId: number | null;
  targetAgentId: number | null;
  /** Only the target agent may take it (its wait has not run out). */
  targetOnly: boolean;
  priority: number;
  queuedAt: number;
}

/**
 * Offers queued contacts to the agents who can take work: highest priority first, then queue
 * order; each goes to its target agent while the target wait lasts, else to the longest-idle
 * Available agent with its skill. Its cost follows the free agents, never the backlog: it reads
 * the free agents and their skills, then — in one statement — for each of those skills only as
 * many queued contacts as there are free agents with it (an index range each), plus the contacts
 * waiting for one of those agents; it assigns in that order and stops when no agent is left.
 *
 * Under races (PostgreSQL) it does not fail: each contact and agent is locked with SKIP LOCKED
 * before it is changed, and one held by another transaction is passed over — that transaction is
 * routing or ending it. What was passed over is reported (`routing.contended`), so the scheduler
 * looks again shortly. The other rows an assignment changes (the queue entry, the callback) belong
 * to the locked contact, so routing waits for no lock a contact's owner does not already hold;
 * what does wait takes locks in the platform's one order (CONTRIBUTING.md).
 */
export async function routeQueuedContacts(
  db: Executor,
  now: number,
  options: RoutingOptions,
): Promise<RoutedContact[]> {
  const free = await db
    .selectFrom('agents')
    .select('agents.id')
    .where('agents.state', '=', 'Available')
    .where('agents.active', '=', 1)
    .where(onNoContact)
    .orderBy('agents.state_since')
    .orderBy('agents.id')
    .execute();
  if (free.length === 0) return [];
  /** Free agents, longest idle first; each leaves the list when it gets a contact or is lost to a lock. */
  const idle = free.map((a) => Number(a.id));
  const skillsOf = new Map<number, Set<number>>(idle.map((id) => [id, new Set()]));
  const agentsPerSkill = new Map<number, number>();
  for (const row of await db
    .selectFrom('agent_skills')
    .select(['agent_id', 'skill_id'])
    .where('agent_id', 'in', idle)
    .execute()) {
    const skill = Number(row.skill_id);
    skillsOf.get(Number(row.agent_id))?.add(skill);
    agentsPerSkill.set(skill, (agentsPerSkill.get(skill) ?? 0) + 1);
  }

  const candidates = await readCandidates(db, now, idle, agentsPerSkill);
  if (candidates.length === 0) return [];

  const routed: RoutedContact[] = [];
  const audit: AuditRecord[] = [];
  const skillScripts = new Map<number, string | null>();
  const cause = options.cause ?? SCHEDULER;
  let skipped = 0;
  for (const candidate of candidates) {
    if (idle.length === 0) break;
    const eligible = idle.filter((agentId) =>
      candidate.targetOnly
        ? agentId === candidate.targetAgentId
        : candidate.skillId !== null && skillsOf.get(agentId)?.has(candidate.skillId),
    );
    if (eligible.length === 0) continue;
    let contactQuery = db
      .selectFrom('contacts')
      .select(['id', 'callback_id'])
      .where('id', '=', candidate.contactId)
      .where('state', '=', 'Queued');
    if (options.lockRows) contactQuery = contactQuery.forUpdate().skipLocked();
    const contact = await contactQuery.executeTakeFirst();
    if (!contact) {
      skipped++;
      continue;
    }
    const agentId = await takeAgent(db, eligible, options);
    for (const lost of agentId.lost) idle.splice(idle.indexOf(lost), 1);
    skipped += agentId.lost.length;
    if (agentId.taken === undefined) continue;
    idle.splice(idle.indexOf(agentId.taken), 1);
    const callbackId = contact.callback_id === null ? null : Number(contact.callback_id);
    await assign(db, now, candidate, agentId.taken, callbackId, skillScripts, cause);
    routed.push({ contactId: candidate.contactId, agentId: agentId.taken, callbackId });
    audit.push({
      action: 'contact.routed',
      targetType: 'contact',
      targetId: candidate.contactId,
      details: { agentId: agentId.taken, callbackId },
    });
  }
  const via = cause.via ? `${cause.via}, routing` : 'routing';
  await recordAudit(db, now, cause.channel === 'scheduler' ? cause : { ...cause, via }, audit);
  if (skipped > 0) recordEvents(db, [{ type: 'routing.contended', at: now, skipped }]);
  return routed;
}

/**
 * The queued contacts the free agents could take, in queue order: those waiting for one of them,
 * and for each of their skills the first `agentsPerSkill` contacts any agent with the skill may take.
 */
async function readCandidates(
  db: Executor,
  now: number,
  idle: readonly number[],
  agentsPerSkill: ReadonlyMap<number, number>,
): Promise<Candidate[]> {
  const columns = [
    'contact_id',
    'skill_id',
    'target_agent_id',
    'target_until',
    'priority',
    'queued_at',
  ] as const;
  const rows = await db
    .selectFrom('queue_entries')
    .select(columns)
    .where('target_agent_id', 'in', idle)
    .where((eb) => eb.or([eb('target_until', 'is', null), eb('target_until', '>', now)]))
    .execute();
  const skills = [...agentsPerSkill.keys()];
  for (let i = 0; i < skills.length; i += SKILLS_PER_QUERY) {
    const perSkill = skills.slice(i, i + SKILLS_PER_QUERY).map((skillId, n) =>
      db
        .selectFrom((eb) =>
          eb
            .selectFrom('queue_entries')
            .select(columns)
            .where('skill_id', '=', skillId)
            // Not while it waits for its target agent.
            .where((w) => w.or([w('target_agent_id', 'is', null), w('target_until', '<=', now)]))
            .orderBy('priority', 'desc')
            .orderBy('queued_at')
            .orderBy('contact_id')
            .limit(agentsPerSkill.get(skillId) ?? 0)
            .as(`s${n}`),
        )
        .selectAll(),
    );
    const [first, ...rest] = perSkill;
    if (!first) continue;
    rows.push(...(await rest.reduce((q, next) => q.unionAll(next), first).execute()));
  }
  return rows
    .map((r) => ({
      contactId: Number(r.contact_id),
      skillId: r.skill_id === null ? null : Number(r.skill_id),
      targetAgentId: r.target_agent_id === null ? null : Number(r.target_agent_id),
      targetOnly: r.target_agent_id !== null && (r.target_until === null || now < Number(r.target_until)),
      priority: Number(r.priority),
      queuedAt: Number(r.queued_at),
    }))
    .sort((a, b) => b.priority - a.priority || a.queuedAt - b.queuedAt || a.contactId - b.contactId);
}

/** The first of `eligible` still Available and not held by another transaction; and those that were. */
async function takeAgent(
  db: Executor,
  eligible: readonly number[],
  options: RoutingOptions,
): Promise<{ taken?: number; lost: number[] }> {
  // One writer (SQLite): the agents read at the start are as they were; nothing to lock.
  if (!options.lockRows) return { taken: eligible[0] as number, lost: [] };
  const lost: number[] = [];
  for (const agentId of eligible) {
    const agent = await db
      .selectFrom('agents')
      .select('id')
      .where('id', '=', agentId)
      .where('state', '=', 'Available')
      .where('active', '=', 1)
      // The free list's rule again, under the lock: the agent may have changed since it was read.
      .where(onNoContact)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (agent) return { taken: agentId, lost };
    lost.push(agentId);
  }
  return { lost };
}

/** Gives the (locked) contact to the (locked) agent. */
async function assign(
  db: Executor,
  now: number,
  candidate: Candidate,
  agentId: number,
  callbackId: number | null,
  skillScripts: Map<number, string | null>,
  cause: OperationContext,
) {
  const { contactId, skillId } = candidate;
  // Each step must change exactly what it names: the locks make it so, and a miss would hand
  // one contact to two agents. Fail the transaction rather than commit half an assignment.
  const unqueued = await unqueueContact(db, contactId);
  const activated = await db
    .updateTable('contacts')
    .set({ state: 'Active', agent_id: agentId, updated_at: now })
    .where('id', '=', contactId)
    .where('state', '=', 'Queued')
    .executeTakeFirst();
  if (!unqueued || Number(activated.numUpdatedRows) !== 1) {
    throw new Error(`routing invariant: contact ${contactId} was no longer queued under its lock`);
  }
  recordEvents(db, [{ type: 'contact.routed', at: now, contactId, agentId, callbackId }]);
  // A delivered callback puts the agent Outbound; any other queued contact (QUEUECALLBACK
  // included) is taken in the ACD state, Inbound.
  const left = await changeAgentState(db, now, agentId, callbackId === null ? 'Inbound' : 'Outbound', [
    'Available',
  ]);
  if (left !== 'Available') {
    throw new Error(`routing invariant: agent ${agentId} was no longer Available under its lock`);
  }
  if (callbackId !== null) {
    const moved = await transitionCallbacks(db, now, [callbackId], 'Delivered', { agentId });
    if (moved.length !== 1) {
      throw new Error(`routing invariant: callback ${callbackId} could not be delivered`);
    }
  }
  // "A custom outbound script associated with the skill" runs for the contact it delivers;
  // queued here, in the same transaction, so that a crash cannot deliver without it.
  if (skillId === null) return;
  if (!skillScripts.has(skillId)) {
    const skill = await db.selectFrom('skills').select('script').where('id', '=', skillId).executeTakeFirst();
    skillScripts.set(skillId, skill?.script ?? null);
  }
  const script = skillScripts.get(skillId);
  if (script) await queueRun(db, now, contactId, script, {}, cause);
}

/** The next time routing must look again without any other event: a target wait running out. */
export async function nextTargetWaitEnd(db: Executor, now: number): Promise<number | null> {
  const row = await db
    .selectFrom('queue_entries')
    .select((eb) => eb.fn.min('target_until').as('next'))
    .where('target_until', '>', now)
    .executeTakeFirst();
  return row?.next == null ? null : Number(row.next);
}
