/**
 * A job's `env`: literal values and secrets reach the command's environment, never its text;
 * secret values are masked (`***`) in the stored log and the live stream, also split across two
 * pieces of output and after the Job DO lost its memory; a secret's value is in no job answer,
 * D1 row or Job DO storage; references to missing secrets are refused at creation, and a secret
 * deleted before the command starts fails the job with `secret_missing`.
 */
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allEvents, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { expectProblem, send } from './identity-helpers.ts';
import { sandboxStats } from './faults.ts';
import { jobSpec } from './job-spec.ts';
import { collectUntilClose, openStream } from './sockets.ts';

let tenantId: string;
let owner: string;
beforeAll(async () => {
  ({ tenantId, apiKey: owner } = await newTenant('owner'));
});

async function putSecret(name: string, value: string): Promise<void> {
  const res = await send('PUT', `/v1/secrets/${name}`, owner, { value });
  expect(res.status, await res.text()).toBe(201);
}

/** local-daytona's toolbox API for the sandbox `id`. */
function toolbox(id: string, path: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(`/toolbox/${id}${path}`, env.DAYTONA_API_URL);
  const headers = { authorization: `Bearer ${env.DAYTONA_API_KEY}` };
  return fetch(url, { ...init, headers });
}

/** The sandbox id of job `id` of the test tenant, once it has one. */
async function sandboxIdOf(id: string): Promise<string> {
  let sandboxId: string | null = null;
  await expect
    .poll(async () => (sandboxId = (await env.JOB.getByName(id).get(tenantId))?.sandboxId ?? null))
    .not.toBeNull();
  return sandboxId ?? '';
}

/** Lets a command that waits for `../go` (a folder in the sandbox user's home) go on. */
async function release(sandboxId: string): Promise<void> {
  const res = await toolbox(sandboxId, '/files/folder?path=go&mode=755', { method: 'POST' });
  expect(res.status, await res.text()).toBe(201);
}

/** The text of every command Daytona was asked to run in the job's session. */
async function sessionCommandTexts(sandboxId: string): Promise<string[]> {
  const res = await toolbox(sandboxId, '/process/session/omni-job');
  expect(res.status).toBe(200);
  const body = z
    .object({ commands: z.array(z.object({ command: z.string() })) })
    .parse(await res.json());
  return body.commands.map((c) => c.command);
}

/** The job's output of `stream`, as stored. */
async function storedOutput(id: string, stream: 'stdout' | 'stderr'): Promise<string> {
  return (await allEvents(owner, id))
    .filter((e) => e.type === stream)
    .map((e) => String(e.data))
    .join('');
}

/** Every row of every D1 table, as text. */
async function allOfD1(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  const dump: unknown[] = [];
  for (const { name } of tables.results) {
    dump.push((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
  }
  expect(tables.results.map((t) => t.name)).toEqual(expect.arrayContaining(['jobs', 'secrets']));
  return JSON.stringify(dump);
}

/** Every row of every table of the job's Durable Object storage, as text. */
async function allOfJobStorage(id: string): Promise<string> {
  return runInDurableObject(env.JOB.getByName(id), (_, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((t) => t.name)
      .filter((name) => !name.startsWith('_cf_') && !name.startsWith('sqlite_'));
    return JSON.stringify(tables.map((name) => sql.exec(`SELECT * FROM "${name}"`).toArray()));
  });
}

describe('job env', () => {
  it('delivers literals and secrets in the environment and masks secret values everywhere', async () => {
    const secret = 'sup3r-s3cret-value';
    const literal = 'literal-value-xyz';
    await putSecret('MY_SECRET', secret);
    const command = [
      'echo "literal=$MODE secret=$MY_SECRET"',
      'echo "err $MY_SECRET" >&2',
      'while [ ! -d ../go ]; do sleep 0.1; done',
      'echo "again $MY_SECRET"',
      'test -e ../.omni-env/env && echo file-left || echo file-gone',
    ].join('; ');
    const job = await createJob(owner, {
      repo: { url: env.FIXTURE_REPO_URL },
      command,
      env: { MODE: literal, MY_SECRET: { secret: 'MY_SECRET' } },
    });
    expect(job.env).toEqual([
      { name: 'MODE', secret: null },
      { name: 'MY_SECRET', secret: 'MY_SECRET' },
    ]);
    const ws = await openStream(`/v1/jobs/${job.id}/stream`, owner);

    await expect
      .poll(() => storedOutput(job.id, 'stdout'), { timeout: 30_000 })
      .toContain('secret=***');
    // While the command runs: Daytona was asked to run a text with neither value in it.
    const sandboxId = await sandboxIdOf(job.id);
    const texts = await sessionCommandTexts(sandboxId);
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.join('\n')).toContain('echo "literal=$MODE');
    expect(texts.join('\n')).not.toContain(secret);
    expect(texts.join('\n')).not.toContain(literal);
    await release(sandboxId);

    const ended = await waitForEnd(owner, job.id);
    expect(ended.status).toBe('succeeded');
    const stdout = `literal=${literal} secret=***\nagain ***\nfile-gone\n`;
    expect(await storedOutput(job.id, 'stdout')).toBe(stdout);
    expect(await storedOutput(job.id, 'stderr')).toBe('err ***\n');

    const live = (await collectUntilClose(ws, 30_000)).messages.map((m) =>
      z.looseObject({ type: z.string(), data: z.string().optional() }).parse(JSON.parse(m)),
    );
    const liveOut = live.filter((e) => e.type === 'stdout').map((e) => e.data);
    expect(liveOut.join('')).toBe(stdout);
    expect(JSON.stringify(live)).not.toContain(secret);

    const answer = await (await api(`/v1/jobs/${job.id}`, owner)).text();
    expect(answer).not.toContain(secret);
    expect(answer).not.toContain(literal);
    expect(await allOfD1()).not.toContain(secret);
    expect(await allOfJobStorage(job.id)).not.toContain(secret);
    // Once the job has ended, the Job DO keeps not even the encrypted value.
    const ciphertext = await env.DB.prepare(
      "SELECT ciphertext FROM secrets WHERE tenant_id = ? AND name = 'MY_SECRET'",
    )
      .bind(tenantId)
      .first('ciphertext');
    expect(await allOfJobStorage(job.id)).not.toContain(z.string().parse(ciphertext));
  });

  it('masks a secret the command prints in two pieces', async () => {
    await putSecret('SPLIT', 'abcdefgh');
    const job = await createJob(owner, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: "printf 'x abc'; sleep 1; printf 'defgh y\\n'; printf \"$SPLIT\" >&2",
      env: { SPLIT: { secret: 'SPLIT' } },
    });
    expect((await waitForEnd(owner, job.id)).status).toBe('succeeded');
    const events = await allEvents(owner, job.id);
    expect(await storedOutput(job.id, 'stdout')).toBe('x *** y\n');
    expect(await storedOutput(job.id, 'stderr')).toBe('***');
    for (const event of events) expect(String(event.data ?? '')).not.toMatch(/abc|defgh/);
  });

  it('masks again after the Job DO lost its memory mid-command', async () => {
    const secret = 'resume-secret-value';
    await putSecret('RESUMED', secret);
    const job = await createJob(owner, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo "one $S"; while [ ! -d ../go ]; do sleep 0.1; done; echo "two $S"',
      env: { S: { secret: 'RESUMED' } },
    });
    await expect.poll(() => storedOutput(job.id, 'stdout'), { timeout: 30_000 }).toBe('one ***\n');
    const sandboxId = await sandboxIdOf(job.id);
    // The instance that decrypted the secret is gone; the next one reads the log on.
    await abortAllDurableObjects();
    await release(sandboxId);
    expect((await waitForEnd(owner, job.id)).status).toBe('succeeded');
    expect(await storedOutput(job.id, 'stdout')).toBe('one ***\ntwo ***\n');
    expect(await allOfJobStorage(job.id)).not.toContain(secret);
  });

  it('fails the job with secret_missing when the secret is gone before the command starts', async () => {
    // Started through the Job DO, which is what a job created before the deletion comes to.
    const spec = jobSpec(tenantId, {
      command: 'echo "$GONE"',
      env: { GONE: { secret: 'DELETED_SECRET' }, OK: 'fine' },
    });
    await env.JOB.getByName(spec.id).create(spec);
    const job = await waitForEnd(owner, spec.id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('secret_missing');
    expect(job.error?.message).toContain('DELETED_SECRET');
    const stats = await sandboxStats(`omni-${spec.id}`);
    expect(stats.map((s) => s.sessionCommands)).toEqual([0]);
  });
});

describe('POST /v1/jobs with env', () => {
  const body = (jobEnv: unknown) => ({
    repo: { url: env.FIXTURE_REPO_URL },
    command: 'true',
    env: jobEnv,
  });

  it('refuses a reference to a secret the tenant does not have, naming it (400)', async () => {
    const problem = await expectProblem(
      await send('POST', '/v1/jobs', owner, body({ TOKEN: { secret: 'NOT_THERE' } })),
      400,
      'invalid_request',
    );
    expect(problem.detail).toContain('NOT_THERE');
    expect(problem.errors).toEqual([{ path: 'env.TOKEN', message: 'no secret named NOT_THERE' }]);
  });

  it('answers 503 naming the setting when secrets cannot be decrypted', async () => {
    await putSecret('NEEDS_KEYS', 'needs-keys-value');
    const { createApp } = await import('../../worker/app.ts');
    const res = await createApp().fetch(
      new Request('https://omni.test/v1/jobs', {
        method: 'POST',
        headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
        body: JSON.stringify(body({ T: { secret: 'NEEDS_KEYS' } })),
      }),
      { ...env, SECRETS_KEY_ID: '' },
      { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} },
    );
    const problem = await expectProblem(res, 503, 'misconfigured');
    expect(problem.detail).toContain('SECRETS_KEY_ID');
  });

  it('refuses a secret of another tenant', async () => {
    const other = await newTenant('owner');
    const res = await send('PUT', '/v1/secrets/THEIRS', other.apiKey, { value: 'their-value' });
    expect(res.status).toBe(201);
    await expectProblem(
      await send('POST', '/v1/jobs', owner, body({ T: { secret: 'THEIRS' } })),
      400,
      'invalid_request',
    );
  });

  it.each([
    ['a reserved name', { OMNI_JOB: 'x' }, 'env.OMNI_JOB'],
    ['a lower-case name', { path: 'x' }, 'env.path'],
    ['a bad secret name', { A: { secret: 'lower' } }, 'env.A.secret'],
    ['an unknown field in a reference', { A: { secret: 'X', extra: 1 } }, 'env.A.extra'],
    ['a literal over 16 KiB', { A: 'x'.repeat(16 * 1024 + 1) }, 'env.A'],
    ['a NUL in a literal', { A: 'a\0b' }, 'env.A'],
    [
      'more than 64 variables',
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`V${i}`, 'x'])),
      'env',
    ],
  ])('refuses %s (400)', async (_, jobEnv, path) => {
    const problem = await expectProblem(
      await send('POST', '/v1/jobs', owner, body(jobEnv)),
      400,
      'invalid_request',
    );
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });
});
