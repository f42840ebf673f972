/**
 * What the soak checks about one job once it has ended: its stored output against what its
 * command printed, its event log, what its staying watcher saw, how often and when its command
 * started, and whether its final status is one the things done to it allow.
 */
import { isFinal, type Job, type JobEvent } from './soak-api.ts';
import type { JobPlan } from './soak-plan.ts';
import type { WatchResult } from './soak-watch.ts';

/** Everything the soak knows about one job at the end. */
export interface JobRun {
  plan: JobPlan;
  id: string;
  createdAt: number;
  /** The job as it ended, or as it was last seen if it never did (stuck). */
  job: Job;
  stuck: boolean;
  events: JobEvent[];
  watch: WatchResult | null;
  /** Statuses the cancel calls were answered with. */
  cancels: number[];
  /** When the command started (from its marker file), in Unix ms; one entry per start. */
  starts: number[];
  /** The job-aimed faults that took effect (rules that fired, sandboxes lost or stopped). */
  faults: string[];
}

/** The kinds of problem a job can show; all must be zero. */
export interface Problems {
  output: string[];
  eventLog: string[];
  watcher: string[];
  duplicateStart: string[];
  lateStart: string[];
  outcome: string[];
}

const ORDER = ['queued', 'provisioning', 'cloning', 'running'];
/** A command start may be written this long after the request that started it was answered. */
const START_SLACK_MS = 2000;

const text = (events: JobEvent[], type: string) =>
  events
    .filter((e) => e.type === type)
    .map((e) => e.data ?? '')
    .join('');

/** Adds what is wrong with `run` to `problems`. */
export function checkJob(run: JobRun, problems: Problems): void {
  const { plan, job, events, id } = run;
  const where = `${id} (${plan.tag}, ${plan.kind}, fault ${run.faults.join('+') || 'none'}, ${job.status}${job.error ? ` ${job.error.code}` : ''})`;
  const stdout = text(events, 'stdout');
  const stderr = text(events, 'stderr');

  // Output: whole and exact if the command ran to its end, else a prefix.
  if (job.exit_code !== null) {
    if (job.exit_code !== plan.exitCode)
      problems.output.push(
        `${where}: exit code ${job.exit_code}, the command exits ${plan.exitCode}`,
      );
    if (stdout !== plan.stdout)
      problems.output.push(`${where}: stdout ${diff(stdout, plan.stdout)}`);
    if (stderr !== plan.stderr)
      problems.output.push(`${where}: stderr ${diff(stderr, plan.stderr)}`);
  } else {
    if (!plan.stdout.startsWith(stdout))
      problems.output.push(`${where}: stdout is not a prefix: ${diff(stdout, plan.stdout)}`);
    if (!plan.stderr.startsWith(stderr))
      problems.output.push(`${where}: stderr is not a prefix: ${diff(stderr, plan.stderr)}`);
  }

  checkLog(run, where, problems);
  if (run.watch) checkWatcher(run, run.watch, where, problems);

  // Starts: at most one, and never after the job ended.
  const firstLine = `${plan.tag} out 1 `;
  const shownTwice = stdout.split(firstLine).length > 2;
  if (run.starts.length > 1 || shownTwice) {
    problems.duplicateStart.push(
      `${where}: the command started ${run.starts.length} times` +
        (shownTwice ? ' and its output shows it twice' : ''),
    );
  }
  const finishedAt = job.finished_at ? Date.parse(job.finished_at) : Infinity;
  const late = run.starts.find((t) => t > finishedAt + START_SLACK_MS);
  if (late !== undefined)
    problems.lateStart.push(`${where}: started ${late - finishedAt} ms after the job ended`);

  checkOutcome(run, where, problems);
}

function checkLog(run: JobRun, where: string, problems: Problems): void {
  const { events, job } = run;
  const bad = (what: string) => problems.eventLog.push(`${where}: ${what}`);
  const descent = firstDescent(events.map((e) => e.seq));
  if (descent) bad(`seq ${descent[1]} follows ${descent[0]}`);
  const statuses = events.filter((e) => e.type === 'status').map((e) => e.status ?? '?');
  const finals = statuses.filter(isFinal);
  if (finals.length !== 1) bad(`${finals.length} final status events (${statuses.join(' → ')})`);
  const last = events.at(-1);
  if (run.stuck) return;
  if (last?.type !== 'status' || last.status !== job.status)
    bad(`the log ends with ${last?.type} ${last?.status ?? ''}, the job is ${job.status}`);
  const steps = statuses.filter((s) => !isFinal(s)).map((s) => ORDER.indexOf(s));
  if (steps[0] !== 0 || firstDescent(steps)) bad(`statuses out of order: ${statuses.join(' → ')}`);
  const exits = events.filter((e) => e.type === 'exit');
  const exitCode = exits[0]?.exit_code ?? null;
  if (exits.length > 1 || exitCode !== job.exit_code)
    bad(`${exits.length} exit events (code ${exitCode}), the job's exit_code is ${job.exit_code}`);
}

function checkWatcher(run: JobRun, watch: WatchResult, where: string, problems: Problems): void {
  const from = run.plan.watcher?.after ?? 0;
  const expected = run.events.filter((e) => e.seq > from);
  const got = watch.events;
  const bad = (what: string) =>
    problems.watcher.push(
      `${where}: watcher from ${from}, closes ${watch.closes.join(',')}: ${what}`,
    );
  // A watcher that asked for events after the job's last one gets none, then the 1000 close.
  const nothingToSend = expected.length === 0 && got.length === 0 && watch.closes.at(-1) === 1000;
  if (!watch.ended && !nothingToSend) bad(`did not end with the final status and a 1000 close`);
  const descent = firstDescent(got.map((e) => e.seq));
  if (descent) {
    bad(`event ${descent[1]} came after ${descent[0]} (duplicate or out of order)`);
    return;
  }
  const first = got.findIndex((e, i) => JSON.stringify(e) !== JSON.stringify(expected[i]));
  if (first !== -1 || got.length !== expected.length) {
    const at = first === -1 ? Math.min(got.length, expected.length) : first;
    bad(
      `${got.length} events, the log has ${expected.length}; first difference at #${at}: ` +
        `got ${JSON.stringify(got[at])?.slice(0, 120)}, log ${JSON.stringify(expected[at])?.slice(0, 120)}`,
    );
  }
}

/** Final statuses a job may end in, given what was done to it. */
function checkOutcome(run: JobRun, where: string, problems: Problems): void {
  const { job, plan } = run;
  if (run.stuck) return;
  const bad = (what: string) => problems.outcome.push(`${where}: ${what}`);
  const canceledByUs = run.cancels.includes(200);
  if (canceledByUs && job.status !== 'canceled')
    bad(`a cancel answered 200, yet it ended ${job.status}`);
  if (!canceledByUs && job.status === 'canceled') bad('canceled, but no cancel answered 200');
  if (run.cancels.filter((s) => s === 200).length > 1) bad('two cancels both answered 200');
  const deadline = run.createdAt + plan.timeoutSeconds * 1000;
  const finishedAt = Date.parse(job.finished_at ?? '');
  if (job.status === 'timed_out' && finishedAt < deadline - 1000)
    bad(`timed out ${deadline - finishedAt} ms before its time limit`);
  const vanished = run.faults.some((f) => f.startsWith('lose') || f.startsWith('stop'));
  const code = job.error?.code;
  if (job.status === 'failed' && code !== 'command_failed') {
    // Only a sandbox that vanished can fail a job for a reason other than its command, and
    // then as `stalled` (issue 6: a sandbox or command that vanished without an exit code is a
    // stall). Every other fault the soak injects is transient, and retried within the time limit.
    if (!vanished || code !== 'stalled')
      bad(`failed with ${code}: ${job.error?.message.slice(0, 300)}`);
  }
}

/** The first pair of neighbours in `values` that does not increase, or null. */
function firstDescent(values: number[]): [number, number] | null {
  let previous: number | undefined;
  for (const value of values) {
    if (previous !== undefined && value <= previous) return [previous, value];
    previous = value;
  }
  return null;
}

/** Where two texts part, for a report line. */
function diff(got: string, want: string): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  const show = (s: string) => JSON.stringify(s.slice(Math.max(0, i - 20), i + 40));
  return `${Buffer.byteLength(got)} bytes, expected ${Buffer.byteLength(want)}; differ at char ${i}: got ${show(got)}, want ${show(want)}`;
}
