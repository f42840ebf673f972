/**
 * What GitHubAppDO writes to D1: the outcome of a delivery it carried out (github_deliveries),
 * and the jobs it started with what it already told GitHub about them (github_jobs). Every
 * write is safe to repeat, as the alarm retries a step whose answer it did not see.
 */
import { and, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import {
  githubDeliveries,
  githubJobs,
  type GitHubDeliveryOutcome,
  type GitHubJobRow,
} from '../../worker/db/schema.ts';

/** Sets what became of delivery `deliveryId`, and the job it started if it did. */
export async function recordDeliveryOutcome(
  d1: D1Database,
  deliveryId: string,
  outcome: GitHubDeliveryOutcome,
  reason: string | null,
  jobId: string | null = null,
): Promise<void> {
  await drizzle(d1)
    .update(githubDeliveries)
    .set({ outcome, reason: reason?.slice(0, 1_000) ?? null, jobId, updatedAt: Date.now() })
    .where(eq(githubDeliveries.deliveryId, deliveryId));
}

/** Records a job started from GitHub (nothing happens if it was recorded already). */
export async function insertGitHubJob(d1: D1Database, row: GitHubJobRow): Promise<void> {
  await drizzle(d1).insert(githubJobs).values(row).onConflictDoNothing();
}

/** The GitHub job `jobId`, or null. */
export async function findGitHubJob(d1: D1Database, jobId: string): Promise<GitHubJobRow | null> {
  const rows = await drizzle(d1).select().from(githubJobs).where(eq(githubJobs.jobId, jobId));
  return rows[0] ?? null;
}

/** The GitHub job whose check run is `checkRunId` in installation `installationId`, or null. */
export async function findGitHubJobByCheckRun(
  d1: D1Database,
  installationId: number,
  checkRunId: number,
): Promise<GitHubJobRow | null> {
  const rows = await drizzle(d1)
    .select()
    .from(githubJobs)
    .where(
      and(eq(githubJobs.installationId, installationId), eq(githubJobs.checkRunId, checkRunId)),
    )
    .limit(1);
  return rows[0] ?? null;
}

/** Records the check run of GitHub job `jobId`. */
export async function setCheckRunId(
  d1: D1Database,
  jobId: string,
  checkRunId: number,
): Promise<void> {
  await drizzle(d1)
    .update(githubJobs)
    .set({ checkRunId, updatedAt: Date.now() })
    .where(eq(githubJobs.jobId, jobId));
}

/** What Omni told GitHub about a job (github_jobs.answered). */
export const answeredSchema = z.object({
  /** The branch the job was to push its changes to (a rerun pushes again if this is set). */
  pushBranch: z.string().nullable().default(null),
  /** The job answers a pull request (its changes are proposed without closing it). */
  isPullRequest: z.boolean().default(false),
  /** Why the check run could not be created, when it could not. */
  checkRunError: z.string().optional(),
  /** The check run's last status sent. */
  checkRun: z.enum(['queued', 'in_progress', 'completed']).optional(),
  pullRequest: z
    .union([
      z.object({ number: z.number().int(), url: z.string() }),
      z.object({ error: z.string() }),
    ])
    .optional(),
  comment: z
    .union([z.object({ id: z.number().int() }), z.object({ error: z.string() })])
    .optional(),
  /**
   * Set before the pull request is asked for, and when the comment was first asked for: a retry
   * after an attempt whose answer was lost looks for what it may have created (by the branch,
   * by the job's marker in the comment) instead of creating it again.
   */
  pullRequestAttempted: z.boolean().optional(),
  commentAttemptedAt: z.number().int().optional(),
});

export type Answered = z.infer<typeof answeredSchema>;

/** Reads github_jobs.answered; a value that does not parse counts as nothing sent but the branch. */
export function parseAnswered(text: string): Answered {
  const parsed = answeredSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : { pushBranch: null, isPullRequest: false };
}

/** Mirrors what was told to GitHub about job `jobId` into D1. */
export async function saveAnswered(
  d1: D1Database,
  jobId: string,
  answered: Answered,
): Promise<void> {
  await drizzle(d1)
    .update(githubJobs)
    .set({ answered: JSON.stringify(answered), updatedAt: Date.now() })
    .where(eq(githubJobs.jobId, jobId));
}
