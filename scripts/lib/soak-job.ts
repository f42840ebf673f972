/**
 * One soak job from creation to the end: creates it, aims its fault at it, sends its cancels,
 * connects its watchers, waits until it has ended (or is stuck: still not final 60 s after its
 * time limit) and reads back its event log and start markers.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isFinal, type Job, type SoakApi } from './soak-api.ts';
import type { JobRun } from './soak-check.ts';
import type { SoakFaults } from './soak-faults.ts';
import type { JobPlan, Random } from './soak-plan.ts';
import { dropAfter, watchToEnd, type WatchResult } from './soak-watch.ts';

/** A job not final this long after its time limit is stuck. */
export const STUCK_GRACE_MS = 60_000;

/** What runJob() needs from the soak. */
export interface JobContext {
  api: SoakApi;
  faults: SoakFaults;
  random: Random;
  url: string;
  apiKey: string;
  repoUrl: string;
  markerDir: string;
  /** Counts POSTs refused because the tenant's running-jobs cap was reached. */
  onRefused(status: number, code: string | undefined): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the job of `plan`, does to it what the plan says and returns what happened. */
export async function runJob(plan: JobPlan, ctx: JobContext): Promise<JobRun> {
  const body = {
    repo: { url: ctx.repoUrl },
    command: plan.command,
    timeout_seconds: plan.timeoutSeconds,
    ...(plan.queue ? { queue: true } : {}),
  };
  const key = crypto.randomUUID();
  let job: Job | null = null;
  while (!job) {
    const created = await ctx.api.create(body, key, Date.now() + 180_000);
    if (created.kind === 'created') job = created.job;
    else {
      ctx.onRefused(created.status, created.code);
      if (created.code !== 'concurrency_limit') {
        throw new Error(`POST /v1/jobs for ${plan.tag} answered ${created.status} ${created.code}`);
      }
      await sleep(ctx.random.int(500, 2000));
    }
  }
  const id = job.id;
  const createdAt = Date.parse(job.created_at);
  const stuckAt = createdAt + plan.timeoutSeconds * 1000 + STUCK_GRACE_MS;
  if (plan.fault) await ctx.faults.addForJob(plan.fault, id, ctx.random);

  const sideTasks: Promise<unknown>[] = [];
  const later = (ms: number, task: () => Promise<unknown>) => sideTasks.push(sleep(ms).then(task));
  const cancels: number[] = [];
  if (plan.cancel) {
    const { afterMs, againAfterMs } = plan.cancel;
    const cancel = async () => cancels.push(await ctx.api.cancel(id, stuckAt));
    later(afterMs, cancel);
    if (againAfterMs !== null) later(afterMs + againAfterMs, cancel);
  }
  let watch: Promise<WatchResult> | null = null;
  if (plan.watcher) {
    const { afterMs, after } = plan.watcher;
    watch = sleep(afterMs).then(() => watchToEnd(ctx.url, ctx.apiKey, id, after, stuckAt + 30_000));
  }
  for (const d of plan.droppers) {
    later(d.atMs, () => dropAfter(ctx.url, ctx.apiKey, id, ctx.random.int(0, 5), d.forMs));
  }

  // Wait for the end; a sandbox to lose or stop goes once the job is seen running.
  let acted = false;
  while (!isFinal(job.status) && Date.now() < stuckAt) {
    await sleep(1000);
    job = await ctx.api.get(id, stuckAt + 30_000);
    if (!acted && job.status === 'running' && (plan.fault === 'lose' || plan.fault === 'stop')) {
      acted = true;
      const action = plan.fault;
      later(ctx.random.int(0, 2000), () => ctx.faults.act(action, id));
    }
  }
  const stuck = !isFinal(job.status);
  await Promise.all(sideTasks);
  const events = await ctx.api.events(id, Date.now() + 120_000);
  const watched = watch ? await watch : null;
  const markers = await readFile(join(ctx.markerDir, plan.tag), 'utf8').catch(() => '');
  return {
    plan,
    id,
    createdAt,
    job,
    stuck,
    events,
    watch: watched,
    cancels,
    starts: markers.split('\n').filter(Boolean).map(Number),
    faults: [],
  };
}
