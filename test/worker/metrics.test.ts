/**
 * GET /metrics: behind METRICS_TOKEN (401 without or with a wrong one, 503 while unset), in the
 * Prometheus text format (parsed here line by line: HELP and TYPE for every metric, every sample
 * `name{labels} value`, cumulative buckets ending with +Inf = _count), with values that move
 * with the jobs this file runs, from one D1 batch shared by a burst of scrapes.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import { renderFamilies } from '../../worker/lib/prometheus.ts';
import { clearMetricsCache } from '../../worker/services/metrics.ts';
import { allStatements, failingD1 } from './failing-d1.ts';
import { api, createJob, newTenant, waitForEnd } from './helpers.ts';

const TOKEN = env.METRICS_TOKEN;

/** Calls a fresh app with `bindings`, as the runtime would. */
async function scrape(
  token: string | null = TOKEN,
  bindings: object = env,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const ctx = createExecutionContext();
  const res = await createApp().request('/metrics', { ...init, headers }, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Parsed {
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  expect(text).toMatch(/^-?\d+(\.\d+)?(e[+-]?\d+)?$/);
  return Number(text);
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(text);
    expect(m, `labels at ${start} of ${text}`).not.toBeNull();
    if (!m) break;
    const [, key = '', raw = ''] = m;
    expect(labels, `label ${key} twice`).not.toHaveProperty(key);
    labels[key] = raw.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** The family a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` are its own. */
function familyOf(name: string, types: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && types.get(base) === 'histogram' ? base : name;
}

/** Parses exposition text strictly: every line is a HELP, a TYPE (before samples) or a sample. */
function parseExposition(text: string): Parsed {
  expect(text.endsWith('\n')).toBe(true);
  const helps = new Set<string>();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(
      line,
    );
    if (help?.[1]) {
      expect(helps.has(help[1]), `HELP ${help[1]} twice`).toBe(false);
      helps.add(help[1]);
      continue;
    }
    if (type?.[1] && type[2]) {
      expect(types.has(type[1]), `TYPE ${type[1]} twice`).toBe(false);
      types.set(type[1], type[2]);
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    if (!m?.[1] || m[3] === undefined) continue;
    const family = familyOf(m[1], types);
    expect(types.has(family), `no TYPE before ${line}`).toBe(true);
    expect(helps.has(family), `no HELP before ${line}`).toBe(true);
    samples.push({ name: m[1], labels: parseLabels(m[2] ?? ''), value: parseValue(m[3]) });
  }
  for (const name of types.keys()) expect(helps.has(name), `no HELP for ${name}`).toBe(true);
  return { types, samples };
}

/** The value of the sample `name` whose labels include `labels`; 0 if absent. */
function value(parsed: Parsed, name: string, labels: Record<string, string> = {}): number {
  const matches = parsed.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(matches.length, `${name} ${JSON.stringify(labels)}`).toBe(1);
  return matches[0]?.value ?? 0;
}

/** Every histogram's buckets rise with `le`, and `+Inf` equals `_count`. */
function expectHistogramsConsistent(parsed: Parsed): number {
  let checked = 0;
  for (const [name, type] of parsed.types) {
    if (type !== 'histogram') continue;
    const counts = parsed.samples.filter((s) => s.name === `${name}_count`);
    expect(counts.length).toBeGreaterThan(0);
    for (const count of counts) {
      const same = (s: Sample) =>
        Object.entries(count.labels).every(([k, v]) => s.labels[k] === v) &&
        Object.keys(s.labels).length === Object.keys(count.labels).length + 1;
      const buckets = parsed.samples.filter((s) => s.name === `${name}_bucket` && same(s));
      const bounds = buckets.map((b) => parseValue(b.labels.le ?? ''));
      expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
      expect(bounds.at(-1)).toBe(Infinity);
      for (let i = 1; i < buckets.length; i++) {
        expect(buckets[i]?.value).toBeGreaterThanOrEqual(buckets[i - 1]?.value ?? 0);
      }
      expect(buckets.at(-1)?.value).toBe(count.value);
      checked++;
    }
  }
  return checked;
}

async function metrics(): Promise<Parsed> {
  clearMetricsCache();
  const res = await scrape();
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return parseExposition(text);
}

describe('GET /metrics: the token', () => {
  it('answers 401 with a Bearer challenge without a token', async () => {
    const res = await scrape(null);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="omni"');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 401 invalid_token with a wrong token, or an API key', async () => {
    for (const token of [`${TOKEN}x`, TOKEN.slice(0, -1), (await newTenant()).apiKey]) {
      const res = await scrape(token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(await res.text()).not.toContain(TOKEN);
    }
  });

  it('answers a 503 problem while METRICS_TOKEN is unset or too short', async () => {
    for (const METRICS_TOKEN of [undefined, '', 'short']) {
      const res = await scrape(TOKEN, { ...env, METRICS_TOKEN });
      expect(res.status).toBe(503);
      const body = z
        .object({ code: z.literal('misconfigured'), detail: z.string() })
        .parse(await res.json());
      expect(body.detail).toContain('METRICS_TOKEN');
    }
  });

  it('answers 502 when D1 fails, and the next scrape reads again', async () => {
    clearMetricsCache();
    const res = await scrape(TOKEN, { ...env, DB: failingD1(env.DB, allStatements) });
    expect(res.status).toBe(502);
    expect((await scrape()).status).toBe(200);
  });

  it('is in the OpenAPI document with its own security scheme', async () => {
    const doc = z
      .object({
        paths: z.record(z.string(), z.unknown()),
        components: z.object({ securitySchemes: z.record(z.string(), z.unknown()) }),
      })
      .parse(await (await api('/openapi.json', null)).json());
    expect(Object.keys(doc.paths)).toContain('/metrics');
    expect(Object.keys(doc.components.securitySchemes)).toContain('metricsToken');
  });
});

describe('GET /metrics: the text', () => {
  let tenant: { tenantId: string; apiKey: string };
  beforeAll(async () => {
    tenant = await newTenant('member');
  });

  it('is Prometheus text 0.0.4 with HELP and TYPE for every metric, never cached', async () => {
    clearMetricsCache();
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const parsed = parseExposition(await res.text());
    expect([...parsed.types]).toEqual([
      ['omni_jobs_created_total', 'counter'],
      ['omni_jobs_active', 'gauge'],
      ['omni_jobs_finished_total', 'counter'],
      ['omni_job_errors_total', 'counter'],
      ['omni_job_duration_seconds', 'histogram'],
      ['omni_job_phase_seconds', 'histogram'],
      ['omni_spend_usd_total', 'counter'],
      ['omni_metrics_d1_rows_read', 'gauge'],
    ]);
    // 2 kinds × 4 final statuses, and 4 phases.
    expect(expectHistogramsConsistent(parsed)).toBe(12);
    expect(value(parsed, 'omni_jobs_active', { status: 'queued' })).toBeGreaterThanOrEqual(0);
  });

  it('counts the jobs this test runs, their durations, phases, errors and spend', async () => {
    const before = await metrics();
    const jobs = await Promise.all([
      createJob(tenant.apiKey, {
        repo: { url: env.FIXTURE_REPO_URL },
        command: 'echo hi; sleep 1',
      }),
      createJob(tenant.apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'exit 3' }),
    ]);
    const [ok, failed] = await Promise.all(jobs.map((job) => waitForEnd(tenant.apiKey, job.id)));
    expect(ok?.status).toBe('succeeded');
    expect(failed?.status).toBe('failed');

    // The sandbox line of the ledger is written as the sandbox goes: wait until spend moved.
    let after = await metrics();
    const spend = (p: Parsed) => value(p, 'omni_spend_usd_total', { item: 'sandbox' });
    while (spend(after) <= spend(before)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await metrics();
    }
    const delta = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);

    expect(delta('omni_jobs_created_total', { kind: 'command' })).toBeGreaterThanOrEqual(2);
    expect(
      delta('omni_jobs_finished_total', { kind: 'command', status: 'succeeded' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      delta('omni_jobs_finished_total', { kind: 'command', status: 'failed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(delta('omni_job_errors_total', { code: 'command_failed' })).toBeGreaterThanOrEqual(1);
    const succeeded = { kind: 'command', status: 'succeeded' };
    expect(delta('omni_job_duration_seconds_count', succeeded)).toBeGreaterThanOrEqual(1);
    // `sleep 1` alone takes a second: the sum grew by at least that.
    expect(delta('omni_job_duration_seconds_sum', succeeded)).toBeGreaterThanOrEqual(1);
    expect(
      delta('omni_job_duration_seconds_bucket', { ...succeeded, le: '+Inf' }),
    ).toBeGreaterThanOrEqual(1);
    for (const phase of ['queue', 'create', 'clone']) {
      expect(delta('omni_job_phase_seconds_count', { phase }), phase).toBeGreaterThanOrEqual(2);
    }
    // Only the job that printed something has a first output.
    expect(delta('omni_job_phase_seconds_count', { phase: 'first_output' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(spend(after)).toBeGreaterThan(spend(before));
    expectHistogramsConsistent(after);
  });

  it('reads D1 once per batch of scrapes (one batch of two queries), and says how many rows', async () => {
    clearMetricsCache();
    let batches = 0;
    let statements = 0;
    const counting: D1Database = {
      prepare: (sql) => {
        statements++;
        return env.DB.prepare(sql);
      },
      batch: <T>(list: D1PreparedStatement[]) => {
        batches++;
        return env.DB.batch<T>(list);
      },
      exec: (sql) => env.DB.exec(sql),
      withSession: (constraint) => env.DB.withSession(constraint),
      dump: () => env.DB.dump(),
    };
    const bindings = { ...env, DB: counting };
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => scrape(TOKEN, bindings)));
    const again = await scrape(TOKEN, bindings);
    expect([...answers, again].map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(batches).toBe(1);
    expect(statements).toBe(2);
    const texts = await Promise.all([...answers, again].map((r) => r.text()));
    expect(new Set(texts).size).toBe(1);

    const parsed = parseExposition(texts[0] ?? '');
    expect(value(parsed, 'omni_metrics_d1_rows_read')).toBeGreaterThan(0);
  });

  it('reads about two D1 rows per job row and ledger line', async () => {
    const rows = () =>
      env.DB.prepare(
        'SELECT (SELECT COUNT(*) FROM jobs) + (SELECT COUNT(*) FROM usage_ledger) AS n',
      ).first<{ n: number }>();
    const before = (await rows())?.n ?? 0;
    const rowsRead = value(await metrics(), 'omni_metrics_d1_rows_read');
    const after = (await rows())?.n ?? 0;
    // Other files may add or delete rows meanwhile: bounds from both counts. One scan of each
    // table, and SQLite's temporary B-tree of the GROUP BY: two rows read per row.
    expect(rowsRead).toBeGreaterThanOrEqual(2 * Math.min(before, after));
    expect(rowsRead).toBeLessThanOrEqual(2 * Math.max(before, after) + 10);
  });

  it('puts a duration on a bucket bound in that bucket, and longer ones above it', async () => {
    const labels = { kind: 'agent', status: 'timed_out' };
    const bucket = (p: Parsed, le: string) =>
      value(p, 'omni_job_duration_seconds_bucket', { ...labels, le });
    const before = await metrics();
    const now = Date.now();
    const insert = env.DB.prepare(
      `INSERT INTO jobs (id, tenant_id, status, repo_url, command, timeout_seconds, kind,
         error_code, created_at, finished_at) VALUES (?, ?, 'timed_out', 'x', '', 60, 'agent',
         'timeout', ?, ?)`,
    );
    await env.DB.batch(
      [5_000, 5_001, 7_200_001].map((ms) =>
        insert.bind(
          `job_${crypto.randomUUID().replaceAll('-', '')}`,
          tenant.tenantId,
          now,
          now + ms,
        ),
      ),
    );
    const after = await metrics();
    expect(bucket(after, '5') - bucket(before, '5')).toBeGreaterThanOrEqual(1);
    const inTen = bucket(after, '10') - bucket(before, '10');
    expect(inTen - (bucket(after, '5') - bucket(before, '5'))).toBeGreaterThanOrEqual(1);
    const overAll = bucket(after, '+Inf') - bucket(before, '+Inf');
    expect(overAll - (bucket(after, '7200') - bucket(before, '7200'))).toBeGreaterThanOrEqual(1);
    expect(overAll).toBeGreaterThanOrEqual(3);
    const sum = (p: Parsed) => value(p, 'omni_job_duration_seconds_sum', labels);
    expect(sum(after) - sum(before)).toBeGreaterThanOrEqual(7_210.001 - 1e-6);
    expect(
      value(after, 'omni_job_errors_total', { code: 'timeout' }) -
        value(before, 'omni_job_errors_total', { code: 'timeout' }),
    ).toBeGreaterThanOrEqual(3);
  });

  it('is served by the Worker itself', async () => {
    clearMetricsCache();
    const res = await api('/metrics', TOKEN);
    expect(res.status).toBe(200);
    parseExposition(await res.text());
  });

  it('escapes label values and HELP text', () => {
    const text = renderFamilies([
      {
        type: 'counter',
        name: 'omni_test_total',
        help: 'A back\\slash\nand a new line.',
        samples: [{ labels: { code: 'a"b\\c\nd' }, value: 2 }],
      },
    ]);
    expect(text).toBe(
      '# HELP omni_test_total A back\\\\slash\\nand a new line.\n' +
        '# TYPE omni_test_total counter\n' +
        'omni_test_total{code="a\\"b\\\\c\\nd"} 2\n',
    );
    const parsed = parseExposition(text);
    expect(parsed.samples[0]?.labels.code).toBe('a"b\\c\nd');
  });
});
