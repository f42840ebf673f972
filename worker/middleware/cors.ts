/**
 * Cross-origin access from browsers, through hono's `cors` middleware: only the exact origins
 * in `CORS_ALLOWED_ORIGINS` are answered with `Access-Control-Allow-Origin`, never `*`. The API
 * authenticates with a bearer token that the page sends itself, not with cookies, so no
 * credentials mode is offered (`Access-Control-Allow-Credentials` is never sent).
 */
import { cors } from 'hono/cors';
import { z } from 'zod';
import { ConfigError } from '../config.ts';

/**
 * Request headers a page may send: credentials, the JSON body's type, idempotent retries,
 * revalidation of a job (If-None-Match) and resuming its event stream (Last-Event-ID).
 */
const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-None-Match',
  'Last-Event-ID',
];

/** Response headers a page may read besides the CORS-safelisted ones. */
const CORS_EXPOSE_HEADERS = [
  'X-Request-Id',
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'Location',
  'Idempotent-Replayed',
  'WWW-Authenticate',
  'ETag',
];

/** How long a browser may reuse a preflight answer; Chromium caps it at two hours anyway. */
const CORS_MAX_AGE_SECONDS = 7200;

/** True for a serialised origin such as `https://app.example.com` or `http://localhost:5173`. */
function isExactOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

const schema = z.object({
  CORS_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().refine(isExactOrigin, {
          error: (issue) =>
            `${JSON.stringify(issue.input)} is not an exact origin; write the scheme and host (and port) only, in lower case, such as https://app.example.com`,
        }),
      ),
    ),
});

const cache = new WeakMap<object, ReadonlySet<string>>();

/**
 * The allowed origins, parsed once per set of bindings.
 * @throws ConfigError naming CORS_ALLOWED_ORIGINS if an entry is not an origin.
 */
function allowedOrigins(env: object): ReadonlySet<string> {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `The setting CORS_ALLOWED_ORIGINS is invalid: ${issue?.message ?? 'not a list of origins'}`,
    );
  }
  const origins = new Set(parsed.data.CORS_ALLOWED_ORIGINS);
  cache.set(env, origins);
  return origins;
}

/**
 * CORS for every route. Preflights are answered here (204) before rate limits and
 * authentication, which a preflight cannot pass: browsers send it without credentials.
 */
export const corsPolicy = cors({
  // Requests without an Origin header (servers, curl) need no CORS, nor a parsed setting.
  origin: (origin, c) => (origin && allowedOrigins(c.env).has(origin) ? origin : null),
  allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowHeaders: CORS_ALLOW_HEADERS,
  exposeHeaders: CORS_EXPOSE_HEADERS,
  maxAge: CORS_MAX_AGE_SECONDS,
  credentials: false,
});
