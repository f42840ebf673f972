/**
 * Error type and wire shapes shared by the control API and the toolbox.
 *
 * The SDK picks its error class from `code` + `source` first and the HTTP status second, and
 * takes the message from `message`, so every error body carries those fields in the shapes the
 * real services use (NestJS filter for the API, gin middleware for the daemon).
 */

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Daemon error codes by status, used when a toolbox error has no more specific code. */
const DAEMON_DEFAULT_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  410: 'GONE',
  422: 'UNPROCESSABLE_ENTITY',
  500: 'INTERNAL_SERVER_ERROR',
};

/** The `source` the real daemon stamps on its errors; with `code` it selects the SDK class. */
export const DAEMON_SOURCE = 'DAYTONA_DAEMON';

/** Human-readable reason phrase for a status code. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** An error that becomes an HTTP response with the given status and message. */
export class HttpError extends Error {
  readonly status: number;
  /** Daemon error code such as FILE_NOT_FOUND; only toolbox errors carry one. */
  readonly code: string | undefined;

  constructor(status: number, message: string, code?: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

/** Which service is answering: decides the error body shape. */
export type ErrorFlavour = 'api' | 'toolbox';

/** Builds the JSON body for an error, in the API's or the daemon's shape. */
export function errorBody(
  flavour: ErrorFlavour,
  status: number,
  message: string,
  path: string,
  method: string,
  code?: string,
): Record<string, unknown> {
  const common = {
    statusCode: status,
    message,
    error: statusText(status),
    path,
    timestamp: new Date().toISOString(),
  };
  if (flavour === 'api') return common;
  return {
    ...common,
    method,
    code: code ?? DAEMON_DEFAULT_CODES[status] ?? 'INTERNAL_SERVER_ERROR',
    source: DAEMON_SOURCE,
  };
}

/** Normalises anything thrown by a handler into an HttpError (unknown errors become 500). */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError(500, message);
}
