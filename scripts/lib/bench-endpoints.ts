/**
 * The per-endpoint rows of `npm run bench`: every read endpoint of the API measured with wrk, and
 * the writes that create state (keys, members, projects, webhooks, cancels) with a small Node
 * loop at a few concurrent requests, so that each request makes something new. Both report
 * p50/p95/p99 and requests/s.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { percentile } from './bench-stack.ts';

const run = promisify(execFile);

/** One printed row. Latencies in milliseconds. */
export interface EndpointResult {
  name: string;
  tool: string;
  p50: number;
  p95: number;
  p99: number;
  rps: number;
  requests: number;
  errors: string;
}

/** Lua lines that make wrk print p50/p95/p99 (µs) on one line the script parses. */
const percentilesLua = `done = function(summary, latency, requests)
  io.write(string.format("omni-pct %d %d %d\\n", latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
`;

interface WrkRequest {
  method?: string;
  body?: string;
  headers: Record<string, string>;
}

/** Runs wrk with a generated script (method, body, headers, percentiles) against `url`. */
export async function wrkEndpoint(
  name: string,
  url: string,
  request: WrkRequest,
  options: { seconds: number; connections: number; dir: string },
): Promise<EndpointResult> {
  const lines = [`wrk.method = ${JSON.stringify(request.method ?? 'GET')}`];
  if (request.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(request.body)}`);
  for (const [key, value] of Object.entries(request.headers)) {
    lines.push(`wrk.headers[${JSON.stringify(key)}] = ${JSON.stringify(value)}`);
  }
  const script = join(options.dir, `wrk-${name.replace(/\W+/g, '_')}.lua`);
  await writeFile(script, `${lines.join('\n')}\n${percentilesLua}`);
  const { stdout } = await run(
    'wrk',
    [
      '-t2',
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      '--timeout',
      '30s',
      '-s',
      script,
      url,
    ],
    { maxBuffer: 1 << 20 },
  );
  const pct = /omni-pct (\d+) (\d+) (\d+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? '0';
  const socketErrors = /Socket errors:(.*)/.exec(stdout)?.[1]?.trim();
  return {
    name,
    tool: `wrk -c${options.connections}`,
    p50: Number(pct?.[1] ?? NaN) / 1000,
    p95: Number(pct?.[2] ?? NaN) / 1000,
    p99: Number(pct?.[3] ?? NaN) / 1000,
    rps: Number(/Requests\/sec:\s+(\S+)/.exec(stdout)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN),
    errors: [`${non2xx} non-2xx`, socketErrors].filter(Boolean).join(', '),
  };
}

/** What one request of a Node loop sends: built fresh for each request number. */
export interface LoopRequest {
  url: string;
  method: string;
  body?: unknown;
  expect: number;
}

/**
 * Sends requests from `concurrency` loops for `seconds` (or until `limit` requests were sent),
 * each built by `make(n)`; a status other than `expect` counts as an error.
 */
export async function nodeLoop(
  name: string,
  token: string,
  make: (n: number) => Promise<LoopRequest> | LoopRequest,
  options: { seconds: number; concurrency: number; limit?: number },
): Promise<EndpointResult> {
  const times: number[] = [];
  const statuses = new Map<number, number>();
  let sent = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline && sent < (options.limit ?? Infinity)) {
      const request = await make(sent++);
      const t0 = performance.now();
      const res = await fetch(request.url, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
      await res.arrayBuffer();
      times.push(performance.now() - t0);
      if (res.status !== request.expect)
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const errors = [...statuses].map(([status, count]) => `${count}× ${status}`).join(', ');
  return {
    name,
    tool: `node c${options.concurrency}`,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    rps: times.length / elapsed,
    requests: times.length,
    errors: errors || '0',
  };
}

/** Prints the rows as an aligned table. */
export function printEndpointTable(rows: EndpointResult[]): void {
  const header = ['endpoint', 'tool', 'p50 ms', 'p95 ms', 'p99 ms', 'req/s', 'requests', 'errors'];
  const cells = rows.map((r) => [
    r.name,
    r.tool,
    r.p50.toFixed(1),
    r.p95.toFixed(1),
    r.p99.toFixed(1),
    r.rps.toFixed(1),
    String(r.requests),
    r.errors,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  for (const row of [header, ...cells]) {
    console.log(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  }
}
