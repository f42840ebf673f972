/**
 * Request bodies are JSON. A request that sends no body needs no type; one that says
 * `Content-Type: application/json` but sends nothing (a zero Content-Length, or an empty chunked
 * body) is taken as a request without a body, as many HTTP clients send by default, so that the
 * actions that take no body (cancel, stream-token, ...) accept it and the routes that need one
 * name the missing fields instead of answering "not valid JSON".
 */
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../errors.ts';
import type { AppEnv } from '../types.ts';

const JSON_TYPE = /^application\/json\b/i;

/** The same request without a body (and without the headers that describe one). */
function withoutBody(raw: Request): Request {
  const headers = new Headers(raw.headers);
  headers.delete('content-type');
  headers.delete('content-length');
  headers.delete('transfer-encoding');
  return new Request(raw.url, { method: raw.method, headers, signal: raw.signal });
}

/** Refuses a body that is not JSON; drops an empty one. Runs after the body limit. */
export const jsonBody = createMiddleware<AppEnv>(async (c, next) => {
  const raw = c.req.raw;
  if (raw.body === null) return next();
  const length = raw.headers.get('content-length');
  if (length === '0') {
    c.req.raw = withoutBody(raw);
    return next();
  }
  if (length === null) {
    // A chunked body: its size is known only once read (bodyLimit has bounded it already).
    const bytes = await raw.arrayBuffer();
    if (bytes.byteLength === 0) {
      c.req.raw = withoutBody(raw);
      return next();
    }
    c.req.raw = new Request(raw, { body: bytes });
  }
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(
      'unsupported_media_type',
      'Send the body as JSON with "Content-Type: application/json".',
    );
  }
  return next();
});
