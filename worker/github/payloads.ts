/**
 * The parts of GitHub's webhook payloads that Omni reads, checked with zod at the intake
 * (`POST /webhooks/github`). Each schema is held against @octokit/webhooks-types below: every
 * payload GitHub documents must fit it, so a field GitHub may leave out or send as null cannot be
 * required here by mistake. Fields Omni does not read are not checked and not kept.
 */
import type {
  CheckRunEvent,
  InstallationEvent,
  IssueCommentEvent,
  IssuesEvent,
  PullRequestEvent,
} from '@octokit/webhooks-types';
import { z } from 'zod';
import type { FieldError } from '../errors.ts';
import { fieldErrors } from '../validation.ts';

const id = z.number().int().positive();

const UserSchema = z.object({
  login: z.string().min(1),
  /** `User`, `Bot` or `Organization`. */
  type: z.string(),
});

const RepositorySchema = z.object({
  id,
  name: z.string().min(1),
  full_name: z.string().min(1),
  private: z.boolean(),
  owner: z.object({ login: z.string().min(1) }),
  clone_url: z.string().min(1),
  default_branch: z.string().min(1),
});

const InstallationRefSchema = z.object({ id });

const IssueSchema = z.object({
  number: id,
  title: z.string(),
  body: z.string().nullable(),
  html_url: z.string(),
  /** Present when the issue is a pull request. */
  pull_request: z.object({ html_url: z.string().optional() }).optional(),
});

export const IssueCommentPayloadSchema = z.object({
  action: z.string(),
  issue: IssueSchema,
  comment: z.object({ id, body: z.string(), user: UserSchema }),
  repository: RepositorySchema,
  sender: UserSchema,
  installation: InstallationRefSchema.optional(),
});

export const IssuesPayloadSchema = z.object({
  action: z.string(),
  issue: IssueSchema,
  /** The label added or removed (`labeled`, `unlabeled`). */
  label: z.object({ name: z.string() }).optional(),
  repository: RepositorySchema,
  sender: UserSchema,
  installation: InstallationRefSchema.optional(),
});

export const PullRequestPayloadSchema = z.object({
  action: z.string(),
  number: id,
  pull_request: z.object({
    number: id,
    title: z.string(),
    body: z.string().nullable(),
    html_url: z.string(),
    draft: z.boolean(),
    head: z.object({
      ref: z.string().min(1),
      sha: z.string().regex(/^[0-9a-f]{40}$/, 'must be a commit SHA'),
      /** Null when the fork the pull request comes from was deleted. */
      repo: z.object({ clone_url: z.string().min(1) }).nullable(),
    }),
    base: z.object({ ref: z.string().min(1) }),
  }),
  repository: RepositorySchema,
  sender: UserSchema,
  installation: InstallationRefSchema.optional(),
});

export const CheckRunPayloadSchema = z.object({
  action: z.string(),
  check_run: z.object({
    id,
    head_sha: z.string().regex(/^[0-9a-f]{40}$/, 'must be a commit SHA'),
    /** The App that created the check run. */
    app: z.object({ id }),
    check_suite: z.object({ head_branch: z.string().nullable() }),
  }),
  repository: RepositorySchema,
  sender: UserSchema,
  installation: InstallationRefSchema.optional(),
});

export const InstallationPayloadSchema = z.object({
  action: z.string(),
  installation: z.object({ id, account: z.object({ login: z.string() }).nullable() }),
  sender: UserSchema,
});

export type IssueCommentPayload = z.infer<typeof IssueCommentPayloadSchema>;
export type IssuesPayload = z.infer<typeof IssuesPayloadSchema>;
export type PullRequestPayload = z.infer<typeof PullRequestPayloadSchema>;
export type CheckRunPayload = z.infer<typeof CheckRunPayloadSchema>;
export type InstallationPayload = z.infer<typeof InstallationPayloadSchema>;
export type RepositoryPayload = z.infer<typeof RepositorySchema>;

/** Compiles only when every `Documented` payload is also a `Parsed` one. */
type Fits<Parsed, Documented extends Parsed> = Documented;

/** The check against @octokit/webhooks-types: a schema that drifts from GitHub's fails `tsc`. */
export type DocumentedPayloadsFit = [
  Fits<IssueCommentPayload, IssueCommentEvent>,
  Fits<IssuesPayload, IssuesEvent>,
  Fits<PullRequestPayload, PullRequestEvent>,
  Fits<CheckRunPayload, CheckRunEvent>,
  Fits<InstallationPayload, InstallationEvent>,
];

/** A payload of an event Omni reads, by its `X-GitHub-Event`. */
export type GitHubEventPayload =
  | { event: 'issue_comment'; payload: IssueCommentPayload }
  | { event: 'issues'; payload: IssuesPayload }
  | { event: 'pull_request'; payload: PullRequestPayload }
  | { event: 'check_run'; payload: CheckRunPayload }
  | { event: 'installation'; payload: InstallationPayload };

/** The events Omni reads; every other one is acknowledged and ignored. */
export const gitHubEvents = [
  'issue_comment',
  'issues',
  'pull_request',
  'check_run',
  'installation',
] as const;
export type GitHubEventName = (typeof gitHubEvents)[number];

export function isGitHubEvent(event: string): event is GitHubEventName {
  return gitHubEvents.some((name) => name === event);
}

/** The result of checking a payload: what was read, or what is wrong with it. */
export type ParsedPayload =
  { ok: true; value: GitHubEventPayload } | { ok: false; errors: FieldError[] };

function checked<T>(
  schema: z.ZodType<T>,
  body: unknown,
  wrap: (payload: T) => GitHubEventPayload,
): ParsedPayload {
  const result = schema.safeParse(body);
  if (!result.success) return { ok: false, errors: fieldErrors(result.error.issues) };
  return { ok: true, value: wrap(result.data) };
}

/** Checks the payload of `event` (one of {@link gitHubEvents}). */
export function parsePayload(event: GitHubEventName, body: unknown): ParsedPayload {
  switch (event) {
    case 'issue_comment':
      return checked(IssueCommentPayloadSchema, body, (payload) => ({ event, payload }));
    case 'issues':
      return checked(IssuesPayloadSchema, body, (payload) => ({ event, payload }));
    case 'pull_request':
      return checked(PullRequestPayloadSchema, body, (payload) => ({ event, payload }));
    case 'check_run':
      return checked(CheckRunPayloadSchema, body, (payload) => ({ event, payload }));
    case 'installation':
      return checked(InstallationPayloadSchema, body, (payload) => ({ event, payload }));
  }
}

/**
 * What the delivery row records of every payload, read leniently: an event Omni does not read,
 * or a payload that failed its check, still shows its installation, repository and sender.
 */
const EnvelopeSchema = z.object({
  action: z.string().max(100).optional().catch(undefined),
  installation: z.object({ id }).optional().catch(undefined),
  repository: z
    .object({ full_name: z.string().max(300) })
    .optional()
    .catch(undefined),
  sender: z
    .object({ login: z.string().max(300) })
    .optional()
    .catch(undefined),
});

export interface Envelope {
  action: string | null;
  installationId: number | null;
  repository: string | null;
  sender: string | null;
}

/** The envelope of whatever JSON body came in (all null when it is not an object). */
export function readEnvelope(body: unknown): Envelope {
  const result = EnvelopeSchema.safeParse(body);
  const e = result.success ? result.data : {};
  return {
    action: e.action ?? null,
    installationId: e.installation?.id ?? null,
    repository: e.repository?.full_name ?? null,
    sender: e.sender?.login ?? null,
  };
}
