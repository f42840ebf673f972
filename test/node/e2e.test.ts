/**
 * End to end over real HTTP and a real WebSocket client: `wrangler dev` with local D1 and
 * local-daytona, exactly as `npm start` runs them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gitVersion, startDevStack, type DevStack } from '../../scripts/lib/dev-stack.ts';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';
import { watchJob, type StreamEvent } from '../../scripts/lib/watch.ts';

const jobSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  exit_code: z.number().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

let dir: string;
let repo: SampleRepo;
let stack: DevStack;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-e2e-'));
  repo = await createSampleRepo(dir);
  stack = await startDevStack({ port: 0, persistTo: join(dir, 'wrangler') });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function call(path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${stack.apiKey}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${stack.url}${path}`, { ...init, headers });
}

describe('wrangler dev, end to end', () => {
  it('is ready: D1 and local-daytona answer, and the version is the checked-out commit', async () => {
    const res = await fetch(`${stack.url}/health/ready`);
    const body = z
      .object({
        status: z.literal('ready'),
        version: z.string(),
        checks: z.object({
          d1: z.object({ status: z.literal('up') }),
          daytona: z.object({ status: z.literal('up') }),
        }),
      })
      .parse(await res.json());
    expect(res.status).toBe(200);
    expect(body.version).toBe(gitVersion());
  });

  it('runs a job and streams its output live over a WebSocket', async () => {
    const res = await call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ repo: { url: repo.url }, command: './count.sh 4 0.2; echo warn >&2' }),
    });
    expect(res.status).toBe(201);
    const created = jobSchema.parse(await res.json());
    expect(created.status).toBe('queued');

    const events: StreamEvent[] = [];
    const closeCode = await watchJob(stack.url, stack.apiKey, created.id, (e) => events.push(e));
    expect(closeCode).toBe(1000);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'status').map((e) => e.status)).toEqual([
      'queued',
      'provisioning',
      'cloning',
      'running',
      'succeeded',
    ]);
    const stdout = events
      .filter((e) => e.type === 'stdout')
      .map((e) => e.data)
      .join('');
    expect(stdout).toBe('step 1\nstep 2\nstep 3\nstep 4\n');
    expect(
      events
        .filter((e) => e.type === 'stderr')
        .map((e) => e.data)
        .join(''),
    ).toBe('warn\n');

    const job = jobSchema.parse(await (await call(`/v1/jobs/${created.id}`)).json());
    expect(job).toMatchObject({ status: 'succeeded', exit_code: 0, error: null });

    // A second client resuming after seq 3 gets exactly the rest.
    const resumed: StreamEvent[] = [];
    await watchJob(stack.url, stack.apiKey, created.id, (e) => resumed.push(e), 3);
    expect(resumed).toEqual(events.slice(3));
  });

  it('reports a repository that cannot be cloned as failed, with the reason', async () => {
    const res = await call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ repo: { url: `${repo.url}-missing` }, command: 'true' }),
    });
    const created = jobSchema.parse(await res.json());
    await watchJob(stack.url, stack.apiKey, created.id, () => undefined);
    const job = jobSchema.parse(await (await call(`/v1/jobs/${created.id}`)).json());
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('clone_failed');
  });

  it('lets a browser-like client (no headers) watch a job with a stream token', async () => {
    const res = await call('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ repo: { url: repo.url }, command: 'echo from a browser' }),
    });
    const created = jobSchema.parse(await res.json());
    const tokenRes = await call(`/v1/jobs/${created.id}/stream-token`, { method: 'POST' });
    expect(tokenRes.status).toBe(201);
    const { url } = z.object({ url: z.string() }).parse(await tokenRes.json());
    // Node's built-in WebSocket, like a browser's, cannot send an Authorization header.
    const socket = new WebSocket(`${stack.url.replace(/^http/, 'ws')}${url}`);
    const data: string[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('message', (e) => {
        const event = z
          .looseObject({ type: z.string(), data: z.string().optional() })
          .parse(JSON.parse(String(e.data)));
        if (event.type === 'stdout' && event.data) data.push(event.data);
        if (event.type === 'status' && JSON.stringify(event).includes('succeeded')) {
          socket.close();
          resolve();
        }
      });
      socket.addEventListener('error', () => reject(new Error('stream failed')));
    });
    expect(data.join('')).toBe('from a browser\n');
  });

  it('refuses a stream without an API key', async () => {
    await expect(watchJob(stack.url, 'wrong', 'job_x', () => undefined)).rejects.toThrow(
      'HTTP 401',
    );
  });
});
