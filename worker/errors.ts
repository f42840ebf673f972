/**
 * The one error model of the API: a closed set of codes, each with its HTTP status and title,
 * answered as RFC 9457 `application/problem+json`.
 */

/** Every error code the API can answer with. */
export const errorCodes = {
  invalid_request: { status: 400, title: 'The request is invalid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'Not allowed' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  payment_required: { status: 402, title: 'A budget has been reached' },
  conflict: { status: 409, title: 'The resource is not in a state that allows this' },
  idempotency_in_flight: {
    status: 409,
    title: 'A request with this Idempotency-Key is still in progress',
  },
  idempotency_mismatch: {
    status: 422,
    title: 'This Idempotency-Key was used with a different request',
  },
  upgrade_required: { status: 426, title: 'A WebSocket upgrade is required' },
  too_many_requests: { status: 429, title: 'Too many requests' },
  concurrency_limit: { status: 429, title: 'Too many jobs are running for this tenant' },
  internal: { status: 500, title: 'Internal error' },
  upstream_error: { status: 502, title: 'An upstream service failed' },
  misconfigured: { status: 503, title: 'The service is not configured correctly' },
  not_ready: { status: 503, title: 'A dependency is down' },
  request_timeout: { status: 504, title: 'The request took too long' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** One field-level problem, e.g. from zod validation. */
export interface FieldError {
  path: string;
  message: string;
}

/** An error whose `message` is safe to show to the caller. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  /** Extension members of the problem (RFC 9457 §3.2), e.g. the `budget` of a 402. */
  readonly extensions: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    errors?: FieldError[],
    extensions?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.errors = errors;
    this.extensions = extensions;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }
}

/** The problem+json body for an error. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  request_id: string;
  errors?: FieldError[];
}

/** Builds the problem+json response for `error`. */
export function problemResponse(error: ApiError, instance: string, requestId: string): Response {
  const { status, title } = errorCodes[error.code];
  const body: Problem & Record<string, unknown> = {
    ...error.extensions,
    type: `urn:omni:error:${error.code}`,
    title,
    status,
    detail: error.message,
    code: error.code,
    instance,
    request_id: requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
  });
}
