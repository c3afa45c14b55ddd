import type { ActionDefinition } from '../actions/action.js';
import type { ActionRegistry } from '../actions/registry.js';
import { canonicalBranch } from '../script/action-contract.js';
import { compileTemplate, type VariableReader } from '../script/template.js';
import type { Script, ScriptType } from '../script/types.js';
import { type Connector, connectorTo } from './step.js';

/** Property values as the action receives them, built from the variables at each step. */
type PropertiesBuilder = (vars: VariableReader) => Readonly<Record<string, string>>;

/**
 * What an action's `prepare` threw (a literal the validator refuses, say an expression that does
 * not parse): `switchboard run` goes on anyway, and the action throws it when it runs — at the
 * run's one catch boundary, like any other failure.
 */
export class PrepareFailed {
  constructor(readonly error: unknown) {}
}

function prepare(definition: ActionDefinition, raw: Record<string, string>, branches: string[]): unknown {
  try {
    return definition.prepare?.(raw, branches);
  } catch (error) {
    return new PrepareFailed(error);
  }
}

/** One action of a script, ready to run: its definition, properties and resolved connectors. */
export interface CompiledNode {
  readonly index: number;
  readonly id: string;
  readonly definition: ActionDefinition;
  /** The Studio id as written (e.g. `ENDCONTACT`); the trace reports it. */
  readonly actionName: string;
  readonly properties: PropertiesBuilder;
  readonly prepared: unknown;
  /** Canonical branch name (or lower-cased CASE value) → the connector wired for it. */
  readonly next: ReadonlyMap<string, Connector>;
  /** The `Default` connector, when it is wired. */
  readonly defaultNext: Connector | undefined;
}

export interface CompiledScript {
  readonly name: string;
  readonly scriptType: ScriptType;
  readonly nodes: readonly CompiledNode[];
  readonly begin: number;
  /** Entry of the ONRELEASE / ONSIGNAL handler, or -1 when the script has none. */
  readonly onRelease: number;
  readonly onSignal: number;
  /** Names BEGIN's `Parameters` gives to p1…p9. */
  readonly parameters: readonly string[];
}

function buildProperties(definition: ActionDefinition, raw: Record<string, string>): PropertiesBuilder {
  const dynamic: Array<[string, (vars: VariableReader) => string]> = [];
  const constant: Record<string, string> = {};
  for (const [name, spec] of Object.entries(definition.properties)) {
    const value = raw[name] ?? '';
    if (spec.kind === 'expression' || spec.kind === 'name' || !value.includes('{')) constant[name] = value;
    else dynamic.push([name, compileTemplate(value)]);
  }
  // Most control-flow actions have only constant properties: one frozen object, no allocation per step.
  if (dynamic.length === 0) {
    const frozen = Object.freeze(constant);
    return () => frozen;
  }
  return (vars) => {
    const out: Record<string, string> = { ...constant };
    for (const [name, template] of dynamic) out[name] = template(vars);
    return out;
  };
}

/**
 * Turns a script that passed validation into nodes with resolved connectors. Throws only for
 * what validation rules out (an unknown action, a connector to a missing id).
 */
export function compileScript(script: Script, registry: ActionRegistry): CompiledScript {
  const indexById = new Map<string, number>();
  script.actions.forEach((a, i) => {
    indexById.set(a.id, i);
  });
  const resolve = (target: string) => {
    const index = indexById.get(target);
    if (index === undefined) throw new Error(`connector to missing action '${target}'`);
    return index;
  };

  let begin = -1;
  let onRelease = -1;
  let onSignal = -1;
  let parameters: string[] = [];
  const nodes = script.actions.map((action, index): CompiledNode => {
    const definition = registry.find(action.action);
    if (!definition) throw new Error(`unknown action '${action.action}' (action ${action.id})`);
    const raw: Record<string, string> = {};
    const written = action.properties ?? {};
    for (const [name, spec] of Object.entries(definition.properties)) {
      const key = Object.keys(written).find((k) => k.toLowerCase() === name.toLowerCase());
      const value = key === undefined ? undefined : written[key];
      const text = value === undefined ? (spec.default ?? '') : String(value);
      // A variable name may be written `{x}` or `x`: both name x.
      raw[name] = spec.kind === 'name' ? text.trim().replace(/^\{(.*)\}$/, '$1') : text;
    }
    const next = new Map<string, Connector>();
    let defaultNext: Connector | undefined;
    for (const [branch, target] of Object.entries(action.branches ?? {})) {
      const name = definition.caseBranches ? branch : (canonicalBranch(definition, branch) ?? branch);
      const connector = connectorTo(resolve(target), branch);
      if (name === 'Default') defaultNext = connector;
      else next.set(definition.caseBranches ? name.toLowerCase() : name, connector);
    }
    if (definition.role === 'begin') {
      begin = index;
      parameters = (raw.Parameters ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
    }
    if (definition.name === 'ONRELEASE') onRelease = index;
    if (definition.name === 'ONSIGNAL') onSignal = index;
    return {
      index,
      id: action.id,
      definition,
      actionName: action.action.toUpperCase(),
      properties: buildProperties(definition, raw),
      prepared: prepare(definition, raw, Object.keys(action.branches ?? {})),
      next,
      defaultNext,
    };
  });
  if (begin < 0) throw new Error('script has no BEGIN action');
  return {
    name: script.name,
    scriptType: script.mediaType ?? 'Generic',
    nodes,
    begin,
    onRelease,
    onSignal,
    parameters,
  };
}
