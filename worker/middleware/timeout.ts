/**
 * A time limit on answering a request, through hono's `timeout` middleware: past it the caller
 * gets a 504 `request_timeout` problem instead of waiting on a stuck dependency. WebSocket
 * upgrades are exempt: the handshake hands the socket to the Job DO, whose life is not bounded.
 */
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { timeout } from 'hono/timeout';
import { ApiError } from '../errors.ts';
import type { AppEnv } from '../types.ts';

/** The default limit on answering one request. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Marks the exception hono's `timeout` throws, so that it is told apart from any other 504. */
class RequestTimedOut extends HTTPException {}

/** A middleware that answers 504 `request_timeout` once `ms` have passed without an answer. */
export function requestTimeout(ms: number = REQUEST_TIMEOUT_MS): MiddlewareHandler<AppEnv> {
  const limit = timeout(ms, () => new RequestTimedOut(504));
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.header('upgrade')?.toLowerCase() === 'websocket') return next();
    try {
      await limit(c, next);
    } catch (error) {
      if (!(error instanceof RequestTimedOut)) throw error;
      // The handler may still finish its work: say so, since retrying blindly could repeat it.
      throw new ApiError(
        'request_timeout',
        `The request was not answered within ${ms / 1000} seconds. It may still take effect: ` +
          'read the resource before retrying, or retry with the same Idempotency-Key.',
      );
    }
  });
}
