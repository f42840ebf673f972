/**
 * The soak's summary: jobs per final status, then every count that must be zero, each followed
 * by the jobs it is about (ids, plans, faults that hit them), then what was done to the jobs.
 */
import type { Job } from './soak-api.ts';
import { checkJob, type JobRun, type Problems } from './soak-check.ts';
import type { DaytonaStats, InstalledRule } from './soak-faults.ts';
import type { Restart } from './soak-runtime.ts';

/** What happened around the jobs, for the summary. */
export interface SoakFacts {
  seed: number;
  seconds: number;
  runs: JobRun[];
  /** Jobs whose run failed inside the soak itself (an API answer it did not expect). */
  errors: string[];
  stats: DaytonaStats;
  rules: InstalledRule[];
  sandboxActions: { job: string; action: string; at: number; status: number }[];
  /** D1's rows of the tenant (GET /v1/jobs) after the run. */
  listed: Job[];
  /** Refused POSTs of the final check that every running slot was given back. */
  slotsRefused: number;
  /** The jobs of that check. */
  probeIds: string[];
  restarts: Restart[];
  reloads: number;
  /** /health answers slower than 2 s while the runtime was up (see SoakRuntime.watch). */
  stalls: { at: number; ms: number }[];
  /** When the soak started (Unix ms). */
  started: number;
  refused: Map<string, number>;
  unanswered: number;
  serverErrors: Map<string, number>;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Prints the summary; resolves true when every count that must be zero is. */
export function report(f: SoakFacts): boolean {
  const problems: Problems = {
    output: [],
    eventLog: [],
    watcher: [],
    duplicateStart: [],
    lateStart: [],
    outcome: [],
  };
  const byJob = new Map(f.runs.map((r) => [r.id, r]));
  for (const rule of f.rules) {
    if (rule.job && rule.fired > 0) byJob.get(rule.job)?.faults.push(String(rule.rule['action']));
  }
  for (const a of f.sandboxActions) if (a.status === 200) byJob.get(a.job)?.faults.push(a.action);
  for (const run of f.runs) checkJob(run, problems);

  // Daytona's side: sandboxes per job, what is left, and start requests that reached a sandbox.
  const sandboxes = Object.entries(f.stats.sandboxes);
  const leaked = sandboxes
    .filter(([, s]) => s.state !== 'destroyed' || s.processesAlive > 0)
    .map(
      ([sid, s]) =>
        `${describe(byJob, s.name)}: sandbox ${sid} ${s.state}, ${s.processesAlive} processes`,
    );
  if (f.stats.processesAlive > 0 && leaked.length === 0)
    leaked.push(`${f.stats.processesAlive} sandbox processes alive`);
  const perName = new Map<string, number>();
  for (const [, s] of sandboxes) perName.set(s.name, (perName.get(s.name) ?? 0) + 1);
  const twoSandboxes = [...perName]
    .filter(([, n]) => n > 1)
    .map(([name, n]) => `${describe(byJob, name)}: ${n} sandboxes`);
  for (const [sid, s] of sandboxes) {
    if (s.sessionCommands > 1)
      problems.duplicateStart.push(
        `${describe(byJob, s.name)}: sandbox ${sid} got ${s.sessionCommands} session commands`,
      );
  }
  const stuck = f.runs
    .filter((r) => r.stuck)
    .map((r) => `${describe(byJob, `omni-${r.id}`)}: still ${r.job.status}`);
  const listed = new Map(f.listed.map((j) => [j.id, j]));
  const d1 = f.runs
    .filter((r) => listed.get(r.id)?.status !== r.job.status)
    .map(
      (r) => `${r.id}: D1 ${listed.get(r.id)?.status ?? 'has no row'}, the job is ${r.job.status}`,
    );
  const probes = new Set(f.probeIds);
  const strangers = f.listed.filter((j) => !byJob.has(j.id) && !probes.has(j.id));

  const counts = new Map<string, number>();
  for (const r of f.runs) {
    const key = r.job.status === 'failed' ? `failed ${r.job.error?.code}` : r.job.status;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const statusLine = [...counts]
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

  const zero: [string, string[]][] = [
    ['sandboxes leaked', leaked],
    ['output mismatches', problems.output],
    ['stuck jobs', stuck],
    ['duplicate command starts', problems.duplicateStart],
    ['event log violations', problems.eventLog],
    ['watcher violations', problems.watcher],
    ['commands started after their job ended', problems.lateStart],
    ['unexpected final statuses', problems.outcome],
    ['jobs with more than one sandbox', twoSandboxes],
    ['D1 rows not equal to their job', d1],
    ['jobs nobody created (from GET /v1/jobs)', strangers.map((j) => `${j.id} ${j.status}`)],
    ['running slots not given back', f.slotsRefused > 0 ? [`${f.slotsRefused} refused`] : []],
    ['soak errors', f.errors],
  ];
  console.log(`\njobs per final status: ${statusLine} (${plural(f.runs.length, 'job')})`);
  for (const [name, items] of zero) {
    console.log(`${name}: ${items.length}`);
    for (const item of items.slice(0, 20)) console.log(`  - ${item}`);
    if (items.length > 20) console.log(`  … and ${items.length - 20} more`);
  }
  printActivity(f);
  console.log(`took ${f.seconds.toFixed(0)} s (seed ${f.seed})`);
  return zero.every(([, items]) => items.length === 0);
}

function describe(byJob: Map<string, JobRun>, sandboxName: string): string {
  const id = sandboxName.replace(/^omni-/, '');
  const run = byJob.get(id);
  if (!run) return `${id} (not a soak job)`;
  return `${id} (${run.plan.tag}, fault ${run.faults.join('+') || 'none'}, ${run.job.status})`;
}

/** What the soak did to the jobs. */
function printActivity(f: SoakFacts): void {
  const fired = f.rules.filter((r) => r.fired > 0);
  const byAction = new Map<string, string>();
  for (const r of f.rules) {
    const name = `${r.job ? 'job' : 'global'} ${String(r.rule['action'])}`;
    const [n = 0, k = 0] = (byAction.get(name) ?? '0/0').split('/').map(Number);
    byAction.set(name, `${n + (r.fired > 0 ? 1 : 0)}/${k + 1}`);
  }
  const runs = f.runs;
  const lateness = runs
    .filter((r) => r.job.status === 'timed_out' && r.job.finished_at)
    .map((r) => ({
      id: r.id,
      ms: Date.parse(r.job.finished_at ?? '') - (r.createdAt + r.plan.timeoutSeconds * 1000),
    }));
  console.log('\nwhat the soak did:');
  const downs = f.restarts.map((r) => `${((r.upAt - r.crashedAt) / 1000).toFixed(1)} s`);
  console.log(
    `  runtime crashed and restarted ${plural(f.restarts.length, 'time')} (down ${downs.join(', ') || '-'}); reloaded by wrangler on its own ${f.reloads}`,
  );
  for (const [i, restart] of f.restarts.entries()) printResumption(i + 1, restart, runs);
  const stalls = [...f.stalls].sort((a, b) => b.ms - a.ms);
  const worst = stalls
    .slice(0, 3)
    .map((s) => `${(s.ms / 1000).toFixed(1)} s at ${((s.at - f.started) / 1000).toFixed(0)} s`);
  console.log(
    `  runtime stalls (GET /health slower than 2 s while up): ${stalls.length}${worst.length ? `; longest ${worst.join(', ')}` : ''}`,
  );
  console.log(
    `  fault rules: ${fired.length} of ${f.rules.length} fired (fired/installed: ${[...byAction].map(([k, v]) => `${k} ${v}`).join(', ')})`,
  );
  const acts = f.sandboxActions;
  // How long after its sandbox vanished each stalled job ended (the stall window is 10 s).
  const stallMs = runs.flatMap((r) => {
    const act = acts.find((a) => a.job === r.id && a.status === 200);
    const end = Date.parse(r.job.finished_at ?? '');
    return act && r.job.error?.code === 'stalled' ? [end - act.at] : [];
  });
  console.log(
    `  sandboxes lost or stopped: ${acts.filter((a) => a.status === 200).length} (${acts.length - acts.filter((a) => a.status === 200).length} found already gone)${stallMs.length ? `; stalled jobs ended ${median(stallMs)} ms (median), ${Math.max(...stallMs)} ms (max) after it` : ''}`,
  );
  const cancels = runs.flatMap((r) => r.cancels);
  console.log(
    `  cancels: ${cancels.length} sent to ${runs.filter((r) => r.cancels.length > 0).length} jobs, ${cancels.filter((s) => s === 200).length} answered 200, ${cancels.filter((s) => s === 409).length} 409`,
  );
  const watched = runs.filter((r) => r.watch);
  const reconnects = watched.reduce(
    (n, r) => n + Math.max(0, (r.watch?.closes.length ?? 1) - 1),
    0,
  );
  console.log(
    `  watchers: ${watched.length} stayed to the end (${reconnects} lost connections or refused reconnects on the way), ${runs.reduce((n, r) => n + r.plan.droppers.length, 0)} dropped abruptly`,
  );
  const waits = runs
    .filter((r) => r.plan.queue)
    .map((r) => Date.parse(r.job.provisioning_at ?? r.job.finished_at ?? '') - r.createdAt)
    .filter((ms) => ms > 1000);
  console.log(
    `  queued jobs (queue: true): ${runs.filter((r) => r.plan.queue).length}, ${waits.length} of them waited over 1 s before provisioning began (longest ${Math.max(0, ...waits)} ms); POSTs refused: ${[...f.refused].map(([k, n]) => `${k} ${n}`).join(', ') || '0'}`,
  );
  console.log(
    `  API calls without an answer ${f.unanswered}; 5xx answers: ${[...f.serverErrors].map(([k, n]) => `${k} ×${n}`).join(', ') || '0'}`,
  );
  if (lateness.length > 0) {
    const late = lateness.filter((l) => l.ms > 10_000).map((l) => `${l.id} ${l.ms} ms`);
    console.log(
      `  timed-out jobs ended after their limit by: median ${median(lateness.map((l) => l.ms))} ms, max ${Math.max(...lateness.map((l) => l.ms))} ms; over 10 s: ${late.join(', ') || 'none'}`,
    );
  }
  console.log(
    `  local-daytona: ${f.stats.sandboxesCreated} sandboxes created, ${f.stats.sandboxesExisting} exist, ${f.stats.processesAlive} processes alive, ${f.stats.sessionCommands} session commands`,
  );
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/**
 * How soon the jobs that were active when the runtime crashed did something again once it was
 * back: the time from the restart to each one's next event (output or status).
 */
function printResumption(n: number, restart: Restart, runs: JobRun[]): void {
  const gaps: { id: string; ms: number }[] = [];
  for (const run of runs) {
    const finished = Date.parse(run.job.finished_at ?? '') || Infinity;
    if (run.createdAt >= restart.crashedAt || finished <= restart.crashedAt) continue;
    const next = run.events.find((e) => Date.parse(e.ts) >= restart.upAt);
    if (next) gaps.push({ id: run.id, ms: Date.parse(next.ts) - restart.upAt });
  }
  if (gaps.length === 0) return;
  const worst = gaps.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(
    `    after crash ${n}: ${gaps.length} active jobs; next event ${median(gaps.map((g) => g.ms))} ms (median), ${worst.ms} ms (max, ${worst.id}) after the runtime was back`,
  );
}
