/**
 * The sandbox shape of a project's jobs: the operator's limits and defaults, the shape reaching
 * Daytona at create (asserted on what local-daytona recorded of the create request), the network
 * policies, the choice between the snapshot and the image, and the sandbox's create and delete
 * times in the job's state.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jobStateSchema, type JobState } from '../../durable-objects/job/state.ts';
import { ConfigError, loadConfig } from '../../worker/config.ts';
import { ApiError } from '../../worker/errors.ts';
import { jobProject } from '../../worker/services/job-project.ts';
import { ProjectSchema } from '../../worker/schemas/projects.ts';
import { api, createJob, newTenant, waitForEnd } from './helpers.ts';

const AskedSchema = z.object({
  snapshot: z.string().optional(),
  image: z.string().optional(),
  cpu: z.number().optional(),
  memory: z.number().optional(),
  disk: z.number().optional(),
  autoStopInterval: z.number().optional(),
  autoArchiveInterval: z.number().optional(),
  autoDeleteInterval: z.number().optional(),
  networkBlockAll: z.boolean().optional(),
  networkAllowList: z.string().optional(),
});

const adminUrl = (path: string) => new URL(path, env.DAYTONA_API_URL).toString();
const auth = { authorization: `Bearer ${env.DAYTONA_API_KEY}` };

/** What local-daytona recorded of the create request of the sandbox called `name`. */
async function asked(name: string): Promise<z.infer<typeof AskedSchema>> {
  const res = await fetch(adminUrl('/_stats'), { headers: auth });
  expect(res.status).toBe(200);
  const body = z
    .object({
      sandboxes: z.record(z.string(), z.object({ name: z.string(), asked: AskedSchema.strict() })),
    })
    .parse(await res.json());
  const found = Object.values(body.sandboxes).filter((s) => s.name === name);
  expect(found).toHaveLength(1);
  const first = found[0];
  if (!first) throw new Error(`no sandbox ${name}`);
  return first.asked;
}

let tenantId: string;
let apiKey: string;

beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant('admin'));
});

async function project(sandbox: unknown): Promise<string> {
  const res = await api('/v1/projects', apiKey, {
    method: 'POST',
    body: JSON.stringify({ name: `p-${crypto.randomUUID()}`, sandbox }),
  });
  const json: unknown = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return ProjectSchema.parse(json).id;
}

/** Runs `true` in a job of `projectId` (or the default project) and returns what Daytona was asked. */
async function runAndAsk(projectId?: string) {
  const job = await createJob(apiKey, {
    repo: { url: env.FIXTURE_REPO_URL },
    command: 'true',
    ...(projectId ? { project: projectId } : {}),
  });
  expect((await waitForEnd(apiKey, job.id)).status).toBe('succeeded');
  return { job, asked: await asked(`omni-${job.id}`) };
}

async function stateOf(id: string): Promise<JobState> {
  return runInDurableObject(env.JOB.getByName(id), (_, state) => {
    const row = state.storage.sql.exec('SELECT data FROM job').one();
    return jobStateSchema.parse(JSON.parse(String(row['data'])));
  });
}

describe('the shape reaches Daytona at create', () => {
  it('sends the operator defaults explicitly, from the snapshot, without sizes', async () => {
    const { asked: sent } = await runAndAsk();
    expect(sent).toEqual({
      snapshot: 'omni-sandbox',
      autoStopInterval: 15,
      autoDeleteInterval: 0,
      networkBlockAll: false,
    });
  });

  it("sends the project's intervals and its CIDR allow-list", async () => {
    const id = await project({
      auto_stop_minutes: 7,
      auto_delete_minutes: 3,
      network: { allow_list: ['10.0.0.0/8', '192.168.1.0/24'] },
    });
    const { asked: sent } = await runAndAsk(id);
    expect(sent).toEqual({
      snapshot: 'omni-sandbox',
      autoStopInterval: 7,
      autoDeleteInterval: 3,
      networkBlockAll: false,
      networkAllowList: '10.0.0.0/8,192.168.1.0/24',
    });
  });

  it('blocks all network for block_all', async () => {
    const id = await project({ network: 'block_all' });
    const { asked: sent } = await runAndAsk(id);
    expect(sent).toMatchObject({ networkBlockAll: true });
    expect(sent.networkAllowList).toBeUndefined();
  });

  it('creates a sandbox of another size from the image, with its resources', async () => {
    const id = await project({ cpu: 3, memory_gib: 6, disk_gib: 9 });
    const { asked: sent } = await runAndAsk(id);
    expect(sent).toEqual({
      image: 'FROM omni-sandbox-test:1\n',
      cpu: 3,
      memory: 6,
      disk: 9,
      autoStopInterval: 15,
      autoDeleteInterval: 0,
      networkBlockAll: false,
    });
  });

  it('keeps the shape a job was created with when its project changes later', async () => {
    const id = await project({ auto_stop_minutes: 11 });
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'true',
      project: id,
    });
    const res = await api(`/v1/projects/${id}`, apiKey, {
      method: 'PATCH',
      body: JSON.stringify({ sandbox: { auto_stop_minutes: 12 } }),
    });
    expect(res.status).toBe(200);
    await waitForEnd(apiKey, job.id);
    expect((await stateOf(job.id)).sandboxShape?.autoStopMinutes).toBe(11);
  });
});

describe("the operator's limits", () => {
  it.each([
    [{ cpu: 5 }, 'sandbox.cpu', 'SANDBOX_MAX_CPU'],
    [{ memory_gib: 9 }, 'sandbox.memory_gib', 'SANDBOX_MAX_MEMORY_GIB'],
    [{ disk_gib: 11 }, 'sandbox.disk_gib', 'SANDBOX_MAX_DISK_GIB'],
    [{ auto_stop_minutes: 61 }, 'sandbox.auto_stop_minutes', 'SANDBOX_MAX_AUTO_STOP_MINUTES'],
    [{ auto_delete_minutes: 61 }, 'sandbox.auto_delete_minutes', 'SANDBOX_MAX_AUTO_DELETE_MINUTES'],
  ])('refuses %o with 400 naming %s and the limit', async (sandbox, path, setting) => {
    for (const [method, url] of [
      ['POST', '/v1/projects'],
      ['PATCH', `/v1/projects/${await project({})}`],
    ] as const) {
      const body =
        method === 'POST' ? { name: `limit-${crypto.randomUUID()}`, sandbox } : { sandbox };
      const res = await api(url, apiKey, { method, body: JSON.stringify(body) });
      const json = z
        .object({ detail: z.string(), errors: z.array(z.object({ path: z.string() })) })
        .parse(await res.json());
      expect(res.status).toBe(400);
      expect(json.errors[0]?.path).toBe(path);
      expect(json.detail).toContain(setting);
    }
  });

  it('accepts a shape at the limits', async () => {
    await project({ cpu: 4, memory_gib: 8, disk_gib: 10, auto_stop_minutes: 60 });
  });

  it('refuses a job whose project is now beyond a limit the operator lowered', async () => {
    const id = await project({ cpu: 4 });
    const lowered = loadConfig({ ...env, SANDBOX_MAX_CPU: '3' });
    const attempt = jobProject(env.DB, tenantId, id, env.FIXTURE_REPO_URL, lowered);
    await expect(attempt).rejects.toThrow(ApiError);
    await expect(attempt).rejects.toThrow(/SANDBOX_MAX_CPU/);
    const fine = await jobProject(env.DB, tenantId, id, env.FIXTURE_REPO_URL, loadConfig(env));
    expect(fine.sandboxShape.cpu).toBe(4);
    expect(fine.sandboxImage).toBe('omni-sandbox-test:1');
  });

  it('refuses another size than the snapshot’s when no image is configured', async () => {
    const noImage = loadConfig({ ...env, DAYTONA_IMAGE: '' });
    const id = await project({ cpu: 3 });
    const attempt = jobProject(env.DB, tenantId, id, env.FIXTURE_REPO_URL, noImage);
    await expect(attempt).rejects.toThrow(/DAYTONA_IMAGE/);
    // Intervals and network need no image.
    const other = await project({ auto_stop_minutes: 2, network: 'block_all' });
    const ok = await jobProject(env.DB, tenantId, other, env.FIXTURE_REPO_URL, noImage);
    expect(ok.sandboxImage).toBeNull();
  });

  it('refuses a configuration whose default is above its limit', () => {
    expect(() => loadConfig({ ...env, SANDBOX_DEFAULT_CPU: '8' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, SANDBOX_DEFAULT_CPU: '8' })).toThrow(
      /SANDBOX_DEFAULT_CPU.*SANDBOX_MAX_CPU/,
    );
    expect(() => loadConfig({ ...env, SANDBOX_AUTO_STOP_MINUTES: '0' })).toThrow(
      /SANDBOX_AUTO_STOP_MINUTES/,
    );
    for (const image of ['node', 'node:latest', 'ghcr.io/acme/sandbox:stable', 'x@sha256:12']) {
      expect(() => loadConfig({ ...env, DAYTONA_IMAGE: image })).toThrow(/DAYTONA_IMAGE/);
    }
    for (const image of ['node:24.21.0-bookworm-slim', `ghcr.io/a/b@sha256:${'a'.repeat(64)}`]) {
      expect(loadConfig({ ...env, DAYTONA_IMAGE: image }).sandbox.image).toBe(image);
    }
  });
});

describe('the sandbox times', () => {
  it('records when the sandbox was asked for and when it was deleted', async () => {
    const before = Date.now();
    const { job } = await runAndAsk();
    let state = await stateOf(job.id);
    while (state.sandboxDeletedAt === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = await stateOf(job.id);
    }
    const created = state.sandboxCreatedAt;
    if (created === null) throw new Error('no sandboxCreatedAt');
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(state.runningAt ?? 0);
    expect(state.sandboxDeletedAt).toBeGreaterThanOrEqual(state.finishedAt ?? Infinity);
  });
});
