import type { Selectable } from 'kysely';
import { fail, ok, type Result } from '../result.js';
import type { SkillTable } from '../storage/schema.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { type Direction, denied, type MediaType, type OperationContext } from './model.js';

export interface Skill {
  id: number;
  name: string;
  mediaType: MediaType;
  direction: Direction;
  active: boolean;
  script: string | null;
}

const toSkill = (r: Selectable<SkillTable>): Skill => ({
  id: Number(r.id),
  name: r.name,
  mediaType: r.media_type as MediaType,
  direction: r.direction as Direction,
  active: r.active === 1,
  script: r.script,
});

export async function listSkills(
  db: Executor,
  options: { afterId?: number; limit?: number } = {},
): Promise<Skill[]> {
  let q = db.selectFrom('skills').selectAll().orderBy('id');
  if (options.afterId !== undefined) q = q.where('id', '>', options.afterId);
  if (options.limit !== undefined) q = q.limit(options.limit);
  return (await q.execute()).map(toSkill);
}

export interface CreateSkillInput {
  id?: number;
  name: string;
  mediaType: MediaType;
  direction: Direction;
  active?: boolean;
  script?: string | null;
}

export async function createSkill(
  db: Executor,
  now: number,
  input: CreateSkillInput,
  ctx: OperationContext,
): Promise<Result<Skill, 'Unauthorized' | 'SkillExists'>> {
  const unauthorized = denied(ctx, 'skills:write');
  if (unauthorized) return unauthorized;
  let id = input.id;
  if (id === undefined) {
    const max = await db
      .selectFrom('skills')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirst();
    id = Number(max?.max ?? 0) + 1;
  } else if (await db.selectFrom('skills').select('id').where('id', '=', id).executeTakeFirst()) {
    return fail('SkillExists', `a skill with ID ${id} exists already`);
  }
  const row = await db
    .insertInto('skills')
    .values({
      id,
      name: input.name,
      media_type: input.mediaType,
      direction: input.direction,
      active: input.active === false ? 0 : 1,
      script: input.script ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(db, now, ctx, {
    action: 'skill.created',
    targetType: 'skill',
    targetId: id,
    details: { name: input.name },
  });
  return ok(toSkill(row));
}
