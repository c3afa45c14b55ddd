/** `{name}` or `{obj.prop}` inside a property value: the one definition of a placeholder. */
export const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}/g;

/** True when a property value holds a `{variable}`, so it is not a literal the validator can judge. */
export function hasPlaceholder(text: string): boolean {
  return new RegExp(PLACEHOLDER.source).test(text);
}
