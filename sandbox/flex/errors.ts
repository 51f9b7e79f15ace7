export type Loc = (string | number)[];

export interface ValidationIssue {
  loc: Loc;
  msg: string;
  type: string;
}

/**
 * An answer other than 2xx from the fake Flex API. `storable` says whether the idempotency layer
 * keeps it: refusals based on the state of an object are real results of the request, while
 * malformed input, unknown objects and conflicts leave the key free so a corrected retry can use it.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly storable: boolean,
  ) {
    super(`Flex sandbox API error ${status}`);
  }
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function notFound(): ApiError {
  return new ApiError(404, { detail: 'not_found' }, false);
}

/** Request-shape problems: 422 in the FastAPI shape Flex uses, never stored under an idempotency key. */
export function invalid(issues: ValidationIssue[]): ApiError {
  return new ApiError(422, { detail: issues }, false);
}

/**
 * A business-rule refusal (`amount_exceeds_refundable`, …). Production Flex answers its 422s in the
 * FastAPI shape with the machine code in `detail[0].type` and `msg` starting with the code.
 */
export function refused(type: string, message: string, loc: Loc = ['checkout_session']): ApiError {
  return new ApiError(422, { detail: [{ loc, msg: `${type}: ${message}`, type }] }, true);
}

/** Misuse of the sandbox's own control API (programmatic or under `/__sandbox`). */
export class FlexSandboxError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 409,
  ) {
    super(message);
    this.name = 'FlexSandboxError';
  }
}
