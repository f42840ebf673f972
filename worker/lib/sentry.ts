/**
 * Reports unhandled errors to Sentry through toucan-js, when `SENTRY_DSN` is set, and never when
 * it is not. The Worker's error handler, its scheduled handler and the Durable Objects' alarm
 * failures call reportError() with the ids of what failed (request, tenant, caller, job,
 * sandbox). Nothing else of the request goes along: no headers, no query string, no body, and a
 * scrubber (scrubEvent) rewrites every string of the event before it leaves, removing API keys,
 * JWTs (stream tokens are JWTs), bearer credentials, token query parameters and the values of
 * the Worker's own secrets, and dropping fields whose names say they hold credentials, commands
 * or prompts.
 */
import { Toucan, type Options } from 'toucan-js';
import { z } from 'zod';
import { errorFields, log } from './log.ts';
import { scrubText, secretValues } from './scrub.ts';

/** Where an error happened, by ids only; every field is optional but `where`. */
export interface ErrorScope {
  /** What was running: `request`, `job alarm`, `job deadline`, `tenant alarm`, `scheduled`. */
  where: string;
  request_id?: string | undefined;
  method?: string | undefined;
  /** The request's path, without its query string. */
  path?: string | undefined;
  tenant_id?: string | undefined;
  /** The caller's actor (`key:<id>` or `user:<subject>`). */
  user_id?: string | undefined;
  job_id?: string | undefined;
  sandbox_id?: string | undefined;
  /** Further ids or words (a deadline kind, a cron schedule); scrubbed like the rest. */
  [field: string]: string | undefined;
}

/** Lets the report be sent after the request or alarm has been answered. */
export type WaitUntil = (promise: Promise<unknown>) => void;

type SentryEvent = Parameters<NonNullable<Options['beforeSend']>>[0];

const settingsSchema = z.object({
  SENTRY_DSN: z.string().trim().optional(),
  ENVIRONMENT: z.string().optional(),
  OMNI_VERSION: z.string().trim().optional(),
});

/** Field names whose values never leave, at whatever depth of the event. */
const SENSITIVE_FIELD =
  /^(authorization|cookies?|headers|query_string|data|env|body|token|stream_token|api_?key|secrets?|password|prompt|command|system_prompt)$/i;

/** A copy of `value` with every string scrubbed and every sensitive field removed. */
function scrubValue(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (depth > 20 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SENSITIVE_FIELD.test(key)) continue;
    out[key] = scrubValue(item, secrets, depth + 1);
  }
  return out;
}

/**
 * The event as it may leave: the request reduced to its method and path, no user but its id,
 * no breadcrumbs, and every string scrubbed. Whatever is not a plain field is left out.
 */
export function scrubEvent(event: SentryEvent, secrets: readonly string[] = []): SentryEvent {
  const { request, user, breadcrumbs: _breadcrumbs, ...rest } = event;
  const scrubbed: SentryEvent = { type: event.type };
  for (const [key, item] of Object.entries(rest)) {
    Object.assign(scrubbed, { [key]: scrubValue(item, secrets) });
  }
  if (request) {
    const url = typeof request.url === 'string' ? request.url.split(/[?#]/)[0] : undefined;
    scrubbed.request = { method: request.method, url: url && scrubText(url, secrets) };
  }
  if (user?.id !== undefined) scrubbed.user = { id: scrubText(String(user.id), secrets) };
  return scrubbed;
}

/**
 * Sends `error` to Sentry with `scope`, if `env` has a SENTRY_DSN; does nothing otherwise. It
 * never throws: a reporting problem is logged, and the caller carries on with its own handling.
 */
export function reportError(
  env: object,
  error: unknown,
  scope: ErrorScope,
  waitUntil: WaitUntil,
): void {
  const parsed = settingsSchema.safeParse(env);
  const dsn = parsed.success ? parsed.data.SENTRY_DSN : undefined;
  if (!parsed.success || !dsn) return;
  try {
    const secrets = secretValues(env);
    const sentry = new Toucan({
      dsn,
      context: { waitUntil: (promise) => waitUntil(promise) },
      environment: parsed.data.ENVIRONMENT ?? 'production',
      release: parsed.data.OMNI_VERSION || 'dev',
      sendDefaultPii: false,
      // Nothing of the request is read: the scope brings the ids that matter.
      requestDataOptions: {
        allowedHeaders: false,
        allowedCookies: false,
        allowedSearchParams: false,
        allowedIps: false,
      },
      beforeBreadcrumb: () => null,
      beforeSend: (event) => scrubEvent(event, secrets),
    });
    const tags: Record<string, string> = {};
    for (const [name, value] of Object.entries(scope)) {
      if (value !== undefined && value !== '') tags[name] = scrubText(value, secrets);
    }
    sentry.setTags(tags);
    if (scope.method !== undefined || scope.path !== undefined) {
      sentry.setContext('request', { method: scope.method, path: tags['path'] });
    }
    sentry.captureException(error);
  } catch (failure) {
    log('warn', 'could not report an error to Sentry', errorFields(failure));
  }
}
