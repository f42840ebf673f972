/**
 * `npm run bench:replay`: workerd's memory while 20 WebSocket watchers replay the log of one
 * finished job with 16 MiB of output, on `wrangler dev` (loopback only, rate limits off).
 *
 * Memory is the resident set (VmRSS in /proc/<pid>/status) of the workerd processes that
 * `wrangler dev` spawned, summed, sampled every 50 ms: before the watchers connect, its peak
 * while they replay, and a few seconds after they were closed. Each watcher must get every
 * byte, with every event once and in order. Target: under 100 MB of growth.
 *
 * Options (environment): BENCH_REPLAY_WATCHERS (20), BENCH_REPLAY_MIB (16), BENCH_DEFLATE (1:
 * the watchers ask for permessage-deflate, as browsers do; 0: they do not).
 */
import { openWatcher, openWatchers } from './lib/bench-watcher.ts';
import {
  createJob,
  mib,
  rssBytes,
  startBenchStack,
  waitForEnd,
  workerdPids,
} from './lib/bench-stack.ts';

const watcherCount = Number(process.env.BENCH_REPLAY_WATCHERS ?? 20);
const outputBytes = Number(process.env.BENCH_REPLAY_MIB ?? 16) * 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const bench = await startBenchStack('bench-replay');
try {
  if (bench.stack.pid === undefined) throw new Error('wrangler dev has no pid');
  const pids = await workerdPids(bench.stack.pid);
  if (pids.length === 0)
    throw new Error(`no workerd process under wrangler dev (${bench.stack.pid})`);

  const id = await createJob(bench, `head -c ${outputBytes} /dev/zero | tr '\\0' a`);
  console.log(`job ${id}: printing ${mib(outputBytes)} …`);
  const status = await waitForEnd(bench, id, 300_000);
  if (status !== 'succeeded') throw new Error(`the job ended ${status}`);
  // Let the runtime settle (the job's last steps, garbage collection) before the baseline.
  await sleep(3000);
  const before = await rssBytes(pids);

  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssBytes(pids));
      await sleep(50);
    }
  })();
  const started = Date.now();
  const watchers = await openWatchers(watcherCount, watcherCount, () =>
    openWatcher(bench.stack.url, bench.stack.apiKey, id, 600_000),
  );
  const results = await Promise.all(watchers.map((w) => w.done));
  const replayS = (Date.now() - started) / 1000;
  sampling = false;
  await sampler;
  await sleep(3000);
  const after = await rssBytes(pids);

  const complete = results.filter((r) => r.stdoutBytes === outputBytes && r.code === 1000).length;
  const seqErrors = results.reduce((n, r) => n + r.seqErrors, 0);
  console.log(`\nwrangler dev on ${bench.stack.url}; workerd pids ${pids.join(', ')}`);
  console.log(
    `${watcherCount} watchers replayed ${mib(outputBytes)} each in ${replayS.toFixed(1)} s`,
  );
  console.log(`  complete (every byte, closed with 1000): ${complete} of ${watcherCount}`);
  console.log(`  events out of order, lost or repeated:   ${seqErrors}`);
  console.log(`workerd RSS before ${mib(before)}, peak ${mib(peak)}, after ${mib(after)}`);
  console.log(`  growth at peak: ${mib(peak - before)} (target: under 100 MB)`);
} finally {
  await bench.close();
}
