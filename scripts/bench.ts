/**
 * `npm run bench`: latency and throughput of the API on `wrangler dev`, measured with wrk at 50
 * concurrent connections. Prints median and p99 latency and requests/s of GET /v1/jobs/{id}
 * (with an API key and with a JWT) and POST /v1/jobs, each next to GET /health measured in the
 * same run, and what authentication costs per request (from the Server-Timing header).
 *
 * Rate limits are switched off (RATE_LIMITS=off, development only) and the running-jobs cap
 * raised for the run, so that the figures are the API's own, not its 429s.
 *
 * Then one row per endpoint of the API (scripts/lib/bench-endpoints.ts) with p50/p95/p99 and
 * requests/s: every read with wrk; the writes that make something new each time (keys, members,
 * projects, webhooks, job cancels) with a Node loop at a few concurrent requests.
 *
 * Options (environment): BENCH_SECONDS (default 10), BENCH_POST_SECONDS (default 5; every POST
 * starts a real job in local-daytona, so this phase also loads the machine), BENCH_CONNECTIONS
 * (default 50), BENCH_ENDPOINT_SECONDS (default 5, each per-endpoint row).
 *
 * Needs wrk (Debian/Ubuntu: `sudo apt-get install wrk`; macOS: `brew install wrk`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { generateApiKey, hashApiKey, isWellFormedApiKey } from '../worker/lib/api-keys.ts';
import { DEV_TENANT_ID, startDevStack } from './lib/dev-stack.ts';
import { createSampleRepo } from './lib/sample-repo.ts';
import {
  nodeLoop,
  printEndpointTable,
  wrkEndpoint,
  type EndpointResult,
} from './lib/bench-endpoints.ts';

const run = promisify(execFile);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const postSeconds = Number(process.env.BENCH_POST_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const endpointSeconds = Number(process.env.BENCH_ENDPOINT_SECONDS ?? 5);

interface Result {
  name: string;
  p50: string;
  p99: string;
  rps: string;
  requests: string;
  errors: string;
}

/** Runs wrk and reads its --latency report. */
async function wrk(
  name: string,
  url: string,
  duration: number,
  extra: string[] = [],
): Promise<Result> {
  const { stdout } = await run(
    'wrk',
    ['-t2', `-c${connections}`, `-d${duration}s`, '--timeout', '30s', '--latency', ...extra, url],
    { maxBuffer: 1 << 20 },
  );
  const pick = (re: RegExp) => re.exec(stdout)?.[1] ?? '?';
  const non2xx = pick(/Non-2xx or 3xx responses:\s+(\d+)/);
  const socketErrors = /Socket errors:(.*)/.exec(stdout)?.[1]?.trim();
  return {
    name,
    p50: pick(/^\s+50%\s+(\S+)/m),
    p99: pick(/^\s+99%\s+(\S+)/m),
    rps: pick(/Requests\/sec:\s+(\S+)/),
    requests: pick(/(\d+) requests in/),
    errors: [non2xx === '?' ? '0 non-2xx' : `${non2xx} non-2xx`, socketErrors]
      .filter(Boolean)
      .join(', '),
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Median time authentication took (Server-Timing) and the median whole request, one at a time. */
async function authShare(url: string, token: string, samples = 200): Promise<string> {
  const auth: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    total.push(performance.now() - started);
    const dur = /auth;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1];
    auth.push(Number(dur ?? NaN));
  }
  const a = median(auth);
  const t = median(total);
  return `auth ${a.toFixed(1)} ms of ${t.toFixed(1)} ms (${((100 * a) / t).toFixed(0)} %)`;
}

/** Median latency of `samples` job creations sent one after another (each job is tiny). */
async function sequentialPost(url: string, apiKey: string, body: string, samples = 30) {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body,
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`POST answered ${res.status}`);
    times.push(performance.now() - started);
    // Let the job finish so the next request meets an idle machine.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return `median ${median(times).toFixed(1)} ms of ${samples}`;
}

/**
 * CPU time of the authentication work itself, measured in Node: inside workerd the clock stands
 * still while code runs (it only moves across I/O), so Server-Timing cannot show it.
 */
async function authCpu(jwt: string, secret: string): Promise<string> {
  const key = generateApiKey();
  const rounds = 5000;
  let started = performance.now();
  for (let i = 0; i < rounds; i++) {
    if (!isWellFormedApiKey(key)) throw new Error('bad key');
    await hashApiKey(key);
  }
  const keyUs = ((performance.now() - started) * 1000) / rounds;
  const verifyKey = new TextEncoder().encode(secret);
  started = performance.now();
  for (let i = 0; i < rounds; i++) {
    await jwtVerify(jwt, verifyKey, {
      issuer: 'https://idp.bench',
      audience: 'omni',
      algorithms: ['HS256'],
    });
  }
  const jwtUs = ((performance.now() - started) * 1000) / rounds;
  return `API key check + SHA-256 ${keyUs.toFixed(1)} µs, HS256 JWT verification ${jwtUs.toFixed(1)} µs`;
}

try {
  await run('wrk', ['--version']).catch((error: unknown) => {
    // wrk prints its version and exits 1; only a missing binary is an error.
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') throw error;
  });
} catch {
  console.error(
    'wrk is not installed. Debian/Ubuntu: sudo apt-get install -y wrk; macOS: brew install wrk',
  );
  process.exit(2);
}

const jwtSecret = `${crypto.randomUUID()}${crypto.randomUUID()}`;
const metricsToken = `${crypto.randomUUID()}${crypto.randomUUID()}`;
const state = await mkdtemp(join(tmpdir(), 'omni-bench-'));
const repo = await createSampleRepo(state);
const stack = await startDevStack({
  port: 0,
  persistTo: join(state, 'wrangler'),
  // One client on one address would only measure the rate limiter's 429s: limits are off here.
  vars: {
    JWT_ISSUER: 'https://idp.bench',
    JWT_AUDIENCE: 'omni',
    JWT_SECRET: jwtSecret,
    RATE_LIMITS: 'off',
    // Every POST starts a real job; the tenant's running-jobs cap would refuse most of them.
    TENANT_MAX_RUNNING_JOBS: '100000',
    METRICS_TOKEN: metricsToken,
  },
});
/** One row per read endpoint (wrk) and per write endpoint (wrk or a Node loop). */
async function measureEndpoints(
  jobUrl: string,
  jobId: string,
  jobBody: string,
): Promise<EndpointResult[]> {
  const key = { authorization: `Bearer ${stack.apiKey}` };
  const wrkOptions = { seconds: endpointSeconds, connections, dir: state };
  const rows: EndpointResult[] = [];
  const reads: [string, string, Record<string, string>][] = [
    ['GET /health', '/health', {}],
    ['GET /health/ready', '/health/ready', {}],
    ['GET /metrics', '/metrics', { authorization: `Bearer ${metricsToken}` }],
    ['GET /v1/jobs', '/v1/jobs', key],
    ['GET /v1/jobs/{id}', `/v1/jobs/${jobId}`, key],
    ['GET /v1/jobs/{id}/events', `/v1/jobs/${jobId}/events`, key],
    ['GET /v1/keys', '/v1/keys', key],
    ['GET /v1/members', '/v1/members', key],
    ['GET /v1/audit', '/v1/audit', key],
    ['GET /v1/secrets', '/v1/secrets', key],
    ['GET /v1/projects', '/v1/projects', key],
    ['GET /v1/budgets', '/v1/budgets', key],
    ['GET /v1/usage', '/v1/usage', key],
    ['GET /v1/webhooks', '/v1/webhooks', key],
    ['GET /v1/tenant/export', '/v1/tenant/export', key],
  ];
  for (const [name, path, headers] of reads) {
    rows.push(await wrkEndpoint(name, `${stack.url}${path}`, { headers }, wrkOptions));
  }
  const json = { ...key, 'content-type': 'application/json' };
  rows.push(
    await wrkEndpoint(
      'POST /v1/jobs/{id}/stream-token',
      `${jobUrl}/stream-token`,
      { method: 'POST', headers: key },
      wrkOptions,
    ),
    await wrkEndpoint(
      'PUT /v1/budgets/tenant',
      `${stack.url}/v1/budgets/tenant`,
      { method: 'PUT', body: JSON.stringify({ monthly_budget_usd: 100000 }), headers: json },
      wrkOptions,
    ),
    await wrkEndpoint(
      'PUT /v1/secrets/{name}',
      `${stack.url}/v1/secrets/BENCH_SECRET`,
      { method: 'PUT', body: JSON.stringify({ value: 'bench-value' }), headers: json },
      wrkOptions,
    ),
  );
  const loop = { seconds: endpointSeconds, concurrency: 4, limit: 400 };
  const run = crypto.randomUUID().slice(0, 8);
  rows.push(
    await nodeLoop(
      'POST /v1/keys',
      stack.apiKey,
      (n) => ({
        url: `${stack.url}/v1/keys`,
        method: 'POST',
        body: { name: `bench-${n}`, role: 'viewer' },
        expect: 201,
      }),
      loop,
    ),
    await nodeLoop(
      'PUT /v1/members/{subject}',
      stack.apiKey,
      (n) => ({
        url: `${stack.url}/v1/members/bench-${run}-${n}`,
        method: 'PUT',
        body: { role: 'member' },
        expect: 201,
      }),
      loop,
    ),
    await nodeLoop(
      'POST /v1/projects',
      stack.apiKey,
      (n) => ({
        url: `${stack.url}/v1/projects`,
        method: 'POST',
        body: { name: `bench-${run}-${n}` },
        expect: 201,
      }),
      loop,
    ),
  );
  // Each cancel needs a running job of its own: made (untimed) just before the timed request.
  const sleeper = JSON.stringify({ ...JSON.parse(jobBody), command: 'sleep 60' });
  rows.push(
    await nodeLoop(
      'POST /v1/jobs/{id}/cancel',
      stack.apiKey,
      async () => {
        const res = await fetch(`${stack.url}/v1/jobs`, {
          method: 'POST',
          headers: json,
          body: sleeper,
        });
        const { id } = z.object({ id: z.string() }).parse(await res.json());
        return { url: `${stack.url}/v1/jobs/${id}/cancel`, method: 'POST', expect: 200 };
      },
      { seconds: endpointSeconds * 2, concurrency: 2, limit: 40 },
    ),
  );
  return rows;
}

try {
  const jwt = await new SignJWT({ tenant_id: DEV_TENANT_ID, role: 'owner' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://idp.bench')
    .setAudience('omni')
    .setSubject('bench')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(jwtSecret));
  const body = JSON.stringify({ repo: { url: repo.url }, command: 'true' });
  const created = await fetch(`${stack.url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body,
  });
  const job = z.object({ id: z.string() }).parse(await created.json());
  const jobUrl = `${stack.url}/v1/jobs/${job.id}`;
  const withKey = ['-H', `Authorization: Bearer ${stack.apiKey}`];
  const withJwt = ['-H', `Authorization: Bearer ${jwt}`];
  // Warm up: the first requests compile the Worker and open the D1 database.
  await wrk('warm-up', jobUrl, 2, withKey);

  const script = join(state, 'post.lua');
  await writeFile(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${stack.apiKey}"\n`,
  );
  const results: Result[] = [];
  results.push(await wrk('GET /health', `${stack.url}/health`, seconds));
  results.push(await wrk('GET /v1/jobs/{id} (API key)', jobUrl, seconds, withKey));
  results.push(await wrk('GET /v1/jobs/{id} (JWT)', jobUrl, seconds, withJwt));
  results.push(await wrk('GET /health', `${stack.url}/health`, seconds));
  const postAlone = await sequentialPost(`${stack.url}/v1/jobs`, stack.apiKey, body);
  const shareKey = await authShare(jobUrl, stack.apiKey);
  const shareJwt = await authShare(jobUrl, jwt);
  const endpoints = await measureEndpoints(jobUrl, job.id, body);
  results.push(await wrk('POST /v1/jobs', `${stack.url}/v1/jobs`, postSeconds, ['-s', script]));
  // After the job POSTs: a subscription makes every later job send deliveries.
  endpoints.push(
    await nodeLoop(
      'POST /v1/webhooks',
      stack.apiKey,
      () => ({
        url: `${stack.url}/v1/webhooks`,
        method: 'POST',
        body: { url: 'https://hooks.example.com/omni', events: ['job.succeeded'] },
        expect: 201,
      }),
      { seconds: endpointSeconds, concurrency: 4, limit: 200 },
    ),
  );

  console.log(
    `\nwrangler dev on ${stack.url}, wrk -t2 -c${connections}; GET runs ${seconds} s, POST ${postSeconds} s\n`,
  );
  const header = ['endpoint', 'p50', 'p99', 'req/s', 'requests', 'errors'];
  const rows = results.map((r) => [r.name, r.p50, r.p99, r.rps, r.requests, r.errors]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    console.log(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  }
  console.log(`\nPOST /v1/jobs one at a time, machine otherwise idle: ${postAlone}`);
  console.log(`\nAuthentication, 200 sequential GET /v1/jobs/{id} each (median):`);
  console.log(`  API key: ${shareKey}`);
  console.log(`  JWT:     ${shareJwt}`);
  console.log(`  CPU per request (Node, ${process.version}): ${await authCpu(jwt, jwtSecret)}`);
  console.log(
    `\nPer endpoint (API key; wrk rows ${endpointSeconds} s at -c${connections}, node rows ${endpointSeconds} s or fewer requests):\n`,
  );
  printEndpointTable(endpoints);
} finally {
  await stack.stop();
  await rm(state, { recursive: true, force: true });
}
