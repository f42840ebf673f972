/**
 * Whether a GitHub delivery starts work, decided from the payload, the installation's mapping and
 * its project's repository allow-list alone (no API call): the intake answers within a second,
 * and GitHubAppDO then checks the sender's permission through the API (docs/github.md).
 *
 * Triggers: a new comment that starts with `/omni <prompt>` (command) or mentions `@<slug>`
 * (mention); an issue labelled with a configured label (label); a pull request opened, pushed to,
 * reopened or marked ready, when review is on (pull_request); a check run of this App re-run from
 * GitHub's UI (rerequest). Bots, Omni's own comments and edits never trigger (no loops, no second
 * job).
 */
import { completePrefix } from '../../durable-objects/job/utf8.ts';
import { allowedByList } from '../lib/repo-allow-list.ts';
import { MAX_PROMPT_BYTES } from '../schemas/jobs.ts';
import type { GitHubConfig } from './config.ts';
import type {
  CheckRunPayload,
  GitHubEventPayload,
  IssueCommentPayload,
  IssuesPayload,
  PullRequestPayload,
  RepositoryPayload,
} from './payloads.ts';
import type { GitHubInstallationSettings } from './settings.ts';
import type { GitHubRepository, GitHubWork } from './work.ts';

/** Omni's comments carry this marker, so that a comment of Omni never starts a job. */
export const OMNI_MARKER = '<!-- omni -->';

/** What the intake knows of the installation: its mapping, if it has one. */
export interface InstallationMapping {
  installationId: number;
  tenantId: string;
  projectId: string;
  settings: GitHubInstallationSettings;
}

export interface TriggerInput {
  deliveryId: string;
  receivedAt: number;
  payload: GitHubEventPayload;
  /** The mapping of the payload's installation, or null when it has none. */
  mapping: InstallationMapping | null;
  /** The URL prefixes the mapped project allows (empty: every repository). */
  allowList: readonly string[];
  app: Pick<GitHubConfig, 'slug' | 'appId'>;
}

export type TriggerDecision =
  { kind: 'ignore'; reason: string } | { kind: 'work'; work: GitHubWork };

const ignore = (reason: string): TriggerDecision => ({ kind: 'ignore', reason });

const REVIEWED_ACTIONS = new Set(['opened', 'synchronize', 'reopened', 'ready_for_review']);
const COMMAND = /^\s*\/omni(?:\s+([\s\S]*))?$/;

/**
 * Why a pull request from a fork starts nothing: its head is in another repository, which the
 * installation's token (scoped to the base repository) may not read and which the project's
 * allow-list (checked against the base repository) does not cover.
 */
export const FORK_REASON =
  "a pull request from a fork: Omni runs only on branches of the repository itself (the installation's token and the project's allow-list cover that repository alone)";

/** Whether two clone URLs name the same repository (GitHub's names are not case-sensitive). */
export function sameCloneUrl(a: string, b: string): boolean {
  const norm = (url: string) =>
    url
      .trim()
      .toLowerCase()
      .replace(/\.git$/, '');
  return norm(a) === norm(b);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** True when `body` mentions `@slug` as a whole handle (not `@slug-other` or `x@slug`). */
export function mentions(body: string, slug: string): boolean {
  return new RegExp(`(?:^|[^\\w@/.-])@${escapeRegExp(slug)}(?![\\w-])`, 'i').test(body);
}

/**
 * `text` cut to `max` UTF-8 bytes on a character boundary, without NUL characters (a job's
 * prompt may hold none).
 */
export function capPrompt(text: string, max = MAX_PROMPT_BYTES): string {
  const bytes = new TextEncoder().encode(text.replaceAll('\0', ''));
  if (bytes.length <= max) return new TextDecoder().decode(bytes);
  return new TextDecoder().decode(bytes.subarray(0, completePrefix(bytes, max)));
}

function repositoryOf(repo: RepositoryPayload): GitHubRepository {
  return {
    owner: repo.owner.login,
    name: repo.name,
    id: repo.id,
    cloneUrl: repo.clone_url,
    defaultBranch: repo.default_branch,
    private: repo.private,
  };
}

/** Where the request was made, as the prompt's first lines say it. */
function context(repo: RepositoryPayload, kind: string, number: number, title: string): string {
  return `On GitHub, in repository ${repo.full_name}, ${kind} #${number}: ${title}`;
}

type WorkFields = Pick<
  GitHubWork,
  | 'trigger'
  | 'issueNumber'
  | 'isPullRequest'
  | 'commentId'
  | 'head'
  | 'prompt'
  | 'rerunOfCheckRunId'
>;

/** The trigger of a new comment, or why it is none. */
function fromComment(
  p: IssueCommentPayload,
  settings: GitHubInstallationSettings,
  slug: string,
): WorkFields | string {
  if (p.action !== 'created') return `a comment ${p.action}: only new comments trigger`;
  const body = p.comment.body;
  if (body.includes(OMNI_MARKER)) return 'a comment of Omni';
  const isPullRequest = p.issue.pull_request !== undefined;
  const where = context(
    p.repository,
    isPullRequest ? 'pull request' : 'issue',
    p.issue.number,
    p.issue.title,
  );
  const fields = {
    issueNumber: p.issue.number,
    isPullRequest,
    commentId: p.comment.id,
    head: null,
    rerunOfCheckRunId: null,
  };
  const command = COMMAND.exec(body);
  if (command && settings.triggers.command) {
    const asked = (command[1] ?? '').trim();
    if (asked === '') return 'an /omni command without a prompt';
    const prompt = `${where}\n${p.sender.login} asked:\n\n${asked}`;
    return { ...fields, trigger: 'command', prompt: capPrompt(prompt) };
  }
  if (settings.triggers.mention && mentions(body, slug)) {
    const prompt = `${where}\n${p.sender.login} wrote:\n\n${body.trim()}`;
    return { ...fields, trigger: 'mention', prompt: capPrompt(prompt) };
  }
  if (command) return 'the /omni command trigger is off for this installation';
  return `no /omni command and no mention of @${slug}`;
}

/** The trigger of a labelled issue, or why it is none. */
function fromIssue(p: IssuesPayload, settings: GitHubInstallationSettings): WorkFields | string {
  if (p.action !== 'labeled') return `issues.${p.action} is not a trigger`;
  const label = p.label?.name;
  if (label === undefined) return 'a label event without its label';
  const wanted = settings.triggers.labels.map((l) => l.toLowerCase());
  if (!wanted.includes(label.toLowerCase())) return `the label "${label}" is not a trigger`;
  const where = context(p.repository, 'issue', p.issue.number, p.issue.title);
  const prompt = `${where}\n\n${p.issue.title}\n\n${p.issue.body ?? ''}`.trimEnd();
  return {
    trigger: 'label',
    issueNumber: p.issue.number,
    isPullRequest: p.issue.pull_request !== undefined,
    commentId: null,
    head: null,
    prompt: capPrompt(prompt),
    rerunOfCheckRunId: null,
  };
}

/** The review trigger of a pull request, or why it is none. */
function fromPullRequest(
  p: PullRequestPayload,
  settings: GitHubInstallationSettings,
): WorkFields | string {
  if (!REVIEWED_ACTIONS.has(p.action)) return `pull_request.${p.action} is not a trigger`;
  if (!settings.triggers.pull_request_review) return 'pull request review is off';
  const pr = p.pull_request;
  if (pr.draft) return 'a draft pull request (it is reviewed when marked ready)';
  if (pr.head.repo === null || !sameCloneUrl(pr.head.repo.clone_url, p.repository.clone_url)) {
    return FORK_REASON;
  }
  const where = context(p.repository, 'pull request', pr.number, pr.title);
  const prompt =
    `${where}\n\nReview this pull request: the changes of branch ${pr.head.ref} ` +
    `(commit ${pr.head.sha}) against ${pr.base.ref}. Point out bugs, risks and missing tests, ` +
    `with the file and line of each.\n\nIts description:\n\n${pr.body ?? '(none)'}`;
  const head = { sha: pr.head.sha, ref: pr.head.ref, cloneUrl: p.repository.clone_url };
  return {
    trigger: 'pull_request',
    issueNumber: pr.number,
    isPullRequest: true,
    commentId: null,
    head,
    prompt: capPrompt(prompt),
    rerunOfCheckRunId: null,
  };
}

/** The rerequest of one of this App's check runs, or why it is none. */
function fromCheckRun(p: CheckRunPayload, appId: string): WorkFields | string {
  if (p.action !== 'rerequested') return `check_run.${p.action} is not a trigger`;
  if (String(p.check_run.app.id) !== appId) return 'a check run of another App';
  const branch = p.check_run.check_suite.head_branch;
  return {
    trigger: 'rerequest',
    issueNumber: null,
    isPullRequest: false,
    commentId: null,
    head:
      branch === null
        ? null
        : { sha: p.check_run.head_sha, ref: branch, cloneUrl: p.repository.clone_url },
    prompt: '',
    rerunOfCheckRunId: p.check_run.id,
  };
}

/** Decides what a delivery asks for: work for the installation's GitHubAppDO, or nothing. */
export function decideTrigger(input: TriggerInput): TriggerDecision {
  const { payload: parsed, mapping, app } = input;
  if (parsed.event === 'installation') {
    const { action, installation } = parsed.payload;
    return ignore(
      mapping
        ? `installation ${action}`
        : `installation ${action}: map it with PUT /v1/github/installations/${installation.id}`,
    );
  }
  const p = parsed.payload;
  const installationId = p.installation?.id;
  if (installationId === undefined) return ignore('the payload names no installation');
  if (!mapping || mapping.installationId !== installationId) {
    return ignore(
      `installation ${installationId} is not mapped to a project: PUT /v1/github/installations/${installationId}`,
    );
  }
  const sender = p.sender.login;
  if (p.sender.type === 'Bot' || sender.toLowerCase() === `${app.slug.toLowerCase()}[bot]`) {
    return ignore(`sent by the bot ${sender}`);
  }
  let fields: WorkFields | string;
  switch (parsed.event) {
    case 'issue_comment':
      fields = fromComment(parsed.payload, mapping.settings, app.slug);
      break;
    case 'issues':
      fields = fromIssue(parsed.payload, mapping.settings);
      break;
    case 'pull_request':
      fields = fromPullRequest(parsed.payload, mapping.settings);
      break;
    case 'check_run':
      fields = fromCheckRun(parsed.payload, app.appId);
      break;
  }
  if (typeof fields === 'string') return ignore(fields);
  if (!allowedByList(p.repository.clone_url, input.allowList)) {
    return ignore(`the project does not allow the repository ${p.repository.full_name}`);
  }
  return {
    kind: 'work',
    work: {
      ...fields,
      deliveryId: input.deliveryId,
      installationId,
      tenantId: mapping.tenantId,
      projectId: mapping.projectId,
      repository: repositoryOf(p.repository),
      sender,
      settings: mapping.settings,
      receivedAt: input.receivedAt,
    },
  };
}
