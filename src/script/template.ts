import { MAX_TEXT_LENGTH, readPath, textTooLong, toText } from './expression.js';
import { PLACEHOLDER } from './placeholder.js';

/** Reads variables by lower-cased name. */
export interface VariableReader {
  get(lowerName: string): unknown;
}

/**
 * Compiles a property value with `{name}` / `{obj.prop}` placeholders into a function of the
 * variables. Text without placeholders compiles to a constant. Braces that do not enclose a
 * name (`{ }`, JSON) are left as written. A text longer than MAX_TEXT_LENGTH is refused as it is
 * being built (`TextTooLong`, which the run's catch boundary turns into `_ERR`).
 */
export function compileTemplate(text: string): (vars: VariableReader) => string {
  const parts: Array<string | { root: string; path: string[] }> = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    const [root = '', ...path] = (match[1] ?? '').split('.');
    parts.push({ root: root.toLowerCase(), path });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  if (parts.length === 0) return () => '';
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const constant = parts[0];
    return () => constant;
  }
  const read = (vars: VariableReader, p: { root: string; path: string[] }) => {
    const v = vars.get(p.root);
    return toText(p.path.length === 0 ? v : readPath(v, p.path));
  };
  if (parts.length === 1) {
    const only = parts[0] as { root: string; path: string[] };
    return (vars) => read(vars, only);
  }
  return (vars) => {
    let out = '';
    for (const p of parts) {
      const piece = typeof p === 'string' ? p : read(vars, p);
      if (out.length + piece.length > MAX_TEXT_LENGTH) throw textTooLong(out.length + piece.length);
      out += piece;
    }
    return out;
  };
}
