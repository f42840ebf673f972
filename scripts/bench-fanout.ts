/**
 * `npm run bench:fanout`: how the live stream of one job fans out to 1, 100, 500 and 1000
 * WebSocket watchers on `wrangler dev` (loopback only, rate limits off, as `npm run bench`).
 *
 * For each count, one job prints 100 lines a second for BENCH_FANOUT_SECONDS (default 10), each
 * line carrying its number and the time it was printed (bash's $EPOCHREALTIME, the same clock
 * as this process). The job sleeps first while the watchers connect. Printed per count: p50 and
 * p99 latency from print to receipt and lines delivered per second (all watchers together),
 * over lines printed once every watcher was connected; stream messages per second (a message is
 * one event, which may hold several lines); lines lost and duplicated over all lines and
 * watchers; events whose seq did not follow the previous one; and the resident memory of the
 * workerd processes of `wrangler dev` before the watchers connect, once they are, and at its peak.
 *
 * Options (environment): BENCH_FANOUT_SECONDS (10), BENCH_FANOUT_WATCHERS ("1,100,500,1000"),
 * BENCH_DEFLATE (1: the watchers ask for permessage-deflate, as browsers do; 0: they do not).
 */
import { openWatcher, openWatchers } from './lib/bench-watcher.ts';
import {
  createJob,
  mib,
  percentile,
  rssBytes,
  startBenchStack,
  workerdPids,
  type BenchStack,
} from './lib/bench-stack.ts';

const seconds = Number(process.env.BENCH_FANOUT_SECONDS ?? 10);
const counts = (process.env.BENCH_FANOUT_WATCHERS ?? '1,100,500,1000').split(',').map(Number);
const LINES_PER_SECOND = 100;

interface Row {
  watchers: number;
  connectS: string;
  p50: string;
  p99: string;
  msgsPerS: string;
  linesPerS: string;
  lost: number;
  duplicated: number;
  seqErrors: number;
  /** workerd's resident memory before the watchers connect, once they are, and at its peak. */
  rss: string;
}

/** Prints `total` lines at 100/s after `sleepS` seconds: `L <n> <µs since the epoch>`. */
function printCommand(sleepS: number, total: number): string {
  // Each line waits for its own slot (t0 + n × 10 ms), so the rate holds whatever sleep costs.
  return [
    `sleep ${sleepS}`,
    't0=${EPOCHREALTIME/./}',
    `for ((i=1;i<=${total};i++)); do d=$((t0 + i*10000 - \${EPOCHREALTIME/./})); ((d>0)) && sleep 0.$(printf '%06d' $d); echo "L $i \${EPOCHREALTIME/./}"; done`,
  ].join('; ');
}

async function scenario(bench: BenchStack, pids: number[], count: number): Promise<Row> {
  const total = seconds * LINES_PER_SECOND;
  const rssBefore = await rssBytes(pids);
  let rssPeak = rssBefore;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssPeak = Math.max(rssPeak, await rssBytes(pids));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const connectBudgetS = 3 + Math.ceil(count / 100);
  const id = await createJob(
    bench,
    printCommand(connectBudgetS, total),
    connectBudgetS + seconds + 120,
  );
  // received[w * (total + 1) + n]: how many times watcher w got line n.
  const received = new Uint8Array(count * (total + 1));
  const latencies: number[] = [];
  let allConnectedAt = Infinity;
  let linesInWindow = 0;
  let firstInWindow = Infinity;
  let lastReceipt = 0;
  const started = Date.now();
  let next = 0;
  const watchers = await openWatchers(count, 50, () => {
    const w = next++;
    return openWatcher(
      bench.stack.url,
      bench.stack.apiKey,
      id,
      (connectBudgetS + seconds + 120) * 1000,
      (line, at) => {
        const [tag, n, printedUs] = line.split(' ');
        const index = Number(n);
        if (tag !== 'L' || !Number.isInteger(index) || index < 1 || index > total) return;
        received[w * (total + 1) + index] = (received[w * (total + 1) + index] ?? 0) + 1;
        const printedMs = Number(printedUs) / 1000;
        if (printedMs >= allConnectedAt) {
          latencies.push(at - printedMs);
          linesInWindow += 1;
          firstInWindow = Math.min(firstInWindow, printedMs);
          lastReceipt = Math.max(lastReceipt, at);
        }
      },
    );
  });
  allConnectedAt = performance.timeOrigin + performance.now();
  const rssConnected = await rssBytes(pids);
  const connectS = ((Date.now() - started) / 1000).toFixed(1);
  if (Date.now() - started > connectBudgetS * 1000) {
    console.warn(
      `  ${count} watchers took ${connectS} s to connect: early lines are left out of latency`,
    );
  }
  const results = await Promise.all(watchers.map((w) => w.done));
  sampling = false;
  await sampler;
  let lost = 0;
  let duplicated = 0;
  for (let w = 0; w < count; w++) {
    for (let n = 1; n <= total; n++) {
      const times = received[w * (total + 1) + n] ?? 0;
      if (times === 0) lost += 1;
      if (times > 1) duplicated += times - 1;
    }
  }
  // Rates over the measured window: from the first line printed with every watcher connected
  // to the last line received.
  const windowS = (lastReceipt - firstInWindow) / 1000;
  const messages = results.reduce((n, r) => n + r.messages, 0);
  return {
    watchers: count,
    connectS,
    p50: `${percentile(latencies, 50).toFixed(1)} ms`,
    p99: `${percentile(latencies, 99).toFixed(1)} ms`,
    msgsPerS: (messages / windowS).toFixed(0),
    linesPerS: (linesInWindow / windowS).toFixed(0),
    lost,
    duplicated,
    seqErrors: results.reduce((n, r) => n + r.seqErrors, 0),
    rss: `${mib(rssBefore)} / ${mib(rssConnected)} / ${mib(rssPeak)}`,
  };
}

const bench = await startBenchStack('bench-fanout');
try {
  if (bench.stack.pid === undefined) throw new Error('wrangler dev has no pid');
  const pids = await workerdPids(bench.stack.pid);
  const rows: Row[] = [];
  for (const count of counts) {
    console.log(`${count} watcher(s), ${seconds} s at ${LINES_PER_SECOND} lines/s …`);
    rows.push(await scenario(bench, pids, count));
  }
  console.log(
    `\nwrangler dev on ${bench.stack.url}; one job printing ${LINES_PER_SECOND} lines/s for ${seconds} s per row\n`,
  );
  const header = [
    'watchers',
    'connect',
    'p50',
    'p99',
    'msgs/s',
    'lines/s',
    'lost',
    'dup',
    'seq errors',
    'workerd RSS before / connected / peak',
  ];
  const table = rows.map((r) => [
    String(r.watchers),
    `${r.connectS} s`,
    r.p50,
    r.p99,
    r.msgsPerS,
    r.linesPerS,
    String(r.lost),
    String(r.duplicated),
    String(r.seqErrors),
    r.rss,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...table]) {
    console.log(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  }
} finally {
  await bench.close();
}
