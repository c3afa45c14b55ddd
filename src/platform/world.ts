import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { explainValueError, literals, Nullable } from '../typebox.js';
import { saveBusinessUnit } from './business-unit.js';
import { CALLBACK_STATE_OF_CONTACT } from './callback-states.js';
import { recordCallbackHistory, scheduleCallback } from './callbacks.js';
import { DEFAULT_CONTACT_STATE, startContact } from './contacts.js';
import { parseInstant } from './instant.js';
import { type CallbackState, PERMISSIONS } from './model.js';
import {
  AgentSchema,
  BusinessUnitSchema,
  CallbackInputSchema,
  CallbackSchema,
  ContactSchema,
  GivenIdSchema,
  IdSchema,
  SkillSchema,
} from './resources.js';
import { isValidTimeZone } from './schedule-date.js';

const strict = { additionalProperties: false } as const;
const { Optional } = Type;
const contact = ContactSchema.properties;
const agent = AgentSchema.properties;
const skill = SkillSchema.properties;
/** A world callback without a state waits to be due. */
const DEFAULT_CALLBACK_STATE: CallbackState = 'Scheduled';
/** Callbacks that still move with their contact: a contact must hold them. */
const LIVE_CALLBACK_STATES: readonly CallbackState[] = ['Queued', 'Delivered'];

const callbackState = (cb: { state?: CallbackState | undefined }) => cb.state ?? DEFAULT_CALLBACK_STATE;

/** Which contact names each callback (its callbackId); the first, when several do. */
function contactsByCallback(world: World): Map<number, number> {
  const named = new Map<number, number>();
  for (const c of world.contacts ?? []) {
    if (c.callbackId != null && !named.has(c.callbackId)) named.set(c.callbackId, c.id);
  }
  return named;
}

/**
 * A world fixture: the platform's state before a simulation (or a `seed`). Its resources take the
 * fields and every state the API returns them with, so a fixture can hold history (an Ended
 * contact, a Completed callback); callbacks take the API's create body, plus `id`, `state` and
 * `contactId` for those already dispatched.
 */
export const WorldSchema = Type.Object(
  {
    now: Optional(Type.String({ description: 'ISO 8601 instant with Z or an offset' })),
    scripts: Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Script files the skills run, relative to the world file; deployed before it loads',
      }),
    ),
    businessUnit: Optional(Type.Partial(BusinessUnitSchema, strict)),
    securityProfiles: Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ minLength: 1 }), permissions: Type.Array(literals(PERMISSIONS)) },
          strict,
        ),
      ),
    ),
    skills: Optional(
      Type.Array(
        Type.Object(
          {
            id: GivenIdSchema,
            name: Type.String({ minLength: 1 }),
            mediaType: skill.mediaType,
            direction: skill.direction,
            active: Optional(skill.active),
            script: Optional(Type.String()),
          },
          strict,
        ),
      ),
    ),
    agents: Optional(
      Type.Array(
        Type.Object(
          {
            id: GivenIdSchema,
            username: Type.String({ minLength: 1 }),
            firstName: Optional(agent.firstName),
            lastName: Optional(agent.lastName),
            active: Optional(agent.active),
            state: Optional(agent.state),
            skills: Optional(Type.Array(IdSchema)),
            securityProfile: Optional(Type.String()),
            timeZone: Optional(Type.String()),
          },
          strict,
        ),
      ),
    ),
    contacts: Optional(
      Type.Array(
        Type.Object(
          {
            id: GivenIdSchema,
            mediaType: contact.mediaType,
            state: Optional(contact.state),
            direction: Optional(contact.direction),
            skillId: Optional(Nullable(IdSchema)),
            agentId: Optional(Nullable(IdSchema)),
            targetAgentId: Optional(Nullable(IdSchema)),
            priority: Optional(Type.Integer()),
            phoneNumber: Optional(contact.phoneNumber),
            ani: Optional(contact.ani),
            dnis: Optional(contact.dnis),
            disconnectReason: Optional(contact.disconnectReason),
            callbackId: Optional(Nullable(IdSchema)),
          },
          strict,
        ),
      ),
    ),
    callbacks: Optional(
      Type.Array(
        Type.Object(
          {
            ...CallbackInputSchema.properties,
            id: Optional(GivenIdSchema),
            state: Optional(CallbackSchema.properties.state),
            contactId: Optional(Nullable(IdSchema)),
          },
          strict,
        ),
      ),
    ),
  },
  strict,
);
export type World = Static<typeof WorldSchema>;

/** Checks a parsed world against the schema and its cross-references; the message names the path. */
export function checkWorld(value: unknown): Result<World, 'InvalidWorld'> {
  const first = Value.Errors(WorldSchema, value).First();
  if (first) {
    const where = first.path === '' ? 'world' : first.path;
    const got = first.value === undefined ? '' : ` (got ${JSON.stringify(first.value)?.slice(0, 60)})`;
    return fail('InvalidWorld', `${where}: ${explainValueError(first)}${got}`);
  }
  const world = value as World;
  const problems: string[] = [];
  const ids = (list: Array<{ id?: number }> | undefined, what: string) => {
    const seen = new Set<number>();
    for (const item of list ?? []) {
      if (item.id === undefined) continue;
      if (seen.has(item.id)) problems.push(`${what} ${item.id} is listed twice`);
      seen.add(item.id);
    }
    return seen;
  };
  const skills = ids(world.skills, 'skill');
  const agents = ids(world.agents, 'agent');
  const contacts = ids(world.contacts, 'contact');
  const callbacks = ids(world.callbacks, 'callback');
  const profiles = new Set((world.securityProfiles ?? []).map((p) => p.name));
  if (world.businessUnit?.timeZone !== undefined && !isValidTimeZone(world.businessUnit.timeZone)) {
    problems.push(`businessUnit.timeZone '${world.businessUnit.timeZone}' is not an IANA time zone`);
  }
  if (world.now !== undefined) {
    const now = parseInstant(world.now, 'now');
    if (!now.ok) problems.push(now.message);
  }
  for (const a of world.agents ?? []) {
    for (const s of a.skills ?? []) if (!skills.has(s)) problems.push(`agent ${a.id} has unknown skill ${s}`);
    if (a.securityProfile !== undefined && !profiles.has(a.securityProfile)) {
      problems.push(`agent ${a.id} has unknown security profile '${a.securityProfile}'`);
    }
    if (a.timeZone !== undefined && !isValidTimeZone(a.timeZone)) {
      problems.push(`agent ${a.id} time zone '${a.timeZone}' is not an IANA time zone`);
    }
  }
  for (const c of world.contacts ?? []) {
    if (c.skillId != null && !skills.has(c.skillId))
      problems.push(`contact ${c.id} has unknown skill ${c.skillId}`);
    if (c.agentId != null && !agents.has(c.agentId))
      problems.push(`contact ${c.id} has unknown agent ${c.agentId}`);
    if (c.state === 'Queued' && c.skillId == null && c.targetAgentId == null) {
      problems.push(`contact ${c.id} is Queued but has neither skillId nor targetAgentId`);
    }
    if (c.callbackId != null && !callbacks.has(c.callbackId))
      problems.push(
        `contact ${c.id} has callbackId ${c.callbackId}, but no callback in the world has that id`,
      );
  }
  // The link is the contact's callbackId; a callback's contactId, when given, must say the same.
  const contactOf = contactsByCallback(world);
  for (const c of world.contacts ?? []) {
    const first = c.callbackId == null ? undefined : contactOf.get(c.callbackId);
    if (first !== undefined && first !== c.id)
      problems.push(
        `contacts ${first} and ${c.id} both name callback ${c.callbackId}; a callback has one contact`,
      );
  }
  const stateOfCallback = new Map((world.callbacks ?? []).map((cb) => [cb.id, callbackState(cb)]));
  for (const c of world.contacts ?? []) {
    const state = c.callbackId == null ? undefined : stateOfCallback.get(c.callbackId);
    const expected = CALLBACK_STATE_OF_CONTACT[c.state ?? DEFAULT_CONTACT_STATE];
    if (state !== undefined && state !== expected)
      problems.push(
        `contact ${c.id} is ${c.state ?? DEFAULT_CONTACT_STATE}, so its callback ${c.callbackId} must be ${expected}, not ${state}`,
      );
  }
  for (const [i, cb] of (world.callbacks ?? []).entries()) {
    const named = cb.id === undefined ? undefined : contactOf.get(cb.id);
    if (cb.contactId != null && !contacts.has(cb.contactId))
      problems.push(`callbacks[${i}] has contactId ${cb.contactId}, but no contact in the world has that id`);
    else if (cb.contactId != null && cb.contactId !== named)
      problems.push(
        `callbacks[${i}] has contactId ${cb.contactId}, but contact ${cb.contactId} does not name it in its callbackId`,
      );
    // A Scheduled callback named by a contact is caught above: no contact state goes with it.
    const state = callbackState(cb);
    if (named === undefined && LIVE_CALLBACK_STATES.includes(state))
      problems.push(`callbacks[${i}] is ${state}, so a contact of the world must name it in its callbackId`);
  }
  const usernames = new Set<string>();
  for (const a of world.agents ?? []) {
    if (usernames.has(a.username)) problems.push(`username '${a.username}' is used twice`);
    usernames.add(a.username);
  }
  return problems.length > 0 ? fail('InvalidWorld', problems.join('; ')) : ok(world);
}

/** Where a world's clock starts: its `now` (checked by checkWorld), else undefined. */
export function worldNow(world: World): number | undefined {
  if (world.now === undefined) return undefined;
  const now = parseInstant(world.now, 'now');
  return now.ok ? now.value : undefined;
}

/** Writes a checked world into an empty store (one transaction, the caller's). */
export async function loadWorld(
  db: Executor,
  now: number,
  world: World,
): Promise<Result<void, 'InvalidWorld'>> {
  await saveBusinessUnit(db, world.businessUnit ?? {});
  for (const p of world.securityProfiles ?? []) {
    await db
      .insertInto('security_profiles')
      .values({ name: p.name, permissions: JSON.stringify(p.permissions) })
      .execute();
  }
  for (const s of world.skills ?? []) {
    await db
      .insertInto('skills')
      .values({
        id: s.id,
        name: s.name,
        media_type: s.mediaType,
        direction: s.direction,
        active: s.active === false ? 0 : 1,
        script: s.script ?? null,
      })
      .execute();
  }
  for (const a of world.agents ?? []) {
    await db
      .insertInto('agents')
      .values({
        id: a.id,
        username: a.username,
        first_name: a.firstName ?? '',
        last_name: a.lastName ?? '',
        active: a.active === false ? 0 : 1,
        state: a.state ?? 'Unavailable',
        state_since: now,
        security_profile: a.securityProfile ?? null,
        time_zone: a.timeZone ?? null,
      })
      .execute();
    for (const skill of a.skills ?? []) {
      await db.insertInto('agent_skills').values({ agent_id: a.id, skill_id: skill }).execute();
    }
  }
  const ctx = { channel: 'world' } as const;
  for (const c of world.contacts ?? []) {
    await startContact(db, now, c, ctx);
  }
  const contactOf = contactsByCallback(world);
  for (const [i, item] of (world.callbacks ?? []).entries()) {
    const { id, state = DEFAULT_CALLBACK_STATE, contactId: _given, ...input } = item;
    const contactId = id === undefined ? undefined : contactOf.get(id);
    const result =
      state === DEFAULT_CALLBACK_STATE
        ? await scheduleCallback(db, now, input, ctx, id === undefined ? {} : { id })
        : await recordCallbackHistory(
            db,
            now,
            input,
            state,
            { ...(id === undefined ? {} : { id }), contactId },
            ctx,
          );
    if (!result.ok) return fail('InvalidWorld', `callbacks[${i}]: ${result.code}: ${result.message}`);
  }
  return ok(undefined);
}
