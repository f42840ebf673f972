/**
 * Turns anything thrown by a handler into a problem+json answer. Only ApiError messages reach
 * the caller; anything else is a 500 with a generic message and the request id, never a stack,
 * logged and sent to Sentry (worker/lib/sentry.ts, only when SENTRY_DSN is set). Some
 * statuses get the headers their RFCs require (worker/lib/error-headers.ts).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ConfigError } from '../config.ts';
import { ApiError, problemResponse, type ErrorCode } from '../errors.ts';
import { errorHeaders } from '../lib/error-headers.ts';
import { errorFields, log } from '../lib/log.ts';
import { reportError } from '../lib/sentry.ts';
import type { AppEnv, Caller } from '../types.ts';

const statusCodes: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/** Maps a thrown value to the ApiError the caller sees. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ConfigError) return new ApiError('misconfigured', error.message);
  if (error instanceof HTTPException) {
    if (error.status === 400 && /malformed json/i.test(error.message)) {
      return new ApiError('malformed_json', 'The request body is not valid JSON.');
    }
    const code = statusCodes[error.status];
    if (code) return new ApiError(code, error.message || code);
  }
  return new ApiError(
    'internal',
    'Something went wrong on our side; the request id identifies it.',
  );
}

/** The request's waitUntil; a context without one (some tests) waits for nothing. */
function waitUntilOf(c: Context<AppEnv>): (promise: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return () => undefined;
  }
}

/** Hono `onError` handler. */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  const apiError = toApiError(error);
  const requestId = c.var.requestId ?? 'unknown';
  if (apiError.status >= 500) {
    // Unset when the error came before (or from) authentication.
    const caller: Caller | undefined = c.var.caller;
    const scope = {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      tenant_id: caller?.tenantId,
      user_id: caller?.actor,
    };
    log('error', 'request failed', { ...scope, ...errorFields(error) });
    // Unexpected errors only: a 503 for a bad setting or a 504 timeout is logged, not a bug.
    if (apiError.code === 'internal') {
      // A JWT subject may be an email address: Sentry gets only API key actors.
      const user_id = caller?.grant.kind === 'key' ? caller.actor : undefined;
      reportError(c.env, error, { where: 'request', ...scope, user_id }, waitUntilOf(c));
    }
  }
  const response = problemResponse(apiError, c.req.path, requestId);
  for (const [name, value] of Object.entries(errorHeaders(apiError, c.req.raw))) {
    response.headers.set(name, value);
  }
  return response;
}
