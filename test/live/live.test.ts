/**
 * Release tests against the real services (npm run test:live; docs/DEPLOYMENT.md): `wrangler dev`
 * on this machine, pointed at a real Daytona organisation, runs jobs from the existing snapshot.
 * Every sandbox carries omni-live-run=<run id> (DAYTONA_SANDBOX_LABELS) and whatever is left of
 * them is deleted in afterAll, whether the tests passed or not.
 *
 * Settings: DAYTONA_API_KEY (required), DAYTONA_API_URL (default Daytona's cloud),
 * DAYTONA_TARGET (us), OMNI_LIVE_SNAPSHOT (omni-sandbox), OMNI_LIVE_REPO (a small public GitHub
 * repository), ANTHROPIC_API_KEY (the agent job; skipped without it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daytona } from '@daytonaio/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startDevStack, type DevStack } from '../../scripts/lib/dev-stack.ts';
import {
  DAYTONA_CLOUD_API_URL,
  deleteLabelled,
  listLabelled,
  newRunId,
  RUN_LABEL,
  skipReason,
} from '../../scripts/lib/live-run.ts';
import { watchJob, type StreamEvent } from '../../scripts/lib/watch.ts';

const env = process.env;
const skipped = skipReason(env);
const runId = env['OMNI_LIVE_RUN_ID']?.trim() || newRunId();
const runLabels = { [RUN_LABEL]: runId };
const apiUrl = env['DAYTONA_API_URL']?.trim() || DAYTONA_CLOUD_API_URL;
const target = env['DAYTONA_TARGET']?.trim() || 'us';
const snapshotName = env['OMNI_LIVE_SNAPSHOT']?.trim() || 'omni-sandbox';
const repoUrl = env['OMNI_LIVE_REPO']?.trim() || 'https://github.com/octocat/Hello-World.git';
const anthropicKey = env['ANTHROPIC_API_KEY']?.trim() ?? '';

const jobSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  exit_code: z.number().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

let dir: string;
let stack: DevStack;
let daytona: Daytona;

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${stack.apiKey}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${stack.url}${path}`, { ...init, headers });
}

/** Creates a job, follows its stream to the end, and returns its events and final state. */
async function runJob(body: Record<string, unknown>) {
  const res = await call('/v1/jobs', { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  const created = jobSchema.parse(await res.json());
  const events: StreamEvent[] = [];
  await watchJob(stack.url, stack.apiKey, created.id, (e) => events.push(e));
  const job = jobSchema.parse(await (await call(`/v1/jobs/${created.id}`)).json());
  return { job, events };
}

const text = (events: StreamEvent[], type: string): string =>
  events
    .filter((e) => e.type === type)
    .map((e) => String(e.data))
    .join('');

describe.skipIf(skipped !== null)('against the real Daytona', () => {
  beforeAll(async () => {
    daytona = new Daytona({ apiKey: env['DAYTONA_API_KEY'], apiUrl, target });
    dir = await mkdtemp(join(tmpdir(), 'omni-live-'));
    stack = await startDevStack({
      port: 0,
      persistTo: join(dir, 'wrangler'),
      vars: {
        DAYTONA_API_URL: apiUrl,
        DAYTONA_API_KEY: env['DAYTONA_API_KEY'] ?? '',
        DAYTONA_TARGET: target,
        DAYTONA_SNAPSHOT: snapshotName,
        DAYTONA_SANDBOX_LABELS: JSON.stringify(runLabels),
        REPO_ALLOWED_HOSTS: new URL(repoUrl).hostname,
        // The real Anthropic API, not a stand-in.
        ANTHROPIC_BASE_URL: '',
      },
    });
    if (anthropicKey) {
      const res = await call('/v1/secrets/ANTHROPIC_API_KEY', {
        method: 'PUT',
        body: JSON.stringify({ value: anthropicKey }),
      });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    // Runs whether the tests passed or not: nothing of this run may stay behind.
    if (daytona) {
      const result = await deleteLabelled(daytona, runLabels);
      process.stdout.write(
        `test:live clean-up of ${RUN_LABEL}=${runId}: deleted ${result.deleted.length} sandbox(es)` +
          `${result.failed.length ? `, FAILED to delete ${result.failed.map((f) => `${f.id} (${f.error})`).join(', ')}` : ''}\n`,
      );
      await daytona[Symbol.asyncDispose]();
    }
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the snapshot active, and runs jobs from it without building one', async () => {
    const snapshot = await daytona.snapshot.get(snapshotName);
    expect(snapshot.state).toBe('active');
    const before = (await daytona.snapshot.list(1, 100)).total;
    for (let i = 0; i < 2; i++) {
      const { job } = await runJob({ repo: { url: repoUrl }, command: 'test -d .git' });
      expect(job).toMatchObject({ status: 'succeeded', exit_code: 0 });
    }
    expect((await daytona.snapshot.list(1, 100)).total).toBe(before);
  });

  it('runs a command that succeeds, and streams its output', async () => {
    const { job, events } = await runJob({
      repo: { url: repoUrl },
      command: 'echo live-ok; echo live-warn >&2',
    });
    expect(job).toMatchObject({ status: 'succeeded', exit_code: 0, error: null });
    expect(text(events, 'stdout')).toBe('live-ok\n');
    expect(text(events, 'stderr')).toBe('live-warn\n');
  });

  it('runs a command that fails, with its exit code', async () => {
    const { job, events } = await runJob({ repo: { url: repoUrl }, command: 'echo bye; exit 3' });
    expect(job).toMatchObject({ status: 'failed', exit_code: 3 });
    expect(job.error?.code).toBe('command_failed');
    expect(text(events, 'stdout')).toBe('bye\n');
  });

  it('streams live, and a second watcher resuming with ?after= gets exactly the rest', async () => {
    const { job, events } = await runJob({
      repo: { url: repoUrl },
      command: 'for i in 1 2 3 4 5; do echo line-$i; sleep 1; done',
    });
    expect(job.status).toBe('succeeded');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(text(events, 'stdout')).toBe('line-1\nline-2\nline-3\nline-4\nline-5\n');
    const half = Math.floor(events.length / 2);
    const resumed: StreamEvent[] = [];
    await watchJob(stack.url, stack.apiKey, job.id, (e) => resumed.push(e), half);
    expect(resumed).toEqual(events.slice(half));
  });

  it.skipIf(!anthropicKey)('runs an agent job against the real Anthropic API', async () => {
    const { job, events } = await runJob({
      repo: { url: repoUrl },
      agent: { prompt: 'Reply with the single word: ready. Use no tools.', max_turns: 2 },
    });
    expect(job).toMatchObject({ status: 'succeeded', error: null });
    expect(events.some((e) => e.type === 'result')).toBe(true);
  });

  it('leaves no sandbox behind: every job deleted its own', async () => {
    // Deletion is asynchronous at Daytona: wait for the run's list to empty, up to two minutes.
    const deadline = Date.now() + 2 * 60_000;
    let left = await listLabelled(daytona, runLabels);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      left = await listLabelled(daytona, runLabels);
    }
    expect(left).toEqual([]);
  });
});

describe.runIf(skipped !== null)('without credentials', () => {
  it('is skipped', () => {
    process.stdout.write(`test:live skipped: ${skipped}\n`);
  });
});
