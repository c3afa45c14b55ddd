import type { ScriptType } from './types.js';

/**
 * What an action declares about itself: everything the validator, the docs generator and the
 * compiler need to know without running it. `src/actions/` implements one per file.
 */
export interface ActionContract {
  /** Studio id, e.g. `KILLCONTACT`. */
  readonly name: string;
  /** Other accepted ids, e.g. `ENDCONTACT`. */
  readonly aliases?: readonly string[];
  readonly summary: string;
  /** `begin` and `event` actions are entry points; `end` and `stop` finish a path. */
  readonly role: 'begin' | 'event' | 'step' | 'end' | 'stop';
  readonly scriptTypes: readonly ScriptType[];
  readonly properties: Readonly<Record<string, PropertySpec>>;
  /** Output variable → what it holds. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Canonical branch name → when it is taken. `Default` is listed when the action has it. */
  readonly branches: Readonly<Record<string, string>>;
  /** Set when any other branch name is a case value (CASE); says what the names mean. */
  readonly caseBranches?: string;
  /** Branch taken when the action throws (a bug, the database down) before falling back to Default. */
  readonly errorBranch?: string;
  /**
   * Checks that need several properties at once (ASSIGN's Value is an expression only when Type
   * is Numeric). Gets the written values (defaults applied); returns problems with the property each is about.
   */
  readonly checkProperties?: (properties: Readonly<Record<string, string>>) => Array<{
    property: string;
    message: string;
  }>;
}

export interface PropertySpec {
  readonly description: string;
  /** Used when the property is absent from the script. */
  readonly default?: string;
  readonly required?: boolean;
  /**
   * `text` (the default) is substituted (`{var}`) before the action runs; `name` is a variable
   * name (braces stripped, not substituted); `expression` is compiled by the action itself.
   */
  readonly kind?: 'text' | 'name' | 'expression';
  readonly enum?: readonly string[];
  /** Checks a literal value (one without `{…}`); returns why it can never be valid. */
  readonly checkLiteral?: (value: string) => string | undefined;
}

/** How the validator finds actions; the runtime's registry implements it. */
export interface ActionCatalog {
  find(name: string): ActionContract | undefined;
  names(): readonly string[];
}

/** `OnSuccess` and `Success` name the same branch; this is the one place that says so. */
export function canonicalBranch(contract: ActionContract, written: string): string | undefined {
  if (Object.hasOwn(contract.branches, written)) return written;
  for (const name of Object.keys(contract.branches)) {
    if (name === 'Default') continue;
    if (written === `On${name}` || (name.startsWith('On') && written === name.slice(2))) return name;
  }
  return undefined;
}
