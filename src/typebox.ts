import { type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';

/** Small TypeBox helpers shared by every schema: the script format, the resources, the API. */

/** A union of string literals that keeps the literal types in `Static<>`. */
export function literals<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<{
    -readonly [K in keyof T]: TLiteral<T[K]>;
  }>;
}

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/**
 * What a TypeBox schema error means, in words a person can act on: the allowed values of a
 * choice, the fields an object knows, the bounds of a number or text. Never the schema library's
 * jargon ("Expected union value").
 */
export function explainValueError(error: ValueError): string {
  const schema = error.schema as Record<string, unknown>;
  const E = ValueErrorType;
  switch (error.type) {
    case E.Union: {
      const options = (schema.anyOf as Array<Record<string, unknown>> | undefined) ?? [];
      if (options.length > 0 && options.every((o) => 'const' in o)) {
        return `must be one of ${options.map((o) => String(o.const)).join(', ')}`;
      }
      return `must be ${options.map(describeType).join(' or ')}`;
    }
    case E.ObjectRequiredProperty:
      return 'is missing';
    case E.ObjectAdditionalProperties: {
      const known = Object.keys((schema.properties as object | undefined) ?? {});
      return `is not a known field${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`;
    }
    case E.IntegerMinimum:
    case E.NumberMinimum:
      return `must be at least ${String(schema.minimum)}`;
    case E.IntegerMaximum:
    case E.NumberMaximum:
      return `must be at most ${String(schema.maximum)}`;
    case E.StringMinLength:
      return schema.minLength === 1
        ? 'must not be empty'
        : `must be at least ${String(schema.minLength)} characters`;
    case E.StringMaxLength:
      return `must be at most ${String(schema.maxLength)} characters`;
    case E.StringPattern:
      return `must match the pattern ${String(schema.pattern)}`;
    case E.Literal:
      return `must be ${JSON.stringify(schema.const)}`;
    default:
      return `must be ${describeType(schema)}`;
  }
}

function describeType(schema: Record<string, unknown>): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  switch (schema.type) {
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'text';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
    default:
      return 'a valid value';
  }
}
