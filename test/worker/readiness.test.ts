/**
 * GET /health/ready: 200 when D1 and Daytona answer, a 503 problem naming the dependency that is
 * down otherwise (D1 failing, Daytona hanging or refusing the key), without credentials, with
 * the version and the isolate's uptime, rate-limited per IP address.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import { DAYTONA_PROBE_SANDBOX } from '../../worker/services/readiness.ts';
import { allStatements, failingD1 } from './failing-d1.ts';
import { addFaults, removeFaults } from './faults.ts';
import { api } from './helpers.ts';

const CheckSchema = z.object({
  status: z.enum(['up', 'down']),
  latency_ms: z.number().nonnegative(),
  error: z.string().optional(),
});

const ReportSchema = z.object({
  version: z.string(),
  uptime_seconds: z.number().int().nonnegative(),
  checks: z.object({ d1: CheckSchema, daytona: CheckSchema }),
});

const NotReadySchema = ReportSchema.extend({
  code: z.literal('not_ready'),
  status: z.literal(503),
  detail: z.string(),
  request_id: z.string(),
  down: z.array(z.enum(['d1', 'daytona'])),
});

/** Calls a fresh app with `bindings` (the test's own, by default), as the runtime would. */
async function ready(bindings: object = env, headers: HeadersInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await createApp().request('/health/ready', { headers }, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** The answer's text must hold no credential or URL of the Worker's. */
function expectNoSecrets(text: string): void {
  expect(text).not.toContain(env.DAYTONA_API_KEY);
  expect(text).not.toContain(env.DAYTONA_API_URL);
  expect(text).not.toContain(new URL(env.DAYTONA_API_URL).host);
}

describe('GET /health/ready', () => {
  it('answers 200 with each dependency up, its latency, the version and the uptime', async () => {
    const res = await api('/health/ready', null);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = ReportSchema.extend({ status: z.literal('ready') }).parse(JSON.parse(text));
    expect(body.checks.d1.status).toBe('up');
    expect(body.checks.daytona.status).toBe('up');
    expect(body.version).toBe('dev');
    expectNoSecrets(text);
  });

  it('is in the OpenAPI document', async () => {
    const doc = z
      .object({ paths: z.record(z.string(), z.unknown()) })
      .parse(await (await api('/openapi.json', null)).json());
    expect(Object.keys(doc.paths)).toContain('/health/ready');
  });

  it('reports the version the deploy set in OMNI_VERSION', async () => {
    const res = await ready({ ...env, OMNI_VERSION: '0123abc' });
    expect(res.status).toBe(200);
    expect(ReportSchema.parse(await res.json()).version).toBe('0123abc');
  });

  it('answers 503 naming d1 when D1 fails', async () => {
    const res = await ready({ ...env, DB: failingD1(env.DB, allStatements) });
    const text = await res.text();
    expect(res.status, text).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = NotReadySchema.parse(JSON.parse(text));
    expect(body.down).toEqual(['d1']);
    expect(body.detail).toMatch(/\bd1\b/);
    expect(body.checks.d1.status).toBe('down');
    expect(body.checks.daytona.status).toBe('up');
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
    // The outage's own message stays in the log.
    expect(text).not.toContain('simulated outage');
  });

  it('answers 503 naming daytona when Daytona does not answer', async () => {
    const ids = await addFaults({
      action: 'hang',
      method: 'GET',
      path: '/api/sandbox/:id',
      sandbox: DAYTONA_PROBE_SANDBOX,
    });
    try {
      const res = await ready();
      const text = await res.text();
      expect(res.status, text).toBe(503);
      const body = NotReadySchema.parse(JSON.parse(text));
      expect(body.down).toEqual(['daytona']);
      expect(body.detail).toMatch(/daytona/);
      expect(body.checks.d1.status).toBe('up');
      expectNoSecrets(text);
    } finally {
      await removeFaults(ids);
    }
  });

  it('answers 503 naming daytona when Daytona refuses the key, without showing the key', async () => {
    const wrongKey = `wrong-${crypto.randomUUID()}`;
    const res = await ready({ ...env, DAYTONA_API_KEY: wrongKey });
    const text = await res.text();
    expect(res.status, text).toBe(503);
    const body = NotReadySchema.parse(JSON.parse(text));
    expect(body.down).toEqual(['daytona']);
    expect(body.checks.daytona.error).toMatch(/credentials refused/);
    expect(text).not.toContain(wrongKey);
  });

  it('answers 503 naming daytona when Daytona is not configured', async () => {
    const res = await ready({ ...env, DAYTONA_API_URL: '' });
    expect(res.status).toBe(503);
    const body = NotReadySchema.parse(await res.json());
    expect(body.down).toEqual(['daytona']);
    expect(body.checks.daytona.error).toBe('not configured');
  });

  it('is rate-limited per IP address like /v1', async () => {
    const ip = `192.0.2.${Math.floor(Math.random() * 250) + 1}`;
    const bindings = { ...env, RATE_LIMIT_PER_IP: env.TEST_RATE_LIMIT };
    const statuses: number[] = [];
    // TEST_RATE_LIMIT allows 3 a minute; fixed windows may reset once within the run.
    for (let i = 0; i < 7 && !statuses.includes(429); i++) {
      const res = await ready(bindings, { 'cf-connecting-ip': ip });
      await res.body?.cancel();
      statuses.push(res.status);
    }
    expect(statuses).toContain(429);
  });
});
