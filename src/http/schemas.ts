import { type TSchema, Type } from '@sinclair/typebox';
import {
  AGENT_STATES,
  CALLBACK_STATES,
  CONTACT_STATES,
  DIRECTIONS,
  MAX_ID,
  MEDIA_TYPES,
} from '../platform/model.js';
import {
  AgentSchema,
  AuditEntrySchema,
  CallbackInputSchema,
  CallbackSchema,
  ContactSchema,
  GivenIdSchema,
  IdSchema,
  SkillSchema,
} from '../platform/resources.js';
import { FindingSchema } from '../script/finding.js';
import { literals, Nullable } from '../typebox.js';

const strict = { additionalProperties: false } as const;

/** A list's page size when the request names none, and the largest it may name. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
const IdText = Type.String({ pattern: `^[0-9]{1,${String(MAX_ID).length}}$`, description: 'A numeric ID' });
const Id = IdSchema;
/**
 * A number in a query string, read by route-helpers.ts: as text here, because the schema
 * validator turns `Infinity` and `1e400` into a number that passes every bound.
 */
const QueryNumber = (description: string) => Type.Optional(Type.String({ description }));

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({
      description: 'Stable code: a branch name (InvalidSkillId…), InvalidRequest, NotFound…',
    }),
    message: Type.String({ description: 'One line a person can act on' }),
    field: Type.Optional(Type.String({ description: 'The request field at fault' })),
  }),
});

export const Contact = ContactSchema;
export const Callback = CallbackSchema;
export const Agent = AgentSchema;
export const Skill = SkillSchema;
export const AuditEntry = AuditEntrySchema;

export const Finding = FindingSchema;

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(
      Type.String({ description: 'Pass as `cursor` for the next page; null on the last' }),
    ),
  });

export const PageQuery = {
  limit: QueryNumber(
    `Items per page: a whole number from 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`,
  ),
  cursor: QueryNumber("The previous page's `nextCursor`"),
};

export const IdParams = Type.Object({ id: IdText }, strict);

export const StartContactBody = Type.Object(
  {
    mediaType: literals(MEDIA_TYPES),
    direction: Type.Optional(literals(DIRECTIONS)),
    skillId: Type.Optional(Id),
    script: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    variables: Type.Optional(
      // Written out: TypeBox's Record drops additionalProperties, and names must be variable names.
      Type.Unsafe<Record<string, string | number | boolean>>({
        type: 'object',
        description: 'Variable name → value, visible from BEGIN',
        maxProperties: 100,
        additionalProperties: false,
        patternProperties: {
          '^[A-Za-z_][A-Za-z0-9_]{0,63}$': Type.Union([
            Type.String({ maxLength: 32768 }),
            Type.Number(),
            Type.Boolean(),
          ]),
        },
      }),
    ),
    ani: Type.Optional(Type.String({ maxLength: 64 })),
    dnis: Type.Optional(Type.String({ maxLength: 64 })),
  },
  strict,
);

export const EndContactBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  strict,
);
export const SignalBody = Type.Object(
  {
    // Signals wait as rows, up to maxPendingSignals a run, and are read with every claim of it:
    // parameters are short values (an answer, a choice), not documents.
    params: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 9 })),
  },
  strict,
);

export const CreateCallbackBody = CallbackInputSchema;

/** An edit: any of the create body's fields, at least one. */
export const UpdateCallbackBody = Type.Partial(CallbackInputSchema, { ...strict, minProperties: 1 });

export const CallbackQuery = Type.Object(
  {
    ...PageQuery,
    state: Type.Optional(literals(CALLBACK_STATES)),
    skillId: QueryNumber('A skill ID'),
    agentId: QueryNumber('An agent ID: callbacks targeted at that agent'),
  },
  strict,
);

export const ContactQuery = Type.Object(
  { ...PageQuery, state: Type.Optional(literals(CONTACT_STATES)) },
  strict,
);
export const ListQuery = Type.Object(PageQuery, strict);

export const AgentStateBody = Type.Object({ state: literals(AGENT_STATES) }, strict);

export const CreateSkillBody = Type.Object(
  {
    id: Type.Optional(GivenIdSchema),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    mediaType: literals(MEDIA_TYPES),
    direction: literals(DIRECTIONS),
    active: Type.Optional(Type.Boolean()),
    script: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
  },
  strict,
);

export const ScriptParams = Type.Object(
  { name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' }) },
  strict,
);
