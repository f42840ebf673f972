/**
 * Answering a job's latest change on GitHub: its check run follows the job (in progress, then
 * completed with a conclusion and a summary), and at its end the pull request of the agent's
 * pushed branch (after checking that the branch is there) and one comment with the result and
 * cost. What was sent is saved after each call (the item's progress, mirrored to
 * github_jobs.answered), so a retry sends nothing twice.
 */
import { isFinalStatus } from '../../worker/domain/jobs.ts';
import {
  createIssueComment,
  createPullRequest,
  findIssueComment,
  findPullRequestByHead,
  getRef,
  updateCheckRun,
  type CheckRunChange,
} from '../../worker/github/api.ts';
import type { GitHubJobUpdate } from '../../worker/github/work.ts';
import type { GitHubJobRow } from '../../worker/db/schema.ts';
import {
  checkRunFields,
  jobMarker,
  pullRequestText,
  resultComment,
  type CheckRunFields,
  type PullRequestNote,
} from './answers.ts';
import {
  answeredSchema,
  findGitHubJob,
  parseAnswered,
  saveAnswered,
  type Answered,
} from './records.ts';
import { checkRunOfWork } from './start-job.ts';
import {
  CLOCK_SLACK_MS,
  GiveUp,
  WaitForOther,
  jobPageUrl,
  orPermanentFailure,
  repoContext,
  type StepContext,
} from './steps.ts';
import type { Item } from './storage.ts';

const STATUS_RANK = { queued: 0, in_progress: 1, completed: 2 } as const;

/** The check run change that `fields` asks for (api.ts's names). */
function toChange(fields: CheckRunFields, detailsUrl: string | null): CheckRunChange {
  return {
    status: fields.status,
    ...(fields.conclusion === undefined ? {} : { conclusion: fields.conclusion }),
    ...(fields.started_at === undefined ? {} : { startedAt: new Date(fields.started_at) }),
    ...(fields.completed_at === undefined ? {} : { completedAt: new Date(fields.completed_at) }),
    ...(fields.output === undefined ? {} : { output: fields.output }),
    ...(detailsUrl === null ? {} : { detailsUrl }),
  };
}

/** Whether the latest change `next` may replace the stored `current` (an end is never undone). */
export function supersedes(current: GitHubJobUpdate, next: GitHubJobUpdate): boolean {
  if (isFinalStatus(current.status) && !isFinalStatus(next.status)) return false;
  return JSON.stringify(current) !== JSON.stringify(next);
}

/** The job's github_jobs row; waits while the work that creates it (and its check run) runs. */
async function rowOf(ctx: StepContext, jobId: string): Promise<GitHubJobRow> {
  const work = ctx.storage.workOfJob(jobId);
  const checkRun = work ? checkRunOfWork(work) : null;
  if (work && work.state === 'pending' && checkRun === null) {
    throw new WaitForOther(`the check run of ${jobId} is not created yet`);
  }
  const row = await findGitHubJob(ctx.env.DB, jobId);
  if (!row) throw new GiveUp(`No GitHub job ${jobId} is recorded.`);
  return row;
}

/** Answers (the rest of) the job item's latest change. */
export async function answerJobChange(
  ctx: StepContext,
  item: Item,
  update: GitHubJobUpdate,
): Promise<void> {
  const row = await rowOf(ctx, update.jobId);
  const stored = answeredSchema.safeParse(item.progress);
  const answered: Answered =
    stored.success && Object.keys(item.progress).length > 0
      ? stored.data
      : parseAnswered(row.answered);
  const save = () => ctx.storage.saveProgress(item.key, answered, update.jobId);
  const gh = repoContext(ctx.env, row.installationId, row.repository);
  const page = jobPageUrl(ctx.env, update.jobId);
  const links = { page };

  // The check run goes through every status the job did, even when the job's start and end
  // arrive together: a job that ran is shown in progress before it is shown completed.
  const steps = [checkRunFields(update, links, ctx.now)];
  if (steps[0]?.status === 'completed' && update.runningAt !== null) {
    steps.unshift(checkRunFields({ ...update, status: 'running' }, links, ctx.now));
  }
  for (const fields of steps) {
    const checkRunId = row.checkRunId;
    const sent = answered.checkRun ?? 'queued';
    if (checkRunId === null || answered.checkRunError !== undefined) break;
    if (STATUS_RANK[fields.status] <= STATUS_RANK[sent]) continue;
    const done = await orPermanentFailure(() =>
      updateCheckRun(gh, checkRunId, toChange(fields, page)),
    );
    if (done.ok) answered.checkRun = fields.status;
    else answered.checkRunError = done.error;
    save();
  }

  if (isFinalStatus(update.status)) {
    if (update.push && answered.pullRequest === undefined) {
      answered.pullRequest = await openPullRequest(gh, row, update, links, answered, save);
      save();
    }
    if (row.issueNumber !== null && answered.comment === undefined) {
      const issueNumber = row.issueNumber;
      const note: PullRequestNote =
        answered.pullRequest === undefined
          ? null
          : 'error' in answered.pullRequest
            ? { kind: 'failed', reason: answered.pullRequest.error }
            : { kind: 'opened', ...answered.pullRequest };
      const marker = jobMarker(update.jobId);
      // A comment asked for before may have been posted without its answer reaching us.
      const earlier =
        answered.commentAttemptedAt === undefined
          ? null
          : await findIssueComment(
              gh,
              issueNumber,
              marker,
              new Date(answered.commentAttemptedAt - CLOCK_SLACK_MS),
            );
      if (earlier !== null) {
        answered.comment = { id: earlier.id };
      } else {
        answered.commentAttemptedAt ??= ctx.now;
        save();
        const body = resultComment(update, links, note, ctx.now);
        const posted = await orPermanentFailure(() => createIssueComment(gh, issueNumber, body));
        answered.comment = posted.ok ? { id: posted.value.id } : { error: posted.error };
      }
      save();
    }
  }
  await saveAnswered(ctx.env.DB, update.jobId, answered);
}

async function openPullRequest(
  gh: ReturnType<typeof repoContext>,
  row: GitHubJobRow,
  update: GitHubJobUpdate,
  links: { page: string | null },
  answered: Answered,
  save: () => void,
): Promise<NonNullable<Answered['pullRequest']>> {
  const push = update.push;
  if (!push) return { error: 'nothing was pushed' };
  if (answered.pullRequestAttempted) {
    // Asked for before: it may have been opened without its answer reaching us.
    const earlier = await findPullRequestByHead(gh, push.branch);
    if (earlier !== null) return { number: earlier.number, url: earlier.htmlUrl };
  }
  const ref = await getRef(gh, `heads/${push.branch}`);
  if (ref === null) return { error: `the branch ${push.branch} was not found on GitHub` };
  answered.pullRequestAttempted = true;
  save();
  const text = pullRequestText(update, row.issueNumber, answered.isPullRequest, links);
  const opened = await orPermanentFailure(() =>
    createPullRequest(gh, {
      title: text.title,
      head: push.branch,
      // The branch the job ran on (recorded with the job; a default branch otherwise).
      base: row.headRef ?? 'main',
      body: text.body,
    }),
  );
  return opened.ok
    ? { number: opened.value.number, url: opened.value.htmlUrl }
    : { error: opened.error };
}
