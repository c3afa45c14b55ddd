import type { Selectable } from 'kysely';
import { fail, ok, type Result } from '../result.js';
import type { SkillTable } from '../storage/schema.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { type Direction, type MediaType, type OperationContext, parseId } from './model.js';
import { authorize } from './permissions.js';
import { type Skill, toSkill } from './resources.js';

export async function listSkills(
  db: Executor,
  options: { afterId?: number; limit?: number } = {},
): Promise<Skill[]> {
  let q = db.selectFrom('skills').selectAll().orderBy('id');
  if (options.afterId !== undefined) q = q.where('id', '>', options.afterId);
  if (options.limit !== undefined) q = q.limit(options.limit);
  return (await q.execute()).map(toSkill);
}

/** What a use of a skill asks of it. */
export interface SkillNeed {
  /** How the caller names the value in messages: `SkillId`, `Skill`. */
  label: string;
  /** Refuse an inactive skill. Default true. */
  active?: boolean;
  mediaType?: MediaType;
  direction?: Direction;
  /** Says what is needed when the kind is wrong: "callbacks need an Outbound Phone skill". */
  requirement?: string;
}

/**
 * The one rule for "is this skill usable here": the reference is a skill ID, the skill exists,
 * is active (unless `active: false`) and has the media type and direction asked for. Every
 * failure is InvalidSkillId with a message that says which of these it is.
 */
export async function requireSkill(
  db: Executor,
  ref: string | number | null | undefined,
  need: SkillNeed,
): Promise<Result<Selectable<SkillTable>, 'InvalidSkillId'>> {
  const refuse = (message: string) => fail('InvalidSkillId', message, 'skillId');
  const id = parseId(ref);
  if (id === undefined) return refuse(`${need.label} '${String(ref)}' is not a skill ID (a positive number)`);
  const skill = await db.selectFrom('skills').selectAll().where('id', '=', id).executeTakeFirst();
  if (!skill) return refuse(`no skill with ID ${id}`);
  if ((need.active ?? true) && skill.active !== 1) return refuse(`skill ${id} (${skill.name}) is not active`);
  const wrongMedia = need.mediaType !== undefined && skill.media_type !== need.mediaType;
  const wrongDirection = need.direction !== undefined && skill.direction !== need.direction;
  if (wrongMedia || wrongDirection) {
    return refuse(
      `skill ${id} (${skill.name}) is an ${skill.direction} ${skill.media_type} skill; ${need.requirement ?? 'it cannot be used here'}`,
    );
  }
  return ok(skill);
}

export interface CreateSkillInput {
  id?: number;
  name: string;
  mediaType: MediaType;
  direction: Direction;
  active?: boolean;
  script?: string | null;
}

/** Creates a skill; without an `id` the database gives the next one. */
export async function createSkill(
  db: Executor,
  now: number,
  input: CreateSkillInput,
  ctx: OperationContext,
): Promise<Result<Skill, 'Unauthorized' | 'SkillExists'>> {
  const unauthorized = authorize(ctx, 'skills.create');
  if (unauthorized) return unauthorized;
  // The primary key settles a race between two creates of one id: the loser gets SkillExists.
  const row = await db
    .insertInto('skills')
    .values({
      ...(input.id === undefined ? {} : { id: input.id }),
      name: input.name,
      media_type: input.mediaType,
      direction: input.direction,
      active: input.active === false ? 0 : 1,
      script: input.script ?? null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) return fail('SkillExists', `a skill with ID ${String(input.id ?? 'given')} exists already`);
  const skill = toSkill(row);
  await recordAudit(db, now, ctx, {
    action: 'skill.created',
    targetType: 'skill',
    targetId: skill.id,
    details: { name: input.name },
  });
  return ok(skill);
}
