/** One problem the validator found in a script file. */
export interface Finding {
  /** `error` makes the script invalid; `warning` only does with `--strict`. */
  severity: 'error' | 'warning';
  /** The action's id when the finding is about one action, else null. */
  actionId: string | null;
  /** JSONPath into the file, e.g. `$.actions[2].branches.OnSucess`; `$` is the whole file. */
  path: string;
  /** One line: quotes the bad value and says what is right. */
  message: string;
  /** What to do about it, e.g. "did you mean OnSuccess?"; null when the message says it all. */
  hint: string | null;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

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
