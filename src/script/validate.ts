import { oneLine, quote as quoteText } from '../text.js';
import { type ActionCatalog, type ActionContract, canonicalBranch } from './action-contract.js';
import { type Finding, jsonPath } from './finding.js';
import { parseScriptText } from './load.js';
import { hasPlaceholder } from './placeholder.js';
import { ACTION_ID_MAX_LENGTH, SCRIPT_NAME_MAX_LENGTH, SCRIPT_NAME_PATTERN } from './schema.js';
import { type SuggestBudget, suggest } from './suggest.js';
import { SCRIPT_TYPES, type Script, type ScriptType } from './types.js';

type Segments = (string | number)[];
/** `literal`: about a literal property value the action would refuse at run time (a run can go on). */
type Located = Omit<Finding, 'path' | 'line' | 'column'> & { at: Segments; literal?: boolean };
type JsonObject = Record<string, unknown>;
type Value = string | number | boolean;

// The limits that keep validation roughly linear in the size of the script, whatever it holds
// (docs/scripts.md, bench/validate.mjs): a script past a size limit is one error finding, found
// before any other work; "did you mean" hints share a budget; the findings reported are capped.

/** The largest script text read, in bytes of UTF-8 (formatting included). */
export const MAX_SCRIPT_BYTES = 512 * 1024;
/** The most actions a script may have. */
export const MAX_SCRIPT_ACTIONS = 1000;
/** The most findings reported; past it, the last one says how many more there are. */
export const MAX_FINDINGS = 200;
/** "Did you mean" hints per validation; later findings get their plain hint. */
const MAX_HINTS = 100;
/**
 * Edit-distance cells (see suggest.ts; a few nanoseconds each) for all hints of one validation:
 * a base and more per action, so hints cost at most in proportion to the script; and for one hint.
 */
const HINT_CELLS = 20_000;
const HINT_CELLS_PER_ACTION = 500;
const HINT_CELLS_EACH = 50_000;

/** What hints may still do in one validation, shared by every reporter of it. */
interface HintBudget {
  hints: number;
  cells: number;
}

/** Adds findings; paths are relative to what the reporter is about (the script, or one action). */
interface Reporter {
  error(at: Segments, message: string, hint?: string | null): void;
  warning(at: Segments, message: string, hint?: string | null): void;
  /** An error about a literal value: the action would take its error branch when run. */
  literal(at: Segments, message: string, hint?: string | null): void;
  /** A reporter for `actions[index]`: paths relative to it, findings carrying its id. */
  action(index: number, id: string | null): Reporter;
  /** "did you mean …?" when a candidate is close to `word` and the hint budget allows looking. */
  didYouMean(word: string, candidates: readonly string[], quoted?: boolean): string | undefined;
}

function reporter(
  found: Located[],
  budget: HintBudget,
  base: Segments = [],
  actionId: string | null = null,
): Reporter {
  const add =
    (severity: Finding['severity'], literal = false) =>
    (at: Segments, message: string, hint?: string | null) => {
      found.push({
        severity,
        actionId,
        at: [...base, ...at],
        message,
        hint: hint ?? null,
        ...(literal ? { literal } : {}),
      });
    };
  return {
    error: add('error'),
    warning: add('warning'),
    literal: add('error', true),
    action: (index, id) => reporter(found, budget, ['actions', index], id),
    didYouMean(word, candidates, quoted = false) {
      if (budget.hints <= 0 || budget.cells <= 0) return undefined;
      budget.hints--;
      const cells: SuggestBudget = { cells: Math.min(budget.cells, HINT_CELLS_EACH) };
      const before = cells.cells;
      const s = suggest(word, candidates, cells);
      budget.cells -= before - cells.cells;
      return s === undefined ? undefined : `did you mean ${quoted ? quote(s) : s}?`;
    },
  };
}

/** One action whose id and action name are usable: the unit the checks against contracts work on. */
interface Node {
  index: number;
  id: string;
  report: Reporter;
  /** The action name as written, and upper-cased for messages (`ENDCONTACT`, not `KILLCONTACT`). */
  written: string;
  name: string;
  contract: ActionContract | undefined;
  /** Properties with a valid value type; undefined when `properties` itself is broken. */
  properties: Record<string, Value> | undefined;
  hasProperties: boolean;
  /** Branches with a string target; undefined when `branches` itself is broken. */
  targets: Record<string, string> | undefined;
  /** Every branch name written, whatever its target. */
  branchNames: string[] | undefined;
}

const SCRIPT_FIELDS = ['name', 'mediaType', 'description', 'actions', 'layout'];
const ACTION_FIELDS = ['id', 'action', 'caption', 'properties', 'branches'];
const POSITION_FIELDS = ['x', 'y'];
/** Ids that collide with what every JavaScript object inherits. */
const RESERVED_IDS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);
const NAME = new RegExp(SCRIPT_NAME_PATTERN);

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: JsonObject, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);
const isValue = (v: unknown): v is Value => ['string', 'number', 'boolean'].includes(typeof v);
/** Names and values in findings: single-quoted, cut at 60 characters. */
const quote = (text: string) => quoteText(text, { max: 60, marks: 'single' });

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'string' ? quote(v) : String(v);
}

function checkFields(
  o: JsonObject,
  allowed: readonly string[],
  what: string,
  r: Reporter,
  at: Segments = [],
) {
  for (const key of Object.keys(o)) {
    if (allowed.includes(key)) continue;
    const hint = r.didYouMean(key, allowed) ?? `${what} has: ${allowed.join(', ')}`;
    r.error([...at, key], `unknown field ${quote(key)} in ${what}`, hint);
  }
}

function checkText(o: JsonObject, field: string, r: Reporter) {
  const v = own(o, field);
  if (v !== undefined && typeof v !== 'string') r.error([field], `${field} must be text, not ${describe(v)}`);
}

// ---------------------------------------------------------------------------------------------------------
// Format (what the JSON Schema says, in words)

function checkName(script: JsonObject, r: Reporter) {
  const name = own(script, 'name');
  if (name === undefined) return r.error([], 'the script has no name', 'add "name", e.g. "end-stuck-chat"');
  if (typeof name !== 'string') return checkText(script, 'name', r);
  if (name === '') return r.error(['name'], 'name is empty', 'name the script, e.g. "end-stuck-chat"');
  if (name.length > SCRIPT_NAME_MAX_LENGTH) {
    return r.error(
      ['name'],
      `name is ${name.length} characters long; at most ${SCRIPT_NAME_MAX_LENGTH} are allowed`,
    );
  }
  if (NAME.test(name)) return;
  const fixed = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  const rule = "may contain only letters, digits, '.', '_' and '-', starting with a letter or digit";
  r.error(
    ['name'],
    `name ${quote(name)} ${rule} (it is used in URLs and file names)`,
    fixed ? `e.g. ${quote(fixed)}` : null,
  );
}

function checkScriptType(script: JsonObject, r: Reporter): ScriptType | undefined {
  const mediaType = own(script, 'mediaType');
  if (mediaType === undefined) return 'Generic';
  const known = SCRIPT_TYPES.find((t) => t === mediaType);
  if (known) return known;
  if (typeof mediaType !== 'string') return void checkText(script, 'mediaType', r);
  const hint = r.didYouMean(mediaType, SCRIPT_TYPES) ?? `use one of ${SCRIPT_TYPES.join(', ')}`;
  r.error(['mediaType'], `unknown mediaType ${quote(mediaType)}`, hint);
}

function checkId(action: JsonObject, index: number, r: Reporter): string | undefined {
  const id = own(action, 'id');
  if (id === undefined) return void r.error([], 'the action has no id', `add "id", e.g. "${index + 1}"`);
  if (typeof id !== 'string') {
    return void r.error(
      ['id'],
      `id must be text, not ${describe(id)}`,
      typeof id === 'number' ? `write it as text: "${id}"` : null,
    );
  }
  if (id === '') return void r.error(['id'], 'id is empty', 'give the action an id, e.g. "1"');
  if (id.length > ACTION_ID_MAX_LENGTH) {
    return void r.error(
      ['id'],
      `id is ${id.length} characters long; at most ${ACTION_ID_MAX_LENGTH} are allowed`,
    );
  }
  return id;
}

function checkActionName(action: JsonObject, r: Reporter): string | undefined {
  const name = own(action, 'action');
  const hint = 'name the Studio action, e.g. "KILLCONTACT"';
  if (name === undefined)
    return void r.error([], 'the action does not say which action it is ("action" is missing)', hint);
  if (typeof name !== 'string')
    return void r.error(['action'], `action must be text, not ${describe(name)}`, hint);
  if (name.trim() === '') return void r.error(['action'], 'action is empty', hint);
  return name;
}

function checkPropertyTypes(action: JsonObject, r: Reporter): Record<string, Value> | undefined {
  const properties = own(action, 'properties');
  if (properties === undefined) return {};
  if (!isObject(properties)) {
    return void r.error(
      ['properties'],
      `properties must be an object of name → value, not ${describe(properties)}`,
    );
  }
  // No prototype: a "__proto__" key must stay a key, to be reported.
  const valid: Record<string, Value> = Object.create(null);
  for (const [key, value] of Object.entries(properties)) {
    if (isValue(value)) valid[key] = value;
    else
      r.error(
        ['properties', key],
        `property ${key} must be text, a number or true/false, not ${describe(value)}`,
      );
  }
  return valid;
}

function checkBranchTypes(action: JsonObject, r: Reporter) {
  const branches = own(action, 'branches');
  if (branches === undefined) return { targets: {}, names: [] };
  if (!isObject(branches)) {
    return void r.error(
      ['branches'],
      `branches must be an object of branch name → action id, not ${describe(branches)}`,
    );
  }
  const targets: Record<string, string> = Object.create(null);
  for (const [key, target] of Object.entries(branches)) {
    if (typeof target === 'string') targets[key] = target;
    else {
      const hint = typeof target === 'number' ? `write the id as text: "${target}"` : null;
      r.error(
        ['branches', key],
        `branch ${key} must name an action id as text, not ${describe(target)}`,
        hint,
      );
    }
  }
  return { targets, names: Object.keys(branches) };
}

function checkAction(
  value: unknown,
  index: number,
  catalog: ActionCatalog,
  script: Reporter,
): Node | undefined {
  if (!isObject(value))
    return void script.error(['actions', index], `an action must be an object, not ${describe(value)}`);
  const id = checkId(value, index, script.action(index, null));
  const r = script.action(index, id ?? null);
  checkFields(value, ACTION_FIELDS, 'an action', r);
  const name = checkActionName(value, r);
  checkText(value, 'caption', r);
  const properties = checkPropertyTypes(value, r);
  const branches = checkBranchTypes(value, r);
  if (id === undefined || name === undefined) return undefined;
  return {
    index,
    id,
    report: r,
    written: name,
    name: name.toUpperCase(),
    contract: catalog.find(name),
    properties,
    hasProperties: own(value, 'properties') !== undefined,
    targets: branches?.targets,
    branchNames: branches?.names,
  };
}

function checkLayout(script: JsonObject, ids: ReadonlySet<string> | undefined, r: Reporter) {
  const layout = own(script, 'layout');
  if (layout === undefined) return;
  if (!isObject(layout))
    return r.error(
      ['layout'],
      `layout must be an object of action id → { "x", "y" }, not ${describe(layout)}`,
    );
  const candidates = ids ? [...ids] : [];
  for (const [key, position] of Object.entries(layout)) {
    const at = ['layout', key];
    if (!isObject(position)) {
      r.error(
        at,
        `the layout of ${quote(key)} must be { "x": number, "y": number }, not ${describe(position)}`,
      );
      continue;
    }
    checkFields(position, POSITION_FIELDS, 'a layout position', r, at);
    for (const axis of POSITION_FIELDS) {
      const v = own(position, axis);
      if (v === undefined) r.error(at, `the layout of ${quote(key)} has no ${axis}`, `add "${axis}": 0`);
      else if (typeof v !== 'number') r.error([...at, axis], `${axis} must be a number, not ${describe(v)}`);
    }
    if (ids && !ids.has(key)) {
      r.warning(
        at,
        `layout entry ${quote(key)} is for no action`,
        r.didYouMean(key, candidates, true) ?? 'remove it',
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// One action against its contract

function checkScriptTypeOf(node: Node, contract: ActionContract, scriptType: ScriptType | undefined) {
  if (!scriptType || contract.scriptTypes.includes(scriptType)) return;
  node.report.error(
    ['action'],
    `${node.name} cannot be used in a ${scriptType} script; it works in ${contract.scriptTypes.join(', ')}`,
    `set "mediaType" to ${contract.scriptTypes.join(' or ')}, or use another action`,
  );
}

/** Contract checks return reasons that usually name the property; the ones that do not get it prefixed. */
const literalProblem = (name: string, text: string, reason: string) =>
  reason.includes(name) ? reason : `${name} ${quote(text)}: ${reason}`;

function checkPropertyValues(node: Node, properties: Record<string, Value>, contract: ActionContract) {
  const r = node.report;
  const specs = Object.entries(contract.properties);
  const names = specs.map(([name]) => name);
  const written = new Map<string, { key: string; text: string }>();
  for (const [key, value] of Object.entries(properties)) {
    const name = names.find((n) => n.toLowerCase() === key.toLowerCase());
    const earlier = name === undefined ? undefined : written.get(name);
    if (name === undefined) {
      const list =
        names.length === 0
          ? `${node.name} takes no properties`
          : `${node.name} properties: ${names.join(', ')}`;
      r.error(
        ['properties', key],
        `${node.name} has no property ${quote(key)}`,
        r.didYouMean(key, names) ?? list,
      );
    } else if (earlier) {
      r.error(
        ['properties', key],
        `property ${name} is written twice (${quote(earlier.key)} and ${quote(key)})`,
        'keep one',
      );
    } else written.set(name, { key, text: String(value) });
  }
  const where = (name: string) => {
    const key = written.get(name)?.key;
    return key !== undefined ? ['properties', key] : node.hasProperties ? ['properties'] : [];
  };

  for (const [name, spec] of specs) {
    const text = written.get(name)?.text;
    const blank = text === undefined || text.trim() === '';
    if (blank && spec.required && spec.default === undefined) {
      const message = `${node.name} needs property ${name}${text === undefined ? '' : ', which is empty'}`;
      r.error(where(name), message, `set ${name}: ${spec.description}`);
    }
    if (blank || (spec.kind !== 'expression' && hasPlaceholder(text))) continue;
    if (spec.enum && !spec.enum.some((e) => e.toLowerCase() === text.trim().toLowerCase())) {
      const message = `${name} ${quote(text)} is not one of ${spec.enum.join(', ')}`;
      r.literal(where(name), message, r.didYouMean(text.trim(), spec.enum));
    }
    const reason = spec.checkLiteral?.(text);
    if (reason !== undefined) r.literal(where(name), literalProblem(name, text, reason));
  }

  const values = Object.fromEntries(
    specs.map(([name, spec]) => [name, written.get(name)?.text ?? spec.default ?? '']),
  );
  for (const { property, message } of contract.checkProperties?.(values) ?? []) {
    r.literal(where(property), literalProblem(property, values[property] ?? '', message));
  }
}

/** Every spelling canonicalBranch accepts: `OnSuccess` and `Success` alike. */
const branchSpellings = (contract: ActionContract) =>
  Object.keys(contract.branches).flatMap((b) =>
    b === 'Default' ? [b] : b.startsWith('On') ? [b, b.slice(2)] : [b, `On${b}`],
  );

/** What the runtime looks a written branch up as; CASE values ignore case. */
function branchKey(contract: ActionContract, written: string): string | undefined {
  if (!contract.caseBranches || written === 'Default') return canonicalBranch(contract, written);
  return `case ${written.toLowerCase()}`;
}

function checkBranchNames(node: Node, written: readonly string[], contract: ActionContract) {
  const r = node.report;
  const declared = Object.keys(contract.branches);
  if (declared.length === 0 && !contract.caseBranches) {
    const why =
      contract.role === 'stop' ? `: ${node.name} parks the script until an event handler resumes it` : '';
    if (written.length > 0) r.error(['branches'], `${node.name} has no branches`, `remove "branches"${why}`);
    return;
  }
  const wired = new Map<string, string>();
  for (const key of written) {
    const canonical = branchKey(contract, key);
    const earlier = canonical === undefined ? undefined : wired.get(canonical);
    if (canonical === undefined) {
      const hint =
        r.didYouMean(key, branchSpellings(contract)) ?? `${node.name} branches: ${declared.join(', ')}`;
      r.error(['branches', key], `${node.name} has no branch ${quote(key)}`, hint);
    } else if (earlier !== undefined) {
      r.error(
        ['branches', key],
        `branch ${quote(key)} is the same branch as ${quote(earlier)}`,
        'keep one of them',
      );
    } else wired.set(canonical, key);
  }
  checkDeadEnds(node, written.length > 0, wired, contract);
}

/** An outcome whose branch is not wired (and no Default to fall back on) ends the run as a dead end. */
function checkDeadEnds(
  node: Node,
  wiresAny: boolean,
  wired: ReadonlyMap<string, string>,
  contract: ActionContract,
) {
  const r = node.report;
  const declared = Object.keys(contract.branches);
  if (!wiresAny) {
    if (contract.role === 'end' || contract.role === 'stop') return;
    const hint = declared.includes('Default')
      ? 'wire Default to the next action, or finish with END'
      : `wire ${declared.join(' and ')}`;
    return r.warning([], `${node.name} leads nowhere: the run ends as a dead end here`, hint);
  }
  const unwired = declared.filter((b) => b !== 'Default' && !wired.has(b));
  if (!declared.includes('Default')) {
    for (const b of unwired)
      r.warning(
        ['branches'],
        `${node.name} has no ${b} branch: when it is taken the run ends as a dead end`,
        `wire ${b}`,
      );
    return;
  }
  if (wired.has('Default') || (declared.length === 1 && !contract.caseBranches)) return;
  const example = contract.caseBranches
    ? 'a value that matches no case'
    : unwired[0] !== undefined
      ? `an unwired outcome (e.g. ${unwired[0]})`
      : 'an outcome without a branch of its own';
  r.warning(
    ['branches'],
    `${node.name} has no Default branch: ${example} ends the run as a dead end`,
    'wire Default',
  );
}

// ---------------------------------------------------------------------------------------------------------
// The script as a whole

function checkIds(nodes: readonly Node[]): Map<string, Node> {
  const byId = new Map<string, Node>();
  for (const node of nodes) {
    if (RESERVED_IDS.has(node.id))
      node.report.error(['id'], `id ${quote(node.id)} is reserved`, 'choose another id, e.g. a number');
    const first = byId.get(node.id);
    if (first) {
      node.report.error(
        ['id'],
        `duplicate id ${quote(node.id)}: actions[${first.index}] has it too`,
        'give each action its own id',
      );
    } else byId.set(node.id, node);
  }
  return byId;
}

function checkTargets(nodes: readonly Node[], byId: ReadonlyMap<string, Node>) {
  const ids = [...byId.keys()];
  for (const node of nodes) {
    for (const [branch, target] of Object.entries(node.targets ?? {})) {
      if (byId.has(target)) continue;
      const hint = node.report.didYouMean(target, ids, true) ?? 'wire it to an existing action id';
      node.report.error(
        ['branches', branch],
        `branch ${branch} goes to ${quote(target)}, but no action has that id`,
        hint,
      );
    }
  }
}

/** BEGIN and one handler per event; returns where runs start (none when there is no BEGIN). */
function checkEntryPoints(nodes: readonly Node[], r: Reporter): Node[] {
  const begins = nodes.filter((n) => n.contract?.role === 'begin');
  if (begins.length === 0) {
    const example = '{ "id": "1", "action": "BEGIN", "branches": { "Default": "…" } }';
    r.error(['actions'], 'the script has no BEGIN action', `add ${example} where the script starts`);
  }
  for (const extra of begins.slice(1)) {
    extra.report.error(
      ['action'],
      `a second BEGIN: action ${quote(begins[0]!.id)} is already the script's BEGIN`,
      'keep one BEGIN',
    );
  }
  const handlers = new Map<string, Node>();
  for (const node of nodes) {
    if (node.contract?.role !== 'event') continue;
    const event = node.contract.name;
    const first = handlers.get(event);
    if (first) {
      const message = `a second ${event} handler: action ${quote(first.id)} already handles that event`;
      node.report.error(['action'], message, `keep one ${event}`);
    } else handlers.set(event, node);
  }
  return begins.length === 0 ? [] : [...begins, ...handlers.values()];
}

function checkReachable(nodes: readonly Node[], entries: readonly Node[], byId: ReadonlyMap<string, Node>) {
  if (entries.length === 0) return;
  const reached = new Set<Node>(entries);
  const pending = [...entries];
  for (let node = pending.pop(); node; node = pending.pop()) {
    for (const target of Object.values(node.targets ?? {})) {
      const next = byId.get(target);
      if (next && !reached.has(next)) {
        reached.add(next);
        pending.push(next);
      }
    }
  }
  for (const node of nodes) {
    if (reached.has(node) || byId.get(node.id) !== node) continue;
    const message = `${node.name} ${quote(node.id)} is unreachable: no branch leads to it from BEGIN or an event handler`;
    node.report.warning([], message, 'wire a branch to it, or remove it');
  }
}

/** The seeds' warning: STOP does not end the contact, and without ONSIGNAL nothing resumes the script. */
function checkStops(nodes: readonly Node[]) {
  if (nodes.some((n) => n.contract?.name === 'ONSIGNAL')) return;
  for (const node of nodes) {
    if (node.contract?.role !== 'stop') continue;
    node.report.warning(
      ['action'],
      `${node.name} parks the script and the contact keeps running: nothing can resume it (the script has no ONSIGNAL handler)`,
      'use END to finish the script and release the contact',
    );
  }
}

function checkActions(
  actions: readonly unknown[],
  scriptType: ScriptType | undefined,
  catalog: ActionCatalog,
  r: Reporter,
) {
  const nodes = actions.flatMap((a, i) => checkAction(a, i, catalog, r) ?? []);
  const byId = checkIds(nodes);
  const known = [...new Set(catalog.names().map((n) => catalog.find(n)?.name ?? n))];
  for (const node of nodes) {
    const { contract } = node;
    if (!contract) {
      const hint =
        node.report.didYouMean(node.written, catalog.names()) ?? `known actions: ${known.join(', ')}`;
      node.report.error(['action'], `unknown action ${quote(node.written)}`, hint);
      continue;
    }
    checkScriptTypeOf(node, contract, scriptType);
    if (node.properties) checkPropertyValues(node, node.properties, contract);
    if (node.branchNames) checkBranchNames(node, node.branchNames, contract);
  }
  checkTargets(nodes, byId);
  checkReachable(nodes, checkEntryPoints(nodes, r), byId);
  checkStops(nodes);
}

function collect(value: unknown, catalog: ActionCatalog): Located[] {
  const found: Located[] = [];
  const actions = isObject(value) ? own(value, 'actions') : undefined;
  const count = Array.isArray(actions) ? actions.length : 0;
  const r = reporter(found, { hints: MAX_HINTS, cells: HINT_CELLS + HINT_CELLS_PER_ACTION * count });
  if (!isObject(value)) {
    r.error(
      [],
      `a script must be a JSON object, not ${describe(value)}`,
      'start with { "name": "…", "actions": [ … ] }',
    );
    return found;
  }
  if (count > MAX_SCRIPT_ACTIONS) {
    r.error(
      ['actions'],
      `the script has ${count.toLocaleString('en')} actions; at most ${MAX_SCRIPT_ACTIONS.toLocaleString('en')} are allowed`,
      'remove the actions it does not need, or split the work across scripts',
    );
    return found;
  }
  checkFields(value, SCRIPT_FIELDS, 'a script', r);
  checkName(value, r);
  const scriptType = checkScriptType(value, r);
  checkText(value, 'description', r);
  if (actions === undefined)
    r.error([], 'the script has no actions', 'add "actions": [ … ], starting with BEGIN');
  else if (!Array.isArray(actions))
    r.error(['actions'], `actions must be an array of actions, not ${describe(actions)}`);
  else if (actions.length === 0)
    r.error(['actions'], 'actions is empty', 'a script needs at least a BEGIN action');
  else checkActions(actions, scriptType, catalog, r);
  const ids = Array.isArray(actions)
    ? new Set(
        actions
          .map((a) => (isObject(a) ? own(a, 'id') : undefined))
          .filter((id): id is string => typeof id === 'string'),
      )
    : undefined;
  checkLayout(value, ids, r);
  return found;
}

const toFinding = ({ severity, actionId, at, message, hint }: Located): Finding => ({
  severity,
  actionId,
  path: jsonPath(at),
  message: oneLine(message),
  hint: hint === null ? null : oneLine(hint),
});

/**
 * At most MAX_FINDINGS: the first ones, and one that counts the rest. It is an error when any
 * of the rest is, so the script is invalid exactly when all its findings would make it so.
 */
function capped(findings: Finding[]): Finding[] {
  if (findings.length <= MAX_FINDINGS) return findings;
  const hidden = findings.slice(MAX_FINDINGS - 1);
  const errors = hidden.filter((f) => f.severity === 'error').length;
  const warnings = hidden.length - errors;
  const counts = [errors > 0 ? plural(errors, 'error') : '', warnings > 0 ? plural(warnings, 'warning') : '']
    .filter(Boolean)
    .join(', ');
  const more: Finding = {
    severity: errors > 0 ? 'error' : 'warning',
    actionId: null,
    path: '$',
    message: `${hidden.length.toLocaleString('en')} more findings not shown (${counts}): at most ${MAX_FINDINGS} are reported`,
    hint: 'fix the findings above and validate again',
  };
  return [...findings.slice(0, MAX_FINDINGS - 1), more];
}

const plural = (n: number, what: string) => `${n.toLocaleString('en')} ${what}${n === 1 ? '' : 's'}`;

/** Bytes of `text` as UTF-8, counted without encoding it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Checks a parsed script against the format and the actions' contracts (DESIGN §3.4). Never
 * throws on input: every problem is a finding, and all of them are reported up to MAX_FINDINGS.
 */
export function validateScript(value: unknown, catalog: ActionCatalog): Finding[] {
  return capped(collect(value, catalog).map(toFinding));
}

export interface ValidateOptions {
  /**
   * Report literal values the action would refuse (a literal SkillId that is not a number) as
   * warnings: the script can still run, and the action takes its branch. What `switchboard run` does.
   */
  literalsAsWarnings?: boolean;
}

/** Parses and validates a script file, findings in file order; `script` is set only when none is an error. */
export function validateScriptText(
  text: string,
  catalog: ActionCatalog,
  options: ValidateOptions = {},
): { script: Script | undefined; findings: Finding[] } {
  const bytes = utf8Length(text);
  if (bytes > MAX_SCRIPT_BYTES) {
    const tooLarge: Finding = {
      severity: 'error',
      actionId: null,
      path: '$',
      message: `the script is ${bytes.toLocaleString('en')} bytes long; at most ${MAX_SCRIPT_BYTES.toLocaleString('en')} (${MAX_SCRIPT_BYTES / 1024} KiB) are allowed`,
      hint: 'remove the actions and layout entries it does not need, or split the work across scripts',
    };
    return { script: undefined, findings: [tooLarge] };
  }
  const parsed = parseScriptText(text);
  if (hasErrors(parsed.findings)) return { script: undefined, findings: parsed.findings };
  const located = collect(parsed.value, catalog).map((f) => ({
    ...toFinding(f.literal && options.literalsAsWarnings ? { ...f, severity: 'warning' } : f),
    ...parsed.locate(f.at),
  }));
  const findings = capped(
    [...parsed.findings, ...located].sort(
      (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
    ),
  );
  return { script: hasErrors(findings) ? undefined : (parsed.value as Script), findings };
}

/** True when any finding is an error, or with `strict`, any finding at all (warnings too). */
export function hasErrors(findings: readonly Finding[], strict = false): boolean {
  return findings.some((f) => f.severity === 'error' || strict);
}
