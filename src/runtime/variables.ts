import type { VariableReader } from '../script/template.js';

interface Entry {
  name: string;
  value: unknown;
}

/**
 * A run's variables. Names are case-insensitive (stored by lower-cased name, reported with the
 * spelling that first set them). Reading an unknown name gives undefined and is remembered in
 * `missing`, so the trace can say which `{variable}` substituted the empty string.
 */
export class Variables implements VariableReader {
  private readonly entries = new Map<string, Entry>();
  missing: string[] | null = null;

  get(lowerName: string): unknown {
    const entry = this.entries.get(lowerName);
    if (entry === undefined) {
      if (this.missing === null) this.missing = [lowerName];
      else this.missing.push(lowerName);
      return undefined;
    }
    return entry.value;
  }

  has(name: string): boolean {
    return this.entries.has(name.toLowerCase());
  }

  set(name: string, value: unknown): void {
    const lower = name.toLowerCase();
    const entry = this.entries.get(lower);
    if (entry === undefined) this.entries.set(lower, { name, value });
    else entry.value = value;
  }

  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const { name, value } of this.entries.values()) out[name] = value;
    return out;
  }
}
