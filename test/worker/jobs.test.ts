/** End to end inside workerd: the API, the Job DO and local-daytona run a real job. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobEventPageSchema, JobSchema } from '../../worker/schemas/jobs.ts';
import { allEvents, api, createJob, newTenant, sandboxesOf, waitForEnd } from './helpers.ts';

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

describe('a job that succeeds', () => {
  it('answers 201 queued at once, then runs the command in a clone and keeps its output', async () => {
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      body: JSON.stringify({
        repo: { url: env.FIXTURE_REPO_URL },
        command: 'cat README.md; ./count.sh 3 0.05; echo oops >&2',
      }),
    });
    expect(res.status).toBe(201);
    const created = JobSchema.parse(await res.json());
    expect(created.status).toBe('queued');
    expect(created.id).toMatch(/^job_[0-9a-f]{32}$/);
    expect(res.headers.get('location')).toBe(`/v1/jobs/${created.id}`);
    expect(created.links.stream).toBe(`/v1/jobs/${created.id}/stream`);

    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('succeeded');
    expect(job.exit_code).toBe(0);
    expect(job.error).toBeNull();
    for (const t of [job.provisioning_at, job.cloning_at, job.running_at, job.finished_at])
      expect(t).not.toBeNull();
    expect(job.duration_ms).toBeGreaterThan(0);

    const events = await allEvents(apiKey, created.id);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
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
    expect(stdout).toBe(
      '# Sample repository\n\nCloned by Omni jobs in the demo and the tests.\nstep 1\nstep 2\nstep 3\n',
    );
    expect(
      events
        .filter((e) => e.type === 'stderr')
        .map((e) => e.data)
        .join(''),
    ).toBe('oops\n');
    expect(events.find((e) => e.type === 'exit')?.exit_code).toBe(0);

    // The sandbox is gone once the job ended (cleanup runs right after the final status).
    await expect.poll(() => sandboxesOf(created.id), { timeout: 20_000 }).toEqual([]);
  });

  it('checks out the requested ref', async () => {
    const created = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL, ref: 'feature' },
      command: 'cat FEATURE.txt',
    });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('succeeded');
    const stdout = (await allEvents(apiKey, created.id))
      .filter((e) => e.type === 'stdout')
      .map((e) => e.data);
    expect(stdout.join('')).toBe('only on the feature branch\n');
  });
  it('gives the command a closed stdin, so a command that reads it does not hang', async () => {
    const created = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'cat; echo "stdin was empty"',
    });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('succeeded');
    const stdout = (await allEvents(apiKey, created.id))
      .filter((e) => e.type === 'stdout')
      .map((e) => e.data);
    expect(stdout.join('')).toBe('stdin was empty\n');
  });
});

describe('large output', () => {
  it('keeps 3 MB of output in events of at most 16 KiB, read back in pages of about 1 MiB', async () => {
    const size = 3_000_000;
    const created = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: `head -c ${size} /dev/zero | tr '\\0' a`,
    });
    expect((await waitForEnd(apiKey, created.id)).status).toBe('succeeded');
    let after = 0;
    let output = '';
    let pages = 0;
    for (;;) {
      const res = await api(`/v1/jobs/${created.id}/events?after=${after}&limit=1000`, apiKey);
      const page = JobEventPageSchema.parse(await res.json());
      const chars = page.data.reduce(
        (n, e) => n + (typeof e.data === 'string' ? e.data.length : 0),
        0,
      );
      expect(chars).toBeLessThanOrEqual(1024 * 1024);
      for (const e of page.data) {
        if (e.type === 'stdout' && typeof e.data === 'string') {
          expect(e.data.length).toBeLessThanOrEqual(16 * 1024);
          output += e.data;
        }
      }
      pages += 1;
      if (page.next_after === null) break;
      after = page.next_after;
    }
    expect(output.length).toBe(size);
    expect(output).toBe('a'.repeat(size));
    expect(pages).toBeGreaterThanOrEqual(3);
  });
});

describe('output limit', () => {
  it('keeps the first 16 MiB of output and says the rest was truncated', async () => {
    const limit = 16 * 1024 * 1024;
    const created = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: `head -c ${limit + 500_000} /dev/zero | tr '\\0' b; echo done >&2`,
    });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('succeeded');
    const events = await allEvents(apiKey, created.id, 1000);
    const stored = events
      .filter((e) => e.type === 'stdout' || e.type === 'stderr')
      .reduce((n, e) => n + (typeof e.data === 'string' ? e.data.length : 0), 0);
    expect(stored).toBe(limit);
    expect(events.filter((e) => e.type === 'truncated')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
  });
});

describe('jobs that fail', () => {
  it('keeps the exit code and the full output of a failing command', async () => {
    const created = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo before; echo broken >&2; exit 3',
    });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('failed');
    expect(job.exit_code).toBe(3);
    expect(job.error).toEqual({
      code: 'command_failed',
      message: 'The command exited with code 3.',
    });
    const events = await allEvents(apiKey, created.id);
    expect(
      events
        .filter((e) => e.type === 'stdout')
        .map((e) => e.data)
        .join(''),
    ).toBe('before\n');
    expect(
      events
        .filter((e) => e.type === 'stderr')
        .map((e) => e.data)
        .join(''),
    ).toBe('broken\n');
    await expect.poll(() => sandboxesOf(created.id), { timeout: 20_000 }).toEqual([]);
  });

  it('fails with the reason when the repository cannot be cloned, and leaves no sandbox', async () => {
    const missing = `${env.FIXTURE_REPO_URL}-does-not-exist`;
    const created = await createJob(apiKey, { repo: { url: missing }, command: 'true' });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('failed');
    expect(job.exit_code).toBeNull();
    expect(job.error?.code).toBe('clone_failed');
    expect(job.error?.message).toContain(`Could not clone ${missing}`);
    expect(job.error?.message).toMatch(
      /does not exist|not found|not appear to be a git repository/i,
    );
    await expect.poll(() => sandboxesOf(created.id), { timeout: 20_000 }).toEqual([]);
  });

  it('fails with the branch named when the ref does not exist', async () => {
    const created = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL, ref: 'no-such-branch' },
      command: 'true',
    });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('clone_failed');
    expect(job.error?.message).toContain('no-such-branch');
  });

  it('times out a command that runs past timeout_seconds, and deletes its sandbox', async () => {
    const created = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo started; sleep 60',
      timeout_seconds: 2,
    });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('timed_out');
    expect(job.error?.code).toBe('timeout');
    expect(job.error?.message).toBe('The job exceeded its time limit of 2 seconds.');
    await expect.poll(() => sandboxesOf(created.id), { timeout: 20_000 }).toEqual([]);
  });
});
