/**
 * npm run test:live (scripts/test-live.ts, test/live/) cannot reach the real services here, so
 * this checks what can be checked locally: that it skips, says why and exits 0 without
 * credentials, and that its clean-up finds a run's sandboxes by the run label, which the Worker
 * puts on job sandboxes through DAYTONA_SANDBOX_LABELS, and deletes those and no others.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daytona } from '@daytonaio/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';
import { startDevStack, type DevStack } from '../../scripts/lib/dev-stack.ts';
import {
  deleteLabelled,
  listLabelled,
  newRunId,
  RUN_LABEL,
  skipReason,
} from '../../scripts/lib/live-run.ts';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runTestLive(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'scripts', 'test-live.ts')],
      {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
      },
      (error, stdout) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout });
      },
    );
  });
}

describe('without credentials', () => {
  it('says it was skipped and why, and exits 0', async () => {
    const r = await runTestLive({ ANTHROPIC_API_KEY: 'sk-not-used' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('test:live skipped: DAYTONA_API_KEY is not set');
    expect(r.stdout).toContain('Nothing was run.');
  });

  it('counts a blank key as none', () => {
    expect(skipReason({ DAYTONA_API_KEY: ' ' })).toContain('DAYTONA_API_KEY is not set');
    expect(skipReason({ DAYTONA_API_KEY: 'k' })).toBeNull();
  });

  it('gives every run its own id', () => {
    expect(newRunId()).toMatch(/^live-\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(newRunId()).not.toBe(newRunId());
  });
});

describe('clean-up by the run label, against local-daytona', () => {
  const runId = newRunId();
  const runLabels = { [RUN_LABEL]: runId };
  let dir: string;
  let repo: SampleRepo;
  let stack: DevStack;
  /** Stands for the real Daytona: the stack is pointed at it as test/live points it at Daytona. */
  let remote: LocalDaytona;
  let daytona: Daytona;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'omni-live-run-'));
    repo = await createSampleRepo(dir);
    remote = await startLocalDaytona({ apiKey: `remote-${crypto.randomUUID()}` });
    stack = await startDevStack({
      port: 0,
      persistTo: join(dir, 'wrangler'),
      vars: {
        DAYTONA_API_URL: remote.apiUrl,
        DAYTONA_API_KEY: remote.apiKey,
        DAYTONA_SANDBOX_LABELS: JSON.stringify(runLabels),
      },
    });
    daytona = new Daytona({ apiKey: remote.apiKey, apiUrl: remote.apiUrl, target: 'us' });
  });

  afterAll(async () => {
    await daytona?.[Symbol.asyncDispose]();
    await stack?.stop();
    await remote?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("labels a job's sandbox with the run, and deletes only the run's sandboxes", async () => {
    const res = await fetch(`${stack.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ repo: { url: repo.url }, command: 'sleep 120' }),
    });
    expect(res.status).toBe(201);
    const job = z.object({ id: z.string() }).parse(await res.json());

    // The job's sandbox appears on the Daytona the settings name (not the stack's own
    // local-daytona) under the run label, with Omni's own labels kept.
    let ids: string[] = [];
    for (let i = 0; i < 600 && ids.length === 0; i++) {
      ids = await listLabelled(daytona, runLabels);
      if (ids.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ids).toHaveLength(1);
    const jobSandbox = await daytona.get(ids[0] ?? '');
    expect(jobSandbox.labels).toMatchObject({ [RUN_LABEL]: runId, 'omni.job': job.id });
    expect((await stack.daytona.stats()).sandboxesCreated).toBe(0);

    // One more of this run, and one of another run that must survive.
    const mine = await daytona.create({ snapshot: 'omni-sandbox', labels: runLabels });
    const other = await daytona.create({
      snapshot: 'omni-sandbox',
      labels: { [RUN_LABEL]: 'live-someone-else' },
    });

    const result = await deleteLabelled(daytona, runLabels);
    expect(result.failed).toEqual([]);
    expect(result.deleted.sort()).toEqual([jobSandbox.id, mine.id].sort());
    expect(await listLabelled(daytona, runLabels)).toEqual([]);
    expect((await daytona.get(other.id)).id).toBe(other.id);
    await other.delete();
  });
});
