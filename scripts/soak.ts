/**
 * `npm run soak`: a few hundred short jobs on the real local stack (local-daytona and `wrangler
 * dev`, loopback only) while Daytona misbehaves at random (errors, 429s, delays, hangs, dropped
 * and cut log streams, held logs, slow starts, lost and stopped sandboxes), the runtime is
 * crashed and restarted, jobs are canceled (some twice) and watchers vanish. Then it prints jobs
 * per final status and the counts that must be zero (sandboxes leaked, output mismatches, stuck
 * jobs, duplicate command starts, …), each with the jobs concerned, and exits 1 unless all are.
 *
 *   npm run soak -- [--jobs 200] [--seconds 360] [--seed N] [--restarts 3] [--concurrency 8]
 *
 * `--seconds` caps the time new jobs are submitted; the jobs then get their time limit plus a
 * minute to end, and cleanup a bounded moment. The state directory (wrangler's and
 * local-daytona's logs) is kept when something is wrong, and its path printed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isFinal, SoakApi, type Job } from './lib/soak-api.ts';
import type { JobRun } from './lib/soak-check.ts';
import { SoakFaults } from './lib/soak-faults.ts';
import { runJob, type JobContext } from './lib/soak-job.ts';
import { planJob, Random, type JobPlan } from './lib/soak-plan.ts';
import { report } from './lib/soak-report.ts';
import { SoakRuntime, type Restart } from './lib/soak-runtime.ts';
import { createSampleRepo } from './lib/sample-repo.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '360' },
    seed: { type: 'string' },
    restarts: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    keep: { type: 'boolean', default: false },
  },
});
const jobs = Number(values.jobs);
const seconds = Number(values.seconds);
const restarts = Number(values.restarts);
const concurrency = Number(values.concurrency);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
for (const [name, n] of Object.entries({ jobs, seconds, restarts, concurrency, seed })) {
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number`);
    process.exit(2);
  }
}

/** The stall window of the run: short, so that lost sandboxes end within jobs' time limits. */
const STALL_SECONDS = 10;
/**
 * The tenant's running-jobs cap: above what the soak ever runs unqueued (so that no unqueued job
 * is refused), below what a burst of queued jobs brings (so that those really wait for a slot).
 */
const CAP = concurrency + 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks `check` every 2 s until it says yes or `ms` have passed. */
async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check()) && Date.now() < deadline) await sleep(2000);
}

const started = Date.now();
// Plans come from their own generator, so that a seed always gives the same jobs; the moments
// of faults, cancels and watchers depend on timing anyway.
const plans = new Random(seed);
const random = new Random(seed ^ 0x9e3779b9);
const state = await mkdtemp(join(tmpdir(), 'omni-soak-'));
const markerDir = join(state, 'starts');
await mkdir(markerDir);
const repo = await createSampleRepo(state);
const runtime = await SoakRuntime.open({
  persistTo: join(state, 'wrangler'),
  logFile: join(state, 'stack.log'),
  vars: {
    // One client on one address would only measure the rate limiter's 429s.
    RATE_LIMITS: 'off',
    TENANT_MAX_RUNNING_JOBS: String(CAP),
    JOB_STALL_SECONDS: String(STALL_SECONDS),
    JOB_POLL_SECONDS: '2',
    DAYTONA_CALL_TIMEOUT_SECONDS: '20',
  },
});
console.log(
  `soak: ${jobs} jobs, at most ${seconds} s of submissions, seed ${seed}; state in ${state}`,
);
let ok = false;
runtime.watch();
try {
  const api = new SoakApi(runtime.url, runtime.apiKey);
  const faults = new SoakFaults(runtime.daytona.adminUrl, runtime.daytona.apiKey);
  const refused = new Map<string, number>();
  const ctx: JobContext = {
    api,
    faults,
    random,
    url: runtime.url,
    apiKey: runtime.apiKey,
    repoUrl: repo.url,
    markerDir,
    onRefused: (status, code) => {
      const k = `${status} ${code}`;
      refused.set(k, (refused.get(k) ?? 0) + 1);
    },
  };

  // Submissions: up to `concurrency` unqueued jobs at once, and now and then a burst of queued
  // ones beyond the cap. Meanwhile global faults and runtime crashes, at random.
  const submitUntil = Date.now() + seconds * 1000;
  const runs: Promise<JobRun | string>[] = [];
  const restartsDone: Restart[] = [];
  let active = 0;
  let submitted = 0;
  let printed = 0;
  let chaosAt = Date.now() + random.int(2000, 8000);
  let restarting: Promise<void> | null = null;
  const submit = (plan: JobPlan) => {
    active++;
    submitted++;
    runs.push(
      runJob(plan, ctx)
        .catch(
          (error: unknown) =>
            `${plan.tag}: ${error instanceof Error ? error.message : String(error)}`,
        )
        .finally(() => active--),
    );
  };
  while (submitted < jobs && Date.now() < submitUntil) {
    const due = Math.floor((jobs * (restartsDone.length + 1)) / (restarts + 1));
    if (!restarting && restartsDone.length < restarts && submitted >= due) {
      restarting = runtime.restart().then((restart) => {
        restartsDone.push(restart);
        const at = (restart.crashedAt - started) / 1000;
        const down = (restart.upAt - restart.crashedAt) / 1000;
        console.log(`  runtime crashed at ${at.toFixed(0)} s, up again ${down.toFixed(1)} s later`);
        restarting = null;
      });
    }
    if (Date.now() >= chaosAt) {
      await faults.addGlobal(random);
      chaosAt = Date.now() + random.int(2000, 8000);
    }
    if (active < concurrency) {
      const burst = plans.chance(0.05) ? plans.int(4, 10) : 0;
      for (let i = 0; i < Math.max(1, burst) && submitted < jobs; i++) {
        const plan = planJob(plans, submitted + 1, markerDir, STALL_SECONDS);
        plan.queue = burst > 0 || plans.chance(0.1);
        submit(plan);
      }
      if (submitted >= printed + 20) {
        printed = submitted;
        console.log(`  ${submitted} jobs submitted, ${active} active`);
      }
    }
    await sleep(random.int(50, 400));
  }
  await restarting;
  const results = await Promise.all(runs);
  const done = results.filter((r): r is JobRun => typeof r !== 'string');
  const errors = results.filter((r): r is string => typeof r === 'string');
  console.log(
    `  every job has ended or is stuck (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );

  // Let go of what the rules hold, give cleanup a bounded moment (sandbox deletion, slots, D1
  // rows), then check that every running slot was given back: a whole cap of unqueued jobs must
  // be accepted.
  await faults.readFired();
  await faults.clear();
  runtime.unwatch();
  let listed: Job[] = [];
  const settled = async () => {
    const stats = await faults.stats();
    listed = await api.list(Date.now() + 60_000);
    const rows = new Map(listed.map((j) => [j.id, j.status]));
    return (
      stats.sandboxesExisting === 0 &&
      stats.processesAlive === 0 &&
      done.every((r) => rows.get(r.id) === r.job.status)
    );
  };
  await until(settled, 120_000);
  const probes = await Promise.all(
    Array.from({ length: CAP }, () =>
      api.create(
        { repo: { url: repo.url }, command: 'true', timeout_seconds: 60 },
        crypto.randomUUID(),
        Date.now() + 60_000,
      ),
    ),
  );
  const probeJobs = probes.flatMap((p) => (p.kind === 'created' ? [p.job] : []));
  await until(async () => {
    const now = await Promise.all(probeJobs.map((j) => api.get(j.id, Date.now() + 60_000)));
    return now.every((j) => isFinal(j.status));
  }, 60_000);
  await until(settled, 60_000);
  const stats = await faults.stats();
  ok = report({
    seed,
    seconds: (Date.now() - started) / 1000,
    runs: done,
    errors,
    stats,
    rules: faults.installed,
    sandboxActions: faults.sandboxActions,
    listed,
    slotsRefused: probes.length - probeJobs.length,
    probeIds: probeJobs.map((j) => j.id),
    restarts: restartsDone,
    reloads: runtime.reloads,
    stalls: runtime.stalls,
    started,
    refused,
    unanswered: api.counters.unanswered,
    serverErrors: api.counters.serverErrors,
  });
  // For a look at what happened to one job: its plan, its job, its events, what it saw.
  await writeFile(join(state, 'jobs.jsonl'), done.map((r) => JSON.stringify(r) + '\n').join(''));
  await writeFile(join(state, 'stats.json'), JSON.stringify(stats, null, 1));
} finally {
  await runtime.close();
  if (ok && !values.keep) await rm(state, { recursive: true, force: true });
  else
    console.log(
      `state kept for investigation: ${state} (stack.log has wrangler's output and local-daytona's requests)`,
    );
}
process.exit(ok ? 0 : 1);
