/**
 * Small HTTP helpers: bounded body reading, JSON parsing against zod schemas, JSON replies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { HttpError } from './errors.ts';

/** Largest JSON request body accepted (session commands may embed long prompts). */
export const MAX_JSON_BODY = 10 * 1024 * 1024;

/** Largest multipart upload accepted; undici's formData() buffers the whole body in memory. */
export const MAX_UPLOAD_BODY = 256 * 1024 * 1024;

/** Bodies being or already read, so that a fault rule can look at one before its handler. */
const bodies = new WeakMap<IncomingMessage, Promise<Buffer>>();

/**
 * Reads the whole request body, failing with 413 once it exceeds `limit` bytes.
 * The rest of an oversized body is discarded so the client can still read the 413.
 * Reading again gives the same body (or the same failure).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  let body = bodies.get(req);
  if (body === undefined) {
    body = readWholeBody(req, limit);
    bodies.set(req, body);
  }
  return body;
}

async function readWholeBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    throw new HttpError(413, `request body exceeds ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += buf.length;
    if (total > limit) {
      req.resume();
      throw new HttpError(413, `request body exceeds ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads and validates a JSON body. An empty body counts as `{}` because the SDK sends bodiless
 * POSTs (stop, start) as empty form-encoded requests.
 */
export async function readJson<T extends z.ZodType>(
  req: IncomingMessage,
  schema: T,
): Promise<z.infer<T>> {
  const raw = await readBody(req, MAX_JSON_BODY);
  let value: unknown = {};
  const text = raw.toString('utf8').trim();
  if (text !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'invalid request body: malformed JSON', 'INVALID_REQUEST_BODY');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(
      400,
      `invalid request body: ${z.prettifyError(parsed.error)}`,
      'INVALID_REQUEST_BODY',
    );
  }
  return parsed.data;
}

/** Sends a JSON response, with extra headers if given. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': payload.length,
  });
  res.end(payload);
}

/** Sends a response without a body (201/204 acknowledgements). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}
