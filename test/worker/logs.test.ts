/**
 * Logs: one JSON line per request and per job transition, with the ids an operator filters by,
 * and no credential, token or secret value in whatever is logged. LOG_LEVEL drops the lines
 * below it. The job run uses an API key, a JWT, a stream token and a tenant secret in its env;
 * an agent job (the real CLI against the Anthropic stand-in) brings a prompt and an API key.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env, withEnv } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { GOOD_KEY_PREFIX } from '../anthropic-script.ts';
import { createApp } from '../../worker/app.ts';
import { log } from '../../worker/lib/log.ts';
import { api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { userEnv, userToken } from './identity-helpers.ts';
import { collectUntilClose, openStream } from './sockets.ts';

const LineSchema = z.looseObject({ level: z.string(), msg: z.string(), time: z.string() });
type Line = z.infer<typeof LineSchema>;

let written: string[] = [];

beforeEach(() => {
  written = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      written.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The structured lines written so far. */
function lines(): Line[] {
  return written.flatMap((text) => {
    if (!text.startsWith('{')) return [];
    const parsed = LineSchema.safeParse(JSON.parse(text));
    return parsed.success ? [parsed.data] : [];
  });
}

describe('log lines', () => {
  it('carry request, tenant, user, job and sandbox ids, and never a credential', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const secretValue = `sv-${crypto.randomUUID()}`;
    const put = await api('/v1/secrets/LOG_TEST_SECRET', apiKey, {
      method: 'PUT',
      body: JSON.stringify({ value: secretValue }),
    });
    expect(put.status, await put.text()).toBe(201);

    // The secret reaches the command's environment (and its output, masked there).
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo "logged-output $LOG_TEST_SECRET"',
      env: { LOG_TEST_SECRET: { secret: 'LOG_TEST_SECRET' } },
    });
    const tokenRes = await api(`/v1/jobs/${job.id}/stream-token`, apiKey, { method: 'POST' });
    const { token: streamToken } = z.object({ token: z.string() }).parse(await tokenRes.json());
    const ws = await openStream(`/v1/jobs/${job.id}/stream?token=${streamToken}`, null);
    await collectUntilClose(ws, 30_000);
    expect((await waitForEnd(apiKey, job.id)).status).toBe('succeeded');

    const jwt = await userToken(tenantId, 'logs-user', 'viewer');
    const ctx = createExecutionContext();
    const byUser = await createApp().request(
      `/v1/jobs/${job.id}`,
      { headers: { authorization: `Bearer ${jwt}` } },
      userEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(byUser.status).toBe(200);

    const all = lines();
    const requests = all.filter((l) => l.msg === 'request');
    const created = requests.find((l) => l['method'] === 'POST' && l['path'] === '/v1/jobs');
    expect(created).toMatchObject({
      level: 'info',
      status: 201,
      tenant_id: tenantId,
      user_id: expect.stringMatching(/^key:key_/),
      request_id: expect.any(String),
      duration_ms: expect.any(Number),
    });
    const asUser = requests.find((l) => l['user_id'] === 'user:logs-user');
    expect(asUser).toMatchObject({ tenant_id: tenantId, path: `/v1/jobs/${job.id}` });
    // The stream's path is logged without its query string, which held the token.
    expect(requests.some((l) => l['path'] === `/v1/jobs/${job.id}/stream`)).toBe(true);

    const transitions = all.filter(
      (l) => l['job_id'] === job.id && /^job (transition|finished)$/.test(l.msg),
    );
    expect(transitions.map((l) => l['status'])).toEqual(
      expect.arrayContaining(['provisioning', 'running', 'succeeded']),
    );
    for (const line of transitions) {
      expect(line).toMatchObject({
        level: 'info',
        tenant_id: tenantId,
        user_id: created?.['user_id'],
        duration_ms: expect.any(Number),
      });
    }
    expect(transitions.find((l) => l['status'] === 'running')?.['sandbox_id']).toEqual(
      expect.any(String),
    );

    const secrets = [
      apiKey,
      streamToken,
      jwt,
      secretValue,
      env.DAYTONA_API_KEY,
      env.STREAM_TOKEN_SECRET,
      userEnv.JWT_SECRET,
    ];
    expect(written.length).toBeGreaterThan(0);
    for (const text of written) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});

describe('an agent job', () => {
  it('logs neither its prompt nor its Anthropic key', async () => {
    const { apiKey } = await newTenant('owner');
    const anthropicKey = `${GOOD_KEY_PREFIX}${crypto.randomUUID()}`;
    const put = await api('/v1/secrets/ANTHROPIC_API_KEY', apiKey, {
      method: 'PUT',
      body: JSON.stringify({ value: anthropicKey }),
    });
    expect(put.status, await put.text()).toBe(201);
    const prompt = `Read the README. prompt-marker-${crypto.randomUUID()}`;
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      agent: { prompt },
    });
    expect((await waitForEnd(apiKey, job.id)).status).toBe('succeeded');

    const own = lines().filter((l) => l['job_id'] === job.id);
    expect(own.some((l) => l.msg === 'job finished')).toBe(true);
    for (const text of written) {
      expect(text).not.toContain(anthropicKey);
      expect(text).not.toContain('prompt-marker-');
    }
  });
});

describe('LOG_LEVEL', () => {
  /** Which of the marker lines of each level are written under `setting`. */
  function writtenUnder(setting: string | undefined): string[] {
    withEnv({ ...env, LOG_LEVEL: setting }, () => {
      for (const level of ['debug', 'info', 'warn', 'error'] as const)
        log(level, `marker-${level}`);
    });
    return lines()
      .map((l) => l.msg)
      .filter((msg) => msg.startsWith('marker-'));
  }

  it('is info by default', () => {
    expect(writtenUnder(undefined)).toEqual(['marker-info', 'marker-warn', 'marker-error']);
  });

  it('drops the lines below the level it names', () => {
    expect(writtenUnder('warn')).toEqual(['marker-warn', 'marker-error']);
    written = [];
    expect(writtenUnder('debug')).toEqual([
      'marker-debug',
      'marker-info',
      'marker-warn',
      'marker-error',
    ]);
    written = [];
    expect(writtenUnder('ERROR')).toEqual(['marker-error']);
  });

  it('falls back to info on an invalid value, and says so', () => {
    expect(writtenUnder('loud')).toEqual(['marker-info', 'marker-warn', 'marker-error']);
    expect(lines().some((l) => l.level === 'warn' && l['setting'] === 'LOG_LEVEL')).toBe(true);
  });
});
