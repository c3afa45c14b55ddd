/**
 * Expected failures are values, not exceptions. A failed result carries a stable `code`
 * (the branch or HTTP error code it maps to) and a one-line message a person can act on.
 */
export type Result<T, C extends string = string> = Ok<T> | Failure<C>;

export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

export interface Failure<C extends string = string> {
  readonly ok: false;
  readonly code: C;
  readonly message: string;
  /** The input field at fault, when there is one (an API request's field). */
  readonly field?: string;
}

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<C extends string>(
  code: C,
  message: string,
  field?: string,
): { ok: false; code: C; message: string; field?: string } {
  return field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };
}
