/**
 * The clone refuses redirects: a repository whose URL answers with a redirect (a renamed
 * repository, or a server sending the sandbox somewhere else) fails the job with `clone_failed`
 * and a message naming where it redirected to, while the same repository at its own URL clones.
 * The repositories are served over git's HTTP protocol on 127.0.0.1 (test/git-http-server.ts),
 * which development allows; the sandbox's git is real git (local-daytona runs it on this machine).
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { allEvents, createJob, newTenant, waitForEnd } from './helpers.ts';

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

/** What the job printed on stdout. */
async function stdoutOf(id: string): Promise<string> {
  const events = await allEvents(apiKey, id);
  return events
    .filter((e) => e.type === 'stdout')
    .map((e) => String(e.data))
    .join('');
}

describe('cloning over http', () => {
  it('clones the repository at its own URL, at the branch asked for', async () => {
    const created = await createJob(apiKey, {
      repo: { url: env.FIXTURE_HTTP_REPO_URL, ref: 'feature' },
      command: 'cat FEATURE.txt',
    });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(await stdoutOf(created.id)).toBe('only on the feature branch\n');
  });

  it.each([
    ['301', env.FIXTURE_MOVED_REPO_URL, env.FIXTURE_HTTP_REPO_URL],
    [
      '302',
      env.FIXTURE_FOUND_REPO_URL,
      env.FIXTURE_HTTP_REPO_URL.replace('127.0.0.1', 'localhost'),
    ],
  ])(
    'fails a job whose repository answers with a %s redirect, naming where to',
    async (_, url, target) => {
      const created = await createJob(apiKey, { repo: { url }, command: 'echo cloned' });
      const job = await waitForEnd(apiKey, created.id);
      expect(job.status).toBe('failed');
      expect(job.error?.code).toBe('clone_failed');
      expect(job.error?.message).toContain(`Could not clone ${url}`);
      expect(job.error?.message).toContain(`answered with a redirect to ${target}`);
      expect(job.error?.message).toContain('use its final URL');
      // A redirect is permanent: the step was not retried.
      expect(job.error?.message).not.toContain('retried for');
      expect(await stdoutOf(created.id)).toBe('');
    },
  );

  it('fails at once, saying so, when the repository does not exist', async () => {
    const url = env.FIXTURE_HTTP_REPO_URL.replace('/repo.git', '/missing.git');
    const created = await createJob(apiKey, { repo: { url }, command: 'true' });
    const job = await waitForEnd(apiKey, created.id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('clone_failed');
    expect(job.error?.message).toMatch(/not found/);
    expect(job.error?.message).not.toContain('retried for');
  });
});
