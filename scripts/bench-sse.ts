/**
 * `npm run bench:sse`: what Server-Sent Events (GET /v1/jobs/{id}/events, Accept:
 * text/event-stream) cost workerd on `wrangler dev`, next to WebSocket watchers of the same job.
 *
 * 1. Replay: a finished job with 16 MiB of output, read from the start by 20 WebSocket watchers,
 *    then by 20 SSE clients whose connections last 10 s (so each reconnects a few times). For
 *    each: workerd's resident memory (VmRSS of its processes, summed) before and at its peak,
 *    its CPU time (utime + stime), and whether every client got every byte with every event
 *    once, in order.
 * 2. Live: a job that prints a line every 20 ms for about 30 s, followed by 20 SSE clients whose
 *    connections last 10 s (EVENT_STREAM_MAX_SECONDS), so that each reconnects with
 *    Last-Event-ID a few times while it runs; the same checks, and workerd's CPU per event sent.
 *
 * Options (environment): BENCH_SSE_CLIENTS (20), BENCH_SSE_MIB (16), BENCH_SSE_LINES (1500).
 */
import { appendFile, readFile } from 'node:fs/promises';
import { openWatcher, openWatchers } from './lib/bench-watcher.ts';
import {
  createJob,
  mib,
  rssBytes,
  startBenchStack,
  waitForEnd,
  workerdPids,
} from './lib/bench-stack.ts';
import { follow, type FollowResult } from './lib/sse-follower.ts';

const clients = Number(process.env.BENCH_SSE_CLIENTS ?? 20);
const outputBytes = Number(process.env.BENCH_SSE_MIB ?? 16) * 1024 * 1024;
const lines = Number(process.env.BENCH_SSE_LINES ?? 1500);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU ticks (user + system, 1/100 s) each process has used so far, from /proc/<pid>/stat. */
async function cpuTicks(pids: number[]): Promise<Map<number, number>> {
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks.set(pid, Number(fields[11] ?? 0) + Number(fields[12] ?? 0));
  }
  return ticks;
}

/** CPU seconds used between two readings, by the processes present in both. */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, then] of before) {
    const now = after.get(pid);
    if (now !== undefined) ticks += now - then;
  }
  return ticks / 100;
}

/** Runs `work` while sampling memory; answers its result with the peak and the CPU it took. */
async function measure<T>(
  rootPid: number,
  work: () => Promise<T>,
): Promise<{ result: T; before: number; peak: number; cpu: number; seconds: number }> {
  await sleep(2000);
  // Found again each time: wrangler dev starts a new workerd when it reloads.
  const pids = await workerdPids(rootPid);
  const before = await rssBytes(pids);
  const cpuBefore = await cpuTicks(pids);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssBytes(pids));
      await sleep(50);
    }
  })();
  const started = Date.now();
  try {
    const result = await work();
    return {
      result,
      before,
      peak,
      cpu: cpuBetween(cpuBefore, await cpuTicks(pids)),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    sampling = false;
    await sampler;
  }
}

function report(name: string, m: { before: number; peak: number; cpu: number; seconds: number }) {
  console.log(
    `${name}: ${m.seconds.toFixed(1)} s; workerd RSS before ${mib(m.before)}, peak ${mib(m.peak)} ` +
      `(+${mib(m.peak - m.before)}); workerd CPU ${m.cpu.toFixed(2)} s`,
  );
}

function checks(results: FollowResult[], stdoutBytes: number | null): string {
  const complete = results.filter(
    (r) =>
      r.seqErrors === 0 &&
      r.ended === 'end' &&
      (stdoutBytes === null || r.stdoutBytes === stdoutBytes),
  ).length;
  const connections = results.reduce((n, r) => n + r.connections, 0);
  const errors = results.reduce((n, r) => n + r.seqErrors, 0);
  const dropped = results.reduce((n, r) => n + r.dropped, 0);
  return `complete ${complete} of ${results.length}; events lost, repeated or out of order: ${errors}; connections ${connections}, of which broke: ${dropped}`;
}

const bench = await startBenchStack(
  'bench-sse',
  { EVENT_STREAM_MAX_SECONDS: '10' },
  process.env.BENCH_SSE_LOG
    ? (line) => void appendFile(process.env.BENCH_SSE_LOG ?? '', `${line}\n`)
    : undefined,
);
try {
  if (bench.stack.pid === undefined) throw new Error('wrangler dev has no pid');
  const root = bench.stack.pid;
  if ((await workerdPids(root)).length === 0) throw new Error('no workerd under wrangler dev');
  const { url, apiKey } = bench.stack;

  const big = await createJob(bench, `head -c ${outputBytes} /dev/zero | tr '\\0' a`);
  console.log(`job ${big}: printing ${mib(outputBytes)} …`);
  if ((await waitForEnd(bench, big, 300_000)) !== 'succeeded') throw new Error('the job failed');

  const ws = await measure(root, async () => {
    const watchers = await openWatchers(clients, clients, () =>
      openWatcher(url, apiKey, big, 600_000),
    );
    return Promise.all(watchers.map((w) => w.done));
  });
  report(`replay, ${clients} WebSocket watchers of ${mib(outputBytes)}`, ws);
  const wsComplete = ws.result.filter((r) => r.stdoutBytes === outputBytes && r.code === 1000);
  console.log(`  complete ${wsComplete.length} of ${clients}`);

  const sse = await measure(root, () =>
    Promise.all(Array.from({ length: clients }, () => follow(url, apiKey, big))),
  );
  report(`replay, ${clients} SSE clients of ${mib(outputBytes)}`, sse);
  console.log(`  ${checks(sse.result, outputBytes)}`);

  const live = await createJob(
    bench,
    `for i in $(seq ${lines}); do echo "line $i"; sleep 0.02; done`,
  );
  let events = 0;
  const followed = await measure(root, () =>
    Promise.all(
      Array.from({ length: clients }, () =>
        follow(url, apiKey, live, { onEvent: () => (events += 1) }),
      ),
    ),
  );
  report(`live, ${clients} SSE clients of a job printing ${lines} lines`, followed);
  console.log(`  ${checks(followed.result, null)}`);
  const stdoutLines = followed.result.map((r) => r.stdoutBytes);
  console.log(
    `  stdout bytes per client: ${Math.min(...stdoutLines)}..${Math.max(...stdoutLines)}; ` +
      `events sent ${events}; workerd CPU per 1000 events ${((followed.cpu / events) * 1000).toFixed(3)} s`,
  );
} finally {
  await bench.close();
}
