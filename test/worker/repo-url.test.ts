/**
 * Repository URLs: hostile ones are refused at the edge with a 400 naming repo.url, under
 * production settings; the usual forms pass (checked on checkRepoUrl itself, since a job created
 * under production settings would try to reach a real Daytona).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import type { Config } from '../../worker/config.ts';
import { ApiError } from '../../worker/errors.ts';
import { checkRepoUrl } from '../../worker/lib/repo-url.ts';
import { newTenant } from './helpers.ts';

const problemSchema = z.object({
  code: z.string(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
});

/** Refused in production whatever REPO_ALLOWED_HOSTS says, with (part of) the reason given. */
const hostile: Array<[url: string, reason: string]> = [
  ['https://2130706433/o/r.git', 'not an IP address'],
  ['https://0x7f.1/o/r.git', 'not an IP address'],
  ['https://017700000001/o/r.git', 'not an IP address'],
  ['https://127.0.0.1./o/r.git', 'not an IP address'],
  ['https://[::ffff:127.0.0.1]/o/r.git', 'not an IP address'],
  ['https://[::1]/o/r.git', 'not an IP address'],
  ['https://169.254.169.254/latest/meta-data/', 'not an IP address'],
  ['https://metadata.google.internal/computeMetadata/v1/', 'metadata'],
  ['https://metadata/computeMetadata/v1/', 'metadata name'],
  ['https://127.1/o/r.git', 'not an IP address'],
  ['https://0x7f000001/o/r.git', 'not an IP address'],
  ['https://0.0.0.0/o/r.git', 'not an IP address'],
  ['https://[::]/o/r.git', 'not an IP address'],
  ['https://[0:0:0:0:0:0:0:1]/o/r.git', 'not an IP address'],
  ['https://[::ffff:7f00:1]/o/r.git', 'not an IP address'],
  ['https://[fe80::1]/o/r.git', 'not an IP address'],
  ['https://[fd00::1]/o/r.git', 'not an IP address'],
  ['https://10.0.0.1/o/r.git', 'not an IP address'],
  ['https://100.64.0.1/o/r.git', 'not an IP address'],
  ['https://LOCALHOST/o/r.git', 'not localhost'],
  ['https://localhost.localdomain/o/r.git', 'not localhost'],
  ['https://ip6-localhost/o/r.git', 'not localhost'],
  ['https://foo.localhost./o/r.git', 'must not end the host name with a dot'],
  ['http://127.0.0.1:8080/o/r.git', 'must use https://'],
  ['http://localhost/o/r.git', 'must use https://'],
  ['https://localhost/o/r.git', 'not localhost'],
  ['https://localhost./o/r.git', 'must not end the host name with a dot'],
  ['https://repo.localhost/o/r.git', 'not localhost'],
  ['https://nas.local/o/r.git', 'not localhost'],
  ['https://git.corp.internal/o/r.git', 'not localhost'],
  ['https://127.0.0.1.nip.io/o/r.git', 'stands for an IP address'],
  ['https://10-0-0-1.sslip.io/o/r.git', 'stands for an IP address'],
  ['https://7f000001.nip.io/o/r.git', 'stands for an IP address'],
  ['https://app.lvh.me/o/r.git', 'stands for an IP address'],
  ['https://github.com./o/r.git', 'must not end the host name with a dot'],
  ['http://github.com/o/r.git', 'must use https://'],
  ['ssh://git@github.com/o/r.git', 'must use https://'],
  ['git://github.com/o/r.git', 'must use https://'],
  ['file:///etc/passwd', 'must use https://'],
  ['git@github.com:o/r.git', 'absolute URL'],
  ['https://user:secret@github.com/o/r.git', 'credentials'],
  ['https://ghp_token@github.com/o/r.git', 'credentials'],
  ['https://github.com:8443/o/r.git', 'default https port'],
  ['https://github.com/o/r.git?upload-pack=x', 'query string'],
  ['https://github.com/o/r.git#main', 'fragment'],
];

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

/** POST /v1/jobs with `url`, under production settings with the given allow-list. */
async function postInProduction(url: string, allowedHosts: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await createApp().request(
    '/v1/jobs',
    {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ repo: { url }, command: 'true' }),
    },
    {
      ...env,
      ENVIRONMENT: 'production',
      DAYTONA_API_URL: 'https://daytona.example.com/api',
      // The suite's loopback Anthropic stand-in is a development setting.
      ANTHROPIC_BASE_URL: '',
      REPO_ALLOWED_HOSTS: allowedHosts,
    },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe('hostile repository URLs, in production', () => {
  it.each(hostile)('refuses %s', async (url, reason) => {
    for (const allowedHosts of ['github.com,gitlab.com', '']) {
      const res = await postInProduction(url, allowedHosts);
      expect(res.status, `with REPO_ALLOWED_HOSTS="${allowedHosts}"`).toBe(400);
      const problem = problemSchema.parse(await res.json());
      expect(problem.code).toBe('invalid_request');
      expect(problem.errors[0]?.path).toBe('repo.url');
      expect(problem.detail).toContain(reason);
    }
  });

  it.each([
    'https://github.com.evil.com/o/r.git',
    'https://evilgithub.com/o/r.git',
    'https://gist.github.com/o/r.git',
  ])('refuses %s, which is not on the allow-list', async (url) => {
    const res = await postInProduction(url, 'github.com');
    expect(res.status).toBe(400);
    const problem = problemSchema.parse(await res.json());
    expect(problem.detail).toContain('allowed hosts: github.com');
  });
});

describe('checkRepoUrl', () => {
  type Settings = Pick<Config, 'environment' | 'repoAllowedHosts'>;
  const production: Settings = {
    environment: 'production',
    repoAllowedHosts: ['github.com', 'gitlab.com'],
  };
  const development: Settings = { environment: 'development', repoAllowedHosts: [] };

  it.each([
    ['https://github.com/octocat/Hello-World.git', 'https://github.com/octocat/Hello-World.git'],
    ['https://GitHub.COM/octocat/Hello-World', 'https://github.com/octocat/Hello-World'],
    ['https://github.com:443/o/r.git', 'https://github.com/o/r.git'],
    ['https://gitlab.com/group/subgroup/r.git', 'https://gitlab.com/group/subgroup/r.git'],
  ])('accepts %s in production', (url, normalised) => {
    expect(checkRepoUrl(url, production)).toBe(normalised);
  });

  it('accepts every public host when the allow-list is empty', () => {
    const open: Settings = { environment: 'production', repoAllowedHosts: [] };
    expect(checkRepoUrl('https://git.example.org/r.git', open)).toBe(
      'https://git.example.org/r.git',
    );
  });

  it.each([
    'file:///tmp/repo',
    'https://git.example.org:8443/r.git',
    'http://127.0.0.1:8080/r.git',
    'http://localhost:8080/r.git',
    'http://[::1]:8080/r.git',
  ])('accepts %s in development', (url) => {
    expect(checkRepoUrl(url, development)).toBe(url);
  });

  it('accepts a repository on this machine in development whatever the allow-list says', () => {
    const listed: Settings = { environment: 'development', repoAllowedHosts: ['github.com'] };
    expect(checkRepoUrl('http://127.0.0.1:8080/r.git', listed)).toBe('http://127.0.0.1:8080/r.git');
  });

  it.each<[string, string]>([
    ['http://github.com/r.git', 'must use https://'],
    ['http://10.0.0.1/r.git', 'must use https://'],
    ['https://10.0.0.1/r.git', 'not an IP address'],
    ['http://169.254.169.254/latest/meta-data/', 'must use https://'],
    ['https://[fd00::1]/r.git', 'not an IP address'],
    ['https://nas.local/r.git', 'not localhost'],
    ['http://127.0.0.1.nip.io/r.git', 'must use https://'],
    ['https://127.0.0.1:8443/r.git', 'not an IP address'],
    ['https://localhost:8443/r.git', 'not localhost'],
    ['http://user:secret@127.0.0.1:8080/r.git', 'credentials'],
    ['http://127.0.0.1:8080/r.git?x=1', 'query string'],
  ])('still refuses %s in development', (url, reason) => {
    expect(() => checkRepoUrl(url, development)).toThrow(ApiError);
    expect(() => checkRepoUrl(url, development)).toThrow(reason);
  });
});
