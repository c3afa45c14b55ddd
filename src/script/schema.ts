import { type TSchema, Type } from '@sinclair/typebox';
import { SCRIPT_TYPES } from './types.js';

/** Letters, digits, `.`, `_`, `-`, starting with a letter or digit: a script name ends up in URLs and file names. */
export const SCRIPT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
export const SCRIPT_NAME_MAX_LENGTH = 100;
export const ACTION_ID_MAX_LENGTH = 64;

const PropertyValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()], {
  description: 'Read as text by the action; `{name}` substitutes a variable.',
});

/** An object of any keys to `value`s (a plain `additionalProperties`, so no key escapes it). */
const mapOf = (value: TSchema, description: string) =>
  Type.Object({}, { additionalProperties: value, description });

const ScriptActionSchema = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: ACTION_ID_MAX_LENGTH,
      description: 'Unique within the script; branches refer to it.',
    }),
    action: Type.String({
      minLength: 1,
      description:
        'Studio action id, e.g. `KILLCONTACT` (case-insensitive; aliases such as `ENDCONTACT` work).',
    }),
    caption: Type.Optional(Type.String({ description: 'Label shown on the canvas.' })),
    properties: Type.Optional(mapOf(PropertyValue, 'Property name → value, as the action declares them.')),
    branches: Type.Optional(
      mapOf(
        Type.String({ description: 'Id of the next action.' }),
        'Branch name (e.g. `OnSuccess`, `Default`) → id of the next action.',
      ),
    ),
  },
  { additionalProperties: false, description: 'One action on the canvas: its behaviour only.' },
);

const PositionSchema = Type.Object(
  { x: Type.Number(), y: Type.Number() },
  { additionalProperties: false, description: 'Canvas position of an action.' },
);

/** The script file format (DESIGN §3.1), published as `schemas/script.schema.json`. */
export const ScriptSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: SCRIPT_NAME_MAX_LENGTH,
      pattern: SCRIPT_NAME_PATTERN,
      description:
        'Letters, digits, `.`, `_` and `-`, starting with a letter or digit (used in URLs and file names).',
    }),
    mediaType: Type.Optional(
      Type.Union(
        SCRIPT_TYPES.map((t) => Type.Literal(t)),
        { description: 'The script type; default Generic.' },
      ),
    ),
    description: Type.Optional(Type.String({ description: 'What the script is for.' })),
    actions: Type.Array(ScriptActionSchema, {
      minItems: 1,
      description: 'The actions; exactly one is BEGIN.',
    }),
    layout: Type.Optional(mapOf(PositionSchema, 'Action id → canvas position; kept apart from behaviour.')),
  },
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://switchboard.dev/schemas/script.schema.json',
    title: 'Switchboard script',
    description:
      'A contact-center script: actions named as in NICE CXone Studio, connected by branches. Validate with `switchboard validate`.',
    additionalProperties: false,
  },
);
