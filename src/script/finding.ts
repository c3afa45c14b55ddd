import { type Static, Type } from '@sinclair/typebox';
import { literals, Nullable } from '../typebox.js';

/** One problem the validator found in a script file. */
export const FindingSchema = Type.Object({
  severity: literals(['error', 'warning'], {
    description: '`error` makes the script invalid; `warning` only does with `--strict`.',
  }),
  actionId: Nullable(Type.String({ description: "The action's id when the finding is about one action." })),
  path: Type.String({
    description: 'JSONPath into the file, e.g. `$.actions[2].branches.OnSucess`; `$` is the whole file.',
  }),
  message: Type.String({ description: 'One line: quotes the bad value and says what is right.' }),
  hint: Nullable(Type.String({ description: 'What to do about it, e.g. "did you mean OnSuccess?".' })),
  line: Type.Optional(Type.Integer({ description: '1-based position in the file, when known.' })),
  column: Type.Optional(Type.Integer()),
});
export type Finding = Static<typeof FindingSchema>;

/** A location in a parsed JSON value: object keys and array indexes, outermost first. */
export type JsonPathSegments = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["actions", 2, "branches", "On Success"]` → `$.actions[2].branches['On Success']`. */
export function jsonPath(segments: JsonPathSegments): string {
  let path = '$';
  for (const s of segments) {
    if (typeof s === 'number') path += `[${s}]`;
    else if (IDENTIFIER.test(s)) path += `.${s}`;
    else path += `['${JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}']`;
  }
  return path;
}
