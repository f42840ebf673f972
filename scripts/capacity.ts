/**
 * `npm run capacity -- [--jobs N] [--concurrency C]`: what one job costs on the local stack,
 * counted, not estimated. Runs N short jobs (`echo`), each created with POST /v1/jobs and watched
 * by one WebSocket watcher until it ends, first for a tenant without webhook subscriptions, then
 * with one subscription to every job event (a loopback receiver answering 200); then one
 * GET /metrics scrape.
 *
 * The counts come from the trace store `wrangler dev` writes (scripts/lib/trace-store.ts): every
 * D1 statement with D1's own `rows_read`/`rows_written`, every subrequest and RPC call to a
 * Durable Object, every alarm run, every Durable Object storage call, every outbound fetch (to
 * Daytona, to webhook receivers). WebSocket messages are counted by the watcher. What it misses:
 * work the trace store does not record (CPU time, bytes stored), most WebSocket upgrade requests
 * (the store records few of them), and calls local-daytona answers differently from Daytona.
 */
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevStack } from './lib/dev-stack.ts';
import { createSampleRepo } from './lib/sample-repo.ts';
import { costs, lastRowid, readSpans, traceStorePath, type Costs } from './lib/trace-store.ts';
import { watchJob } from './lib/watch.ts';
import { createJob, type Target } from './lib/load-ops.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '5' },
  },
});
const jobs = Number(values.jobs);
const concurrency = Number(values.concurrency);

const metricsToken = `${crypto.randomUUID()}${crypto.randomUUID()}`;
const state = await mkdtemp(join(tmpdir(), 'omni-capacity-'));
const persistTo = join(state, 'wrangler');
const repo = await createSampleRepo(state);
const stack = await startDevStack({
  port: 0,
  persistTo,
  vars: { RATE_LIMITS: 'off', TENANT_MAX_RUNNING_JOBS: '100000', METRICS_TOKEN: metricsToken },
});
const target: Target = { url: stack.url, apiKey: stack.apiKey, repoUrl: repo.url };

let deliveries = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    deliveries++;
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverAddress = receiver.address();
const receiverPort =
  typeof receiverAddress === 'object' && receiverAddress ? receiverAddress.port : 0;

/** Waits until the trace store has stopped growing for `quietMs` (alarms after the end, etc.). */
async function settle(path: string, quietMs = 4000): Promise<void> {
  let last = lastRowid(path);
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = lastRowid(path);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** Runs `count` jobs, `concurrency` at a time, each watched to its end; WebSocket messages seen. */
async function runJobs(count: number): Promise<number> {
  let messages = 0;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const id = await createJob(target, 'echo capacity');
      await watchJob(stack.url, stack.apiKey, id, () => messages++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return messages;
}

/** What each trace's root was: `POST /v1/jobs`, `GET /v1/jobs/{id}/stream`, `alarm`, … */
function rootLabels(spans: ReturnType<typeof readSpans>): Map<string, string> {
  const labels = new Map<string, string>();
  for (const span of spans) {
    if (!span.root) continue;
    if (span.kind === 'http') {
      // The URL's text, after its attribute name and a tag of one or more bytes.
      const after = span.attributes.slice(span.attributes.indexOf('url.full'));
      const url = /https?:\/\/[\x21-\x7e]+/.exec(after)?.[0] ?? '';
      const path = url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '');
      labels.set(span.traceId, `${span.name} ${path.replace(/\/(job|wh)_[\w-]+/g, '/{id}')}`);
    } else labels.set(span.traceId, span.name);
  }
  return labels;
}

interface Phase {
  name: string;
  total: Costs;
  messages: number;
  byRoot: Map<string, Costs>;
}

async function phase(name: string, path: string): Promise<Phase> {
  const mark = lastRowid(path);
  const messages = await runJobs(jobs);
  await settle(path);
  const spans = readSpans(path, mark);
  const labels = rootLabels(spans);
  const groups = new Map<string, typeof spans>();
  for (const span of spans) {
    const label = labels.get(span.traceId) ?? '(root before the mark)';
    groups.set(label, [...(groups.get(label) ?? []), span]);
  }
  const byRoot = new Map([...groups].map(([label, list]) => [label, costs(list)]));
  return { name, total: costs(spans), messages, byRoot };
}

const per = (n: number) => (n / jobs).toFixed(2);
const rpcText = (c: Costs, divide: number) =>
  [...c.rpcByMethod]
    .sort()
    .map(([m, n]) => `${m} ${(n / divide).toFixed(2)}`)
    .join(', ') || '-';

function printPhase(p: Phase): void {
  const t = p.total;
  console.log(`\n${p.name}: ${jobs} jobs, ${concurrency} at a time; per job:`);
  console.log(`  D1 statements        ${per(t.d1Statements)}`);
  console.log(`  D1 rows read         ${per(t.d1RowsRead)}`);
  console.log(`  D1 rows written      ${per(t.d1RowsWritten)}`);
  console.log(`  DO subrequests       ${per(t.doSubrequests)}`);
  console.log(`  DO RPC calls         ${rpcText(t, jobs)}`);
  console.log(
    `  DO storage calls     ${per(t.doStorageOps)} (SQL rows read ${per(t.doRowsRead)}, written ${per(t.doRowsWritten)})`,
  );
  console.log(`  alarm runs           ${per(t.alarms)}`);
  console.log(`  outbound fetches     ${per(t.outboundFetches)}`);
  console.log(
    `  HTTP requests        ${per(t.httpRequests)} recorded (sent: 1 POST and 1 WebSocket upgrade; the store records few upgrades)`,
  );
  console.log(`  WebSocket messages   ${per(p.messages)} (to one watcher)`);
  console.log(`  D1 statements (per job: runs / rows read / rows written):`);
  for (const [sql, v] of [...t.statements].sort((a, b) => b[1].written - a[1].written)) {
    console.log(`    ${per(v.count)} / ${per(v.read)} / ${per(v.written)}  ${sql}`);
  }
  console.log(`  by what started the work (per job: D1 statements / rows read / rows written):`);
  for (const [label, c] of [...p.byRoot].sort((a, b) => b[1].d1Statements - a[1].d1Statements)) {
    console.log(
      `    ${label.padEnd(34)} ${per(c.d1Statements)} / ${per(c.d1RowsRead)} / ${per(c.d1RowsWritten)}`,
    );
  }
}

try {
  const path = await traceStorePath(persistTo);
  // Warm-up: the first job compiles the Worker and creates the tenant's Durable Objects.
  await runJobs(1);
  await settle(path);
  const plain = await phase('Without webhook subscriptions', path);
  const created = await fetch(`${stack.url}/v1/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      url: `http://127.0.0.1:${receiverPort}/hook`,
      events: ['job.started', 'job.succeeded', 'job.failed', 'job.canceled', 'job.timed_out'],
    }),
  });
  if (created.status !== 201) throw new Error(`POST /v1/webhooks ${created.status}`);
  const before = deliveries;
  const hooked = await phase('With one webhook subscription to every job event', path);
  const received = deliveries - before;

  const mark = lastRowid(path);
  const scrape = await fetch(`${stack.url}/metrics`, {
    headers: { authorization: `Bearer ${metricsToken}` },
  });
  await scrape.text();
  await settle(path, 2000);
  const metrics = costs(readSpans(path, mark));
  const jobRows = 1 + 2 * jobs;

  console.log(`capacity on ${stack.url} (wrangler dev, local-daytona)`);
  printPhase(plain);
  printPhase(hooked);
  console.log(`  webhook deliveries received: ${received} (${per(received)} per job)`);
  console.log(
    `\nGET /metrics with ${jobRows} job rows: ${metrics.d1Statements} D1 statements, ${metrics.d1RowsRead} rows read (${(metrics.d1RowsRead / jobRows).toFixed(2)} per job row), ${metrics.d1RowsWritten} written`,
  );
} finally {
  receiver.close();
  await stack.stop();
  await rm(state, { recursive: true, force: true });
}
