import type { Result } from '../result.js';

/**
 * Every error code the API answers with, and its status. The codes are the branch names of the
 * actions where one exists (a request and an action given the same input fail the same way).
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  InvalidRequest: 400,
  InvalidSkillId: 400,
  InvalidTargetAgentId: 400,
  InvalidScheduleDate: 400,
  InvalidPhoneNumber: 400,
  InvalidPriority: 400,
  InvalidScript: 400,
  InvalidSecurityUser: 401,
  Unauthorized: 403,
  InvalidContactID: 404,
  NotFound: 404,
  ContactNotActive: 409,
  CallbackNotScheduled: 409,
  NoScriptRunning: 409,
  TooManySignals: 409,
  AgentNotActive: 409,
  SkillExists: 409,
  IdempotencyKeyReused: 422,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  ServiceUnavailable: 503,
  InternalError: 500,
};

/** An error that is an answer: its status and stable code are what the client gets. */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.status = STATUS_BY_CODE[code] ?? 400;
  }
}

/** The value of a successful result; a failed one becomes the HttpError for its code. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new HttpError(result.code, result.message, result.field);
  return result.value;
}
