import { getLocation, type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { type Finding, type JsonPathSegments, jsonPath } from './finding.js';

export interface Position {
  line: number;
  column: number;
}

export interface ParsedText {
  /** The parsed JSON; undefined when the text is not JSON. */
  value: unknown;
  /** At most one error (the first syntax error), plus warnings such as duplicate keys. */
  findings: Finding[];
  /** 1-based position of the member or element at `path` (or its nearest ancestor), when known. */
  locate(path: JsonPathSegments): Position | undefined;
}

const STRICT_JSON = { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false };

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return starts;
}

function positionAt(starts: readonly number[], offset: number): Position {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

function quoted(token: string): string {
  const shown = token.length > 20 ? `${token.slice(0, 20)}…` : token;
  return `'${JSON.stringify(shown).slice(1, -1)}'`;
}

interface Explained {
  message: string;
  hint: string | null;
  offset: number;
}

/** jsonc-parser's first error, in words a script author understands. */
function explain(text: string, errors: readonly ParseError[]): Explained {
  const first = errors[0]!;
  const { offset, length } = first;
  const token = text.slice(offset, offset + length);
  const atEnd = offset >= text.length;
  const code = printParseErrorCode(first.error);
  const container = code === 'CommaExpected' ? getLocation(text, offset).path.at(-1) : undefined;
  const closer = container === undefined ? '' : typeof container === 'number' ? " or ']'" : " or '}'";
  const before = text.slice(0, offset).trimEnd();
  if (
    (code === 'PropertyNameExpected' || code === 'ValueExpected') &&
    before.endsWith(',') &&
    /^[}\]]/.test(token)
  ) {
    return {
      message: `trailing comma before '${token[0]}'`,
      hint: 'remove the comma: JSON does not allow trailing commas',
      offset: before.length - 1,
    };
  }
  if (
    code === 'InvalidSymbol' &&
    printParseErrorCode(errors[1]?.error ?? first.error) === 'PropertyNameExpected'
  ) {
    return { message: `expected a property name in double quotes, not ${quoted(token)}`, hint: null, offset };
  }
  const described: Record<string, [string, string | null]> = {
    InvalidSymbol: [`unexpected ${quoted(token)}`, null],
    InvalidNumberFormat: [`invalid number ${quoted(token)}`, null],
    UnexpectedEndOfNumber: [`invalid number ${quoted(token)}`, null],
    PropertyNameExpected: ['expected a property name in double quotes', null],
    ValueExpected: [atEnd ? 'the file ends where a value is expected' : 'expected a value', null],
    ColonExpected: ["expected ':' after the property name", null],
    CommaExpected: [`expected a comma${closer}`, null],
    CloseBraceExpected: [atEnd ? "the file ends before the closing '}'" : "expected a comma or '}'", null],
    CloseBracketExpected: [atEnd ? "the file ends before the closing ']'" : "expected a comma or ']'", null],
    EndOfFileExpected: [`unexpected ${quoted(token)} after the end of the JSON value`, null],
    InvalidCommentToken: [
      'comments are not allowed',
      'remove the comment: JSON has no comments (use "description")',
    ],
    UnexpectedEndOfComment: ['unterminated comment', 'JSON has no comments'],
    UnexpectedEndOfString: ['unterminated string', 'close the string with "'],
    InvalidUnicode: [`invalid unicode escape in ${quoted(token)}`, 'write \\u followed by four hex digits'],
    InvalidEscapeCharacter: [`invalid escape in ${quoted(token)}`, 'write a backslash as \\\\'],
    InvalidCharacter: ['a control character inside a string', 'write tabs and line breaks as \\t and \\n'],
  };
  const [message, hint] = described[code] ?? [`unreadable (${code})`, null];
  return { message, hint, offset };
}

function malformed(text: string, starts: readonly number[], explained: Explained): Finding {
  const { line, column } = positionAt(starts, Math.min(explained.offset, text.length));
  return {
    severity: 'error',
    actionId: null,
    path: '$',
    message: `malformed JSON: ${explained.message} (line ${line}, column ${column})`,
    hint: explained.hint,
    line,
    column,
  };
}

/** Keys written twice in one object: JSON.parse silently keeps the last one. */
function duplicateKeys(root: Node, starts: readonly number[]): Finding[] {
  const findings: Finding[] = [];
  // Iterative, each node with its path: a deeply nested or wide file costs one pass, no stack.
  const pending: Array<[Node, JsonPathSegments]> = [[root, []]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, path] = next;
    if (node.type === 'array') {
      for (const [i, child] of (node.children ?? []).entries()) pending.push([child, [...path, i]]);
    }
    if (node.type !== 'object') continue;
    const seen = new Set<string>();
    for (const member of node.children ?? []) {
      const [key, value] = member.children ?? [];
      if (typeof key?.value !== 'string') continue;
      const name: string = key.value;
      if (value) pending.push([value, [...path, name]]);
      if (seen.has(name)) {
        findings.push({
          severity: 'warning',
          actionId: null,
          path: jsonPath([...path, name]),
          message: `'${name}' is written twice in the same object; only the last one counts`,
          hint: 'remove one of them',
          ...positionAt(starts, member.offset),
        });
      }
      seen.add(name);
    }
  }
  return findings;
}

/**
 * The node at `path` (an object's member by its first key of that name, like jsonc-parser's
 * findNodeAtLocation), with each object's members indexed once: finding many paths in a wide
 * object costs one pass over it, not one per path.
 */
function nodeFinder(root: Node): (path: JsonPathSegments) => Node | undefined {
  const members = new WeakMap<Node, Map<string, Node>>();
  const membersOf = (object: Node) => {
    let index = members.get(object);
    if (!index) {
      index = new Map();
      for (const member of object.children ?? []) {
        const [key, value] = member.children ?? [];
        if (typeof key?.value === 'string' && value && !index.has(key.value)) index.set(key.value, value);
      }
      members.set(object, index);
    }
    return index;
  };
  return (path) => {
    let node: Node | undefined = root;
    for (const segment of path) {
      if (!node) return undefined;
      if (typeof segment === 'string')
        node = node.type === 'object' ? membersOf(node).get(segment) : undefined;
      else node = node.type === 'array' ? node.children?.[segment] : undefined;
    }
    return node;
  };
}

/**
 * Reads a script file's text as strict JSON (a leading BOM is fine). Never throws: anything that
 * is not JSON becomes one error finding with its line and column.
 */
export function parseScriptText(text: string): ParsedText {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const starts = lineStarts(source);
  const none: ParsedText['locate'] = () => undefined;
  if (source.trim() === '') {
    const empty: Finding = {
      severity: 'error',
      actionId: null,
      path: '$',
      message: 'file is empty',
      hint: null,
    };
    return { value: undefined, findings: [{ ...empty, line: 1, column: 1 }], locate: none };
  }
  const errors: ParseError[] = [];
  let tree: Node | undefined;
  try {
    tree = parseTree(source, errors, STRICT_JSON);
  } catch {
    // parseTree recurses per nesting level; JSON.parse below does not.
    const message = 'malformed JSON: nested too deeply (line 1, column 1)';
    return {
      value: undefined,
      findings: [{ severity: 'error', actionId: null, path: '$', message, hint: null, line: 1, column: 1 }],
      locate: none,
    };
  }
  if (errors.length > 0 || tree === undefined) {
    const explained =
      errors.length > 0 ? explain(source, errors) : { message: 'no JSON value', hint: null, offset: 0 };
    return { value: undefined, findings: [malformed(source, starts, explained)], locate: none };
  }
  const root = tree;
  // JSON.parse, not the tree, builds the value: it defines `__proto__` keys as own properties.
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    const explained = { message: (error as Error).message, hint: null, offset: 0 };
    return { value: undefined, findings: [malformed(source, starts, explained)], locate: none };
  }
  const find = nodeFinder(root);
  const locate = (path: JsonPathSegments): Position | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = find(path.slice(0, n));
      if (node)
        return positionAt(starts, node.parent?.type === 'property' ? node.parent.offset : node.offset);
    }
    return undefined;
  };
  return { value, findings: duplicateKeys(root, starts), locate };
}
