/**
 * Carrying out a delivery's work, step by step, each step's result saved before the next one so
 * that a retry resumes where the last attempt stopped and sends nothing twice: the sender's
 * permission, the reaction, the commit to run on, the agent job (through the same creation as
 * `POST /v1/jobs`, with the tenant's budgets and secrets), its github_jobs row and delivery
 * outcome, and its check run. A job that cannot be created is answered with a comment saying why.
 */
import { z } from 'zod';
import {
  addReaction,
  createCheckRun,
  createIssueComment,
  findCheckRun,
  findIssueComment,
  getBranchSha,
  getPullRequest,
  repositoryPermission,
} from '../../worker/github/api.ts';
import type { GitHubJobLink, GitHubWork } from '../../worker/github/work.ts';
import { createGitHubJob, jobBodyOf, parseJobBody } from '../../worker/github/jobs.ts';
import { FORK_REASON, sameCloneUrl } from '../../worker/github/triggers.ts';
import { CHECK_RUN_NAME, deliveryMarker, refusalComment } from './answers.ts';
import {
  findGitHubJobByCheckRun,
  insertGitHubJob,
  parseAnswered,
  recordDeliveryOutcome,
  type Answered,
  saveAnswered,
  setCheckRunId,
} from './records.ts';
import {
  CLOCK_SLACK_MS,
  GiveUp,
  jobPageUrl,
  orPermanentFailure,
  repoContext,
  type StepContext,
} from './steps.ts';
import { jobKey, type Item } from './storage.ts';

const headSchema = z.object({ sha: z.string(), ref: z.string(), cloneUrl: z.string() });

/** What has been done of a delivery's work. */
const workProgressSchema = z.object({
  permission: z.literal('ok').optional(),
  reaction: z.enum(['sent', 'failed']).optional(),
  /** A rerun: the job it repeats. */
  rerun: z
    .object({
      spec: z.unknown(),
      issueNumber: z.number().int().nullable(),
      isPullRequest: z.boolean(),
      push: z.boolean(),
      head: headSchema,
    })
    .optional(),
  head: headSchema.optional(),
  jobId: z.string().optional(),
  body: z.unknown().optional(),
  pushBranch: z.string().nullable().optional(),
  created: z.boolean().optional(),
  refusal: z.string().optional(),
  refusalSent: z.boolean().optional(),
  /** When the refusal's comment was first asked for (a retry looks for it from then on). */
  refusalAttemptedAt: z.number().int().optional(),
  rowWritten: z.boolean().optional(),
  checkRun: z
    .union([z.object({ id: z.number().int() }), z.object({ error: z.string() })])
    .optional(),
  checkRunSaved: z.boolean().optional(),
  /**
   * Set before the check run is asked for: an attempt that stopped after GitHub created it but
   * before its id was saved is followed by a search for it (its external_id is the job id).
   */
  checkRunAttempted: z.boolean().optional(),
});

export type WorkProgress = z.infer<typeof workProgressSchema>;

/** What a finished work item became: done, or a refusal (a redelivery may try it again). */
export type WorkOutcome = 'done' | 'refused';

/** The progress of a work item that is started again: its refusal is forgotten. */
export function restartedProgress(progress: Record<string, unknown>): Record<string, unknown> {
  const { refusal: _r, refusalSent: _s, refusalAttemptedAt: _a, ...rest } = progress;
  return rest;
}

function newJobId(): string {
  return `job_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** The branch an agent job pushes its changes to: `omni/` and the job id's random part. */
export function pushBranchOf(jobId: string): string {
  return `omni/${jobId.replace(/^job_/, '').slice(0, 12)}`;
}

class WorkRun {
  private readonly ctx: StepContext;
  private readonly item: Item;
  private readonly work: GitHubWork;
  private readonly progress: WorkProgress;
  private readonly gh;
  private readonly repository: string;

  constructor(ctx: StepContext, item: Item, work: GitHubWork) {
    this.ctx = ctx;
    this.item = item;
    this.work = work;
    this.progress = workProgressSchema.parse(item.progress);
    this.repository = `${work.repository.owner}/${work.repository.name}`;
    this.gh = repoContext(ctx.env, work.installationId, this.repository);
  }

  private save(): void {
    this.ctx.storage.saveProgress(this.item.key, this.progress, this.progress.jobId ?? null);
  }

  private ignore(reason: string): Promise<WorkOutcome> {
    return recordDeliveryOutcome(this.ctx.env.DB, this.work.deliveryId, 'ignored', reason).then(
      () => 'done',
    );
  }

  async run(): Promise<WorkOutcome> {
    const { work, progress } = this;
    if (!progress.permission) {
      const permission = await repositoryPermission(this.gh, work.sender);
      if (permission !== 'admin' && permission !== 'write') {
        return this.ignore(
          `@${work.sender} has ${permission} permission on ${this.repository}; write or admin is needed to start a job.`,
        );
      }
      progress.permission = 'ok';
      this.save();
    }
    if (work.rerunOfCheckRunId !== null && !progress.rerun) {
      const old = await findGitHubJobByCheckRun(
        this.ctx.env.DB,
        work.installationId,
        work.rerunOfCheckRunId,
      );
      if (!old)
        return this.ignore(`Check run ${work.rerunOfCheckRunId} is not one of Omni's jobs.`);
      const spec = parseJobBody(JSON.parse(old.spec));
      if (spec === null)
        return this.ignore(`The job of check run ${work.rerunOfCheckRunId} cannot be read back.`);
      const answered = parseAnswered(old.answered);
      progress.rerun = {
        spec,
        issueNumber: old.issueNumber,
        isPullRequest: answered.isPullRequest,
        push: answered.pushBranch !== null,
        head: {
          sha: old.headSha,
          ref: old.headRef ?? work.repository.defaultBranch,
          cloneUrl: spec.repo.url,
        },
      };
      this.save();
    }
    if (work.commentId !== null && !progress.reaction) {
      const content = work.trigger === 'command' ? 'rocket' : 'eyes';
      const sent = await orPermanentFailure(() =>
        addReaction(this.gh, work.commentId ?? 0, content),
      );
      progress.reaction = sent.ok ? 'sent' : 'failed';
      this.save();
    }
    if (!progress.head) {
      const head = progress.rerun?.head ?? (await this.lookUpHead());
      if (head === null) return this.ignore(`${this.repository} has no commit to run on.`);
      // Before the job: a fork's pull request costs nothing (docs/github.md, "Forks").
      if (head === 'fork') return this.refuseFork();
      progress.head = head;
      this.save();
    }
    if (!progress.created && progress.refusal === undefined) await this.createJob(progress.head);
    if (progress.refusal !== undefined) return this.answerRefusal(progress.refusal);
    await this.recordJob(progress.head);
    await this.createCheckRun(progress.head);
    return 'done';
  }

  /** A comment on a fork's pull request: the commenter is told why, and nothing is started. */
  private async refuseFork(): Promise<WorkOutcome> {
    await this.commentRefusalOnce(`This is ${FORK_REASON}.`);
    return this.ignore(FORK_REASON);
  }

  /**
   * Tells the issue or pull request why no job started, once: a retry after an attempt whose
   * answer was lost finds that comment by the delivery's marker instead of posting another.
   */
  private async commentRefusalOnce(reason: string): Promise<void> {
    const { work, progress } = this;
    const issueNumber = work.issueNumber;
    if (issueNumber === null || progress.refusalSent) return;
    const marker = deliveryMarker(work.deliveryId);
    const earlier =
      progress.refusalAttemptedAt === undefined
        ? null
        : await findIssueComment(
            this.gh,
            issueNumber,
            marker,
            new Date(progress.refusalAttemptedAt - CLOCK_SLACK_MS),
          );
    if (earlier === null) {
      progress.refusalAttemptedAt ??= this.ctx.now;
      this.save();
      await orPermanentFailure(() =>
        createIssueComment(this.gh, issueNumber, refusalComment(reason, marker)),
      );
    }
    progress.refusalSent = true;
    this.save();
  }

  /** The commit to run on: the work's, a pull request's head, or the default branch's. */
  private async lookUpHead(): Promise<z.infer<typeof headSchema> | 'fork' | null> {
    const { work } = this;
    if (work.head) return work.head;
    if (work.isPullRequest && work.issueNumber !== null) {
      const pull = await getPullRequest(this.gh, work.issueNumber);
      if (!pull) throw new GiveUp(`Pull request #${work.issueNumber} was not found.`);
      if (
        pull.head.cloneUrl === null ||
        !sameCloneUrl(pull.head.cloneUrl, work.repository.cloneUrl)
      ) {
        return 'fork';
      }
      return { sha: pull.head.sha, ref: pull.head.ref, cloneUrl: work.repository.cloneUrl };
    }
    const branch = work.repository.defaultBranch;
    const sha = await getBranchSha(this.gh, branch);
    return sha === null ? null : { sha, ref: branch, cloneUrl: work.repository.cloneUrl };
  }

  private async createJob(head: z.infer<typeof headSchema>): Promise<void> {
    const { work, progress, ctx } = this;
    if (progress.jobId === undefined) {
      progress.jobId = newJobId();
      const body = progress.rerun ? parseJobBody(progress.rerun.spec) : jobBodyOf(work, head);
      if (body === null) throw new GiveUp('The job to run again cannot be read back.');
      // Push only to a branch of this repository (not a fork's), and never for a review.
      const pushes = progress.rerun ? progress.rerun.push : work.trigger !== 'pull_request';
      const sameRepository = head.cloneUrl === work.repository.cloneUrl;
      progress.pushBranch =
        pushes && sameRepository && work.settings.open_pull_requests
          ? pushBranchOf(progress.jobId)
          : null;
      progress.body = body;
      this.save();
    }
    const body = parseJobBody(progress.body);
    if (body === null) throw new GiveUp('The stored job body cannot be read back.');
    const github: GitHubJobLink = {
      installationId: work.installationId,
      repository: this.repository,
      pushBranch: progress.pushBranch ?? null,
    };
    const created = await createGitHubJob({
      env: ctx.env,
      tenantId: work.tenantId,
      sender: work.sender,
      deliveryId: work.deliveryId,
      jobId: progress.jobId,
      link: github,
      body,
      waitUntil: ctx.waitUntil,
    });
    if (created.kind === 'created') progress.created = true;
    else progress.refusal = created.reason;
    this.save();
  }

  private async answerRefusal(reason: string): Promise<WorkOutcome> {
    await this.commentRefusalOnce(reason);
    await recordDeliveryOutcome(this.ctx.env.DB, this.work.deliveryId, 'failed', reason);
    return 'refused';
  }

  /** What github_jobs.answered starts from: the job's branch and what it answers. */
  private answeredBase(): Answered {
    const { progress, work } = this;
    return {
      pushBranch: progress.pushBranch ?? null,
      isPullRequest: progress.rerun ? progress.rerun.isPullRequest : work.isPullRequest,
    };
  }

  private async recordJob(head: z.infer<typeof headSchema>): Promise<void> {
    const { work, progress, ctx } = this;
    const jobId = progress.jobId ?? '';
    if (progress.rowWritten) return;
    await insertGitHubJob(ctx.env.DB, {
      jobId,
      tenantId: work.tenantId,
      installationId: work.installationId,
      repository: this.repository,
      trigger: work.trigger,
      deliveryId: work.deliveryId,
      issueNumber: progress.rerun ? progress.rerun.issueNumber : work.issueNumber,
      commentId: work.commentId,
      headSha: head.sha,
      headRef: head.ref,
      checkRunId: null,
      spec: JSON.stringify(progress.body),
      answered: JSON.stringify(this.answeredBase()),
      createdAt: ctx.now,
      updatedAt: ctx.now,
    });
    await recordDeliveryOutcome(ctx.env.DB, work.deliveryId, 'job_created', null, jobId);
    progress.rowWritten = true;
    this.save();
  }

  private async createCheckRun(head: z.infer<typeof headSchema>): Promise<void> {
    const { progress, ctx } = this;
    const jobId = progress.jobId ?? '';
    if (!progress.checkRun && progress.checkRunAttempted) {
      const found = await findCheckRun(this.gh, head.sha, CHECK_RUN_NAME, jobId);
      if (found !== null) {
        progress.checkRun = { id: found.id };
        this.save();
      }
    }
    if (!progress.checkRun) {
      progress.checkRunAttempted = true;
      this.save();
      const detailsUrl = jobPageUrl(ctx.env, jobId);
      const created = await orPermanentFailure(() =>
        createCheckRun(this.gh, {
          name: CHECK_RUN_NAME,
          headSha: head.sha,
          status: 'queued',
          externalId: jobId,
          ...(detailsUrl === null ? {} : { detailsUrl }),
        }),
      );
      progress.checkRun = created.ok ? { id: created.value.id } : { error: created.error };
      this.save();
    }
    if (!progress.checkRunSaved) {
      if ('id' in progress.checkRun) {
        await setCheckRunId(ctx.env.DB, jobId, progress.checkRun.id);
      } else {
        await saveAnswered(ctx.env.DB, jobId, {
          ...this.answeredBase(),
          checkRunError: progress.checkRun.error,
        });
      }
      progress.checkRunSaved = true;
      this.save();
    }
    // The job's changes that arrived meanwhile can be answered now.
    ctx.storage.makeDue(jobKey(jobId), ctx.now);
  }
}

/** Carries out (the rest of) a work item. */
export function carryOutWork(ctx: StepContext, item: Item, work: GitHubWork): Promise<WorkOutcome> {
  return new WorkRun(ctx, item, work).run();
}

/** The check run a work item created for its job, or what stopped it, once it got that far. */
export function checkRunOfWork(item: Item): { id: number } | { error: string } | null {
  const parsed = workProgressSchema.safeParse(item.progress);
  if (!parsed.success || !parsed.data.checkRunSaved) return null;
  return parsed.data.checkRun ?? null;
}
