/**
 * How every message quotes what it was given: bounded and on one line, so that any input —
 * a megabyte, a newline, a control character — fits in an error body, a finding or a log line.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes
const UNPRINTABLE = /[\u0000-\u001f\u007f\u2028\u2029]/g;

/** Control characters (and the line separators U+2028/2029) written as `\uXXXX`. */
export function oneLine(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface QuoteOptions {
  /** Characters kept before `…`. Default 80. */
  max?: number;
  /**
   * `double` (the default): JSON-escaped in double quotes, as the platform's messages quote a
   * value. `single`: in single quotes, as script findings quote a name (the whole finding is made
   * one line afterwards).
   */
  marks?: 'double' | 'single';
}

/** `"+49 30…"`: a value quoted for a message, cut at `max` characters. */
export function quote(text: string, options: QuoteOptions = {}): string {
  const max = options.max ?? 80;
  const head = text.length > max ? `${text.slice(0, max)}…` : text;
  return options.marks === 'single' ? `'${head}'` : JSON.stringify(head);
}
