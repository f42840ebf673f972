/**
 * The request id: made by the server for every request, set as `c.var.requestId` and sent back
 * in `X-Request-Id`. A client's own `X-Request-Id` is never taken as the id (hono's `requestId`
 * would take it): the audit log stores the id, and a caller must not be able to label an
 * action with another request's id. request-log.ts logs the client's value beside it instead.
 */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../types.ts';

/** The header that carries the id, both ways. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Logged length of a client's `X-Request-Id`, at most. */
const CLIENT_ID_MAX_LENGTH = 200;

/**
 * What the client sent as `X-Request-Id`, fit for a log line: printable ASCII only, at most
 * 200 characters, or undefined if it sent none (or nothing printable).
 */
export function clientRequestId(header: string | undefined): string | undefined {
  const printable = (header ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, CLIENT_ID_MAX_LENGTH);
  return printable === '' ? undefined : printable;
}

/** Gives every request a fresh id (a UUID), whatever the client sent. */
export const serverRequestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = crypto.randomUUID();
  c.set('requestId', id);
  c.header(REQUEST_ID_HEADER, id);
  await next();
});
