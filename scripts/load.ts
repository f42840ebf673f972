/**
 * `npm run load -- --minutes N --rate R`: a steady mix of job creates, reads (one job, the list),
 * stream watchers (WebSocket, kept open until the job ends) and cancels, R operations a minute
 * for N minutes, started at fixed intervals whatever the answers take (an open loop). Prints
 * p50/p95/p99 and errors per operation for each minute and, at the end, whether latency or errors
 * drifted between the first and the last minute (scripts/lib/load-ops.ts `drift`: p95 up by more
 * than 50 % and 20 ms, p50 when a minute has under 15 samples of an operation, or new errors).
 *
 * Against a local stack it starts (local-daytona, `wrangler dev`, rate limits off), or against
 * `--url U --key K --repo GIT_URL` (a deployed Omni: the key's tenant pays for the jobs).
 * Defaults: 3 minutes at 17 operations a minute (1,000 an hour). Exits 1 when it saw drift.
 */
import { parseArgs } from 'node:util';
import { startBenchStack, type BenchStack } from './lib/bench-stack.ts';
import {
  drift,
  emptyMinute,
  minuteLines,
  runOperation,
  type MinuteStats,
  type Operation,
  type Target,
} from './lib/load-ops.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    rate: { type: 'string', default: '17' },
    url: { type: 'string' },
    key: { type: 'string' },
    repo: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
if (!(minutes > 0) || !(rate > 0)) {
  console.error(
    'usage: npm run load -- --minutes N --rate OPS_PER_MINUTE [--url U --key K --repo R]',
  );
  process.exit(2);
}

// Out of every 20 operations: 6 creates, 5 reads, 3 lists, 3 streams, 3 cancels.
const pattern: Operation[] = [
  'create',
  'read',
  'list',
  'create',
  'stream',
  'read',
  'cancel',
  'create',
  'read',
  'list',
  'stream',
  'create',
  'read',
  'cancel',
  'create',
  'list',
  'stream',
  'read',
  'create',
  'cancel',
];

let bench: BenchStack | undefined;
let target: Target;
if (values.url) {
  if (!values.key || !values.repo) {
    console.error('--url needs --key (an API key) and --repo (a repository jobs can clone)');
    process.exit(2);
  }
  target = { url: values.url.replace(/\/$/, ''), apiKey: values.key, repoUrl: values.repo };
} else {
  bench = await startBenchStack('load');
  target = { url: bench.stack.url, apiKey: bench.stack.apiKey, repoUrl: bench.repoUrl };
}

const byMinute: Record<Operation, MinuteStats>[] = Array.from({ length: minutes }, emptyMinute);
const recent: string[] = [];
const open = new Set<Promise<unknown>>();
const inFlight = new Set<Promise<void>>();
const interval = 60_000 / rate;
const total = Math.round(minutes * rate);
const started = Date.now();
console.log(`load on ${target.url}: ${total} operations, ${rate}/min for ${minutes} min`);
try {
  let shown = 0;
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    const minute = Math.min(minutes - 1, Math.floor((Date.now() - started) / 60_000));
    if (minute > shown) {
      console.log(
        `minute ${shown + 1} sent; ${inFlight.size} operation(s) in flight, ${open.size} watcher(s) open`,
      );
      shown = minute;
    }
    const op = pattern[i % pattern.length] ?? 'read';
    const stats = byMinute[minute]?.[op];
    const task = runOperation(target, op, recent, open).then(
      (ms) => void stats?.times.push(ms),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        stats?.errors.set(message, (stats.errors.get(message) ?? 0) + 1);
      },
    );
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await Promise.all(inFlight);
  await Promise.race([Promise.all(open), new Promise((resolve) => setTimeout(resolve, 60_000))]);
  // Each operation counts in the minute it started in.
  for (const [m, stats] of byMinute.entries()) {
    for (const line of minuteLines(m + 1, stats)) console.log(line);
  }
  const first = byMinute[0] ?? emptyMinute();
  const last = byMinute[minutes - 1] ?? emptyMinute();
  const found = minutes > 1 ? drift(first, last) : [];
  console.log(`still open after the run: ${open.size} watcher(s)`);
  if (minutes < 2) console.log('drift: not judged (one minute only)');
  else if (found.length === 0) console.log(`drift: none (minute 1 against minute ${minutes})`);
  else {
    console.log(`drift (minute 1 against minute ${minutes}):`);
    for (const line of found) console.log(`  ${line}`);
    process.exitCode = 1;
  }
} finally {
  await bench?.close();
}
