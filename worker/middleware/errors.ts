/**
 * Turns anything thrown by a handler into a problem+json answer. Only ApiError messages reach
 * the caller; anything else is a 500 with a generic message, logged and sent to Sentry. Some
 * statuses get the headers their RFCs require (worker/lib/error-headers.ts).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { Toucan } from 'toucan-js';
import { ConfigError } from '../config.ts';
import { ApiError, problemResponse, type ErrorCode } from '../errors.ts';
import { errorHeaders } from '../lib/error-headers.ts';
import { errorFields, log } from '../lib/log.ts';
import type { AppEnv } from '../types.ts';

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

/** Hono `onError` handler. */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  const apiError = toApiError(error);
  const requestId = c.var.requestId ?? 'unknown';
  if (apiError.status >= 500) {
    log('error', 'request failed', {
      request_id: requestId,
      path: c.req.path,
      ...errorFields(error),
    });
    const dsn = typeof c.env.SENTRY_DSN === 'string' ? c.env.SENTRY_DSN : '';
    if (dsn) {
      const sentry = new Toucan({ dsn, context: c.executionCtx, request: c.req.raw });
      sentry.setTag('request_id', requestId);
      sentry.captureException(error);
    }
  }
  const response = problemResponse(apiError, c.req.path, requestId);
  for (const [name, value] of Object.entries(errorHeaders(apiError, c.req.raw))) {
    response.headers.set(name, value);
  }
  return response;
}
