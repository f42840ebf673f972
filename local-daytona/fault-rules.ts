/**
 * The fault rules tests can install (`POST /_faults` or `LocalDaytona.faults.add`): their JSON
 * shape, validated strictly so that a typo in a test is a 400 naming the field rather than a
 * rule that silently never fires, and the path templates rules are matched with.
 *
 * A rule picks requests by method, path template and sandbox, optionally only the next `times`
 * of them, and says what happens to them instead of (or on top of) normal handling.
 */
import { z } from 'zod';

/** One path segment of a template: a literal, `:name` / `*` (any one segment) or a final `**`. */
const SEGMENT = /^(?:[A-Za-z0-9._~%@!$&'()+,;=-]+|:[A-Za-z_][A-Za-z0-9_]*|\*|\*\*)$/;

/** True when `template` is a valid path template (see {@link compilePath}). */
function isTemplate(template: string): boolean {
  if (!template.startsWith('/') || template === '/') return false;
  const segments = template.slice(1).split('/');
  return segments.every((s, i) => SEGMENT.test(s) && (s !== '**' || i === segments.length - 1));
}

/**
 * Compiles a path template into a regular expression over the whole request path:
 * `/toolbox/:id/git/clone` matches exactly that route for any sandbox, `*` is an anonymous
 * one-segment wildcard, and a final `/**` matches the rest (including nothing), so
 * `/toolbox/**` matches every toolbox request. A trailing slash on the request is ignored.
 */
export function compilePath(template: string): RegExp {
  const source = template
    .slice(1)
    .split('/')
    .map((s) => {
      if (s === '**') return '(?:/.*)?';
      if (s === '*' || s.startsWith(':')) return '/[^/]+';
      return '/' + s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}/?$`);
}

const PathTemplate = z.string().refine(isTemplate, {
  message:
    'path must be a template like /api/sandbox/:id or /toolbox/**: literal segments, ' +
    '":name" or "*" for one segment, and "**" (last only) for the rest',
});

/** Which requests a rule applies to; every field narrows it, an absent field matches all. */
const target = {
  /** HTTP method; websocket upgrades are GETs. */
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  path: PathTemplate.optional(),
  /** Sandbox id or name, compared with the sandbox the request's path names. */
  sandbox: z.string().min(1).optional(),
  /** Fire for the next `times` matching requests only; unlimited when absent. */
  times: z.int().positive().optional(),
};

/**
 * `after: true` lets the request be handled first (its side effects happen) and then applies
 * the fault to the answer: the classic "Daytona did it but the reply was lost".
 */
const after = z.boolean().optional();

const Fail = z
  .strictObject({
    action: z.literal('fail'),
    ...target,
    status: z.int().min(400).max(599),
    /** Message of the default error body (Daytona's shape for the API or the toolbox). */
    message: z.string().optional(),
    /** Daemon error code of the default toolbox error body, e.g. GIT_REPO_NOT_FOUND. */
    code: z.string().min(1).optional(),
    /** Replaces the default error body entirely. */
    body: z.json().optional(),
    /** Retry-After header: seconds, or an HTTP date. */
    retryAfter: z.union([z.int().nonnegative(), z.string().min(1)]).optional(),
    after,
  })
  .refine((r) => r.body === undefined || (r.message === undefined && r.code === undefined), {
    message: 'give either body or message/code, not both',
  });

const Delay = z.strictObject({
  action: z.literal('delay'),
  ...target,
  ms: z.int().positive().max(600_000),
});

/** Never answer (until the rule is removed or the server closes; then the connection drops). */
const Hang = z.strictObject({ action: z.literal('hang'), ...target, after });

/** Close the HTTP connection without an answer. */
const Drop = z.strictObject({ action: z.literal('drop'), ...target, after });

/** Log websockets only: end the stream once `afterFrames` frames were sent. */
const CutLogs = z.strictObject({
  action: z.literal('cut-logs'),
  path: target.path,
  sandbox: target.sandbox,
  times: target.times,
  afterFrames: z.int().nonnegative(),
  /** abrupt: TCP reset, no close frame (default); clean: a normal close frame (1000). */
  close: z.enum(['abrupt', 'clean']).optional(),
});

/** Log websockets only: stay open after the command ended instead of closing. */
const HoldLogs = z.strictObject({
  action: z.literal('hold-logs'),
  path: target.path,
  sandbox: target.sandbox,
  times: target.times,
});

/** The sandbox (named by the rule, or by the request's path) vanishes: 404 from then on. */
const LoseSandbox = z.strictObject({ action: z.literal('lose-sandbox'), ...target, after });

/** The sandbox stops as if auto-stopped: processes killed, `stopped` (ephemeral: deleted). */
const StopSandbox = z.strictObject({ action: z.literal('stop-sandbox'), ...target, after });

/** New sandboxes report `starting` for `seconds` after create; `sandbox` matches their name. */
const SlowStart = z.strictObject({
  action: z.literal('slow-start'),
  sandbox: target.sandbox,
  times: target.times,
  seconds: z.number().positive().max(3600),
});

/** One fault rule. */
export const FaultRuleSchema = z.discriminatedUnion('action', [
  Fail,
  Delay,
  Hang,
  Drop,
  CutLogs,
  HoldLogs,
  LoseSandbox,
  StopSandbox,
  SlowStart,
]);

/** A validated fault rule. */
export type FaultRule = z.infer<typeof FaultRuleSchema>;

/** A fault rule as written by a test (the same shape; defaults are not filled in). */
export type FaultRuleInput = z.input<typeof FaultRuleSchema>;

/** Body of `POST /_faults`. */
export const AddFaultsBodySchema = z.strictObject({
  rules: z.array(FaultRuleSchema).min(1).max(100),
});

/** A rule as listed by `GET /_faults`: the rule plus its id and how it has been used. */
export type FaultRuleStatus = FaultRule & {
  id: string;
  /** How many requests (or creates, for slow-start) it has fired for. */
  fired: number;
  /** How many more times it will fire; null when unlimited. */
  remaining: number | null;
  /** Requests or log sockets it is holding open right now (hang, hold-logs). */
  held: number;
};
