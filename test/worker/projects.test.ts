/**
 * /v1/projects: create, list, read and change projects; roles; bounded and validated input;
 * unique names (also under concurrency); the default project, created once however many requests
 * need it at the same time; and jobs that name a project, default to it, and are held to its
 * repository allow-list.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultProjectId } from '../../worker/db/projects.ts';
import { JobListSchema } from '../../worker/schemas/jobs.ts';
import {
  ProjectListSchema,
  ProjectSchema,
  type ProjectBody,
} from '../../worker/schemas/projects.ts';
import { addKey, api, createJob, newTenant, waitForEnd } from './helpers.ts';

const ProblemSchema = z.object({
  status: z.number(),
  code: z.string(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

let tenantId: string;
let admin: string;

beforeAll(async () => {
  ({ tenantId, apiKey: admin } = await newTenant('admin'));
});

function post(key: string, body: unknown): Promise<Response> {
  return api('/v1/projects', key, { method: 'POST', body: JSON.stringify(body) });
}

function patch(key: string, id: string, body: unknown): Promise<Response> {
  return api(`/v1/projects/${id}`, key, { method: 'PATCH', body: JSON.stringify(body) });
}

async function created(key: string, body: unknown): Promise<ProjectBody> {
  const res = await post(key, body);
  const json: unknown = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return ProjectSchema.parse(json);
}

async function problem(res: Response, status: number) {
  const json: unknown = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(status);
  return ProblemSchema.parse(json);
}

async function projectRows(tenant: string) {
  const { results } = await env.DB.prepare(
    'SELECT id, name, is_default FROM projects WHERE tenant_id = ?',
  )
    .bind(tenant)
    .all();
  return z
    .array(z.object({ id: z.string(), name: z.string(), is_default: z.number() }))
    .parse(results);
}

describe('creating and reading projects', () => {
  it('creates a project with a budget, an allow-list and sandbox settings', async () => {
    const project = await created(admin, {
      name: 'web',
      monthly_budget_usd: 12.5,
      repo_allow_list: ['https://github.com/acme/'],
      sandbox: { auto_stop_minutes: 5, network: 'block_all' },
    });
    expect(project).toMatchObject({
      name: 'web',
      is_default: false,
      monthly_budget_usd: 12.5,
      repo_allow_list: ['https://github.com/acme/'],
      sandbox: { auto_stop_minutes: 5, network: 'block_all' },
      sandbox_effective: {
        cpu: 2,
        memory_gib: 4,
        disk_gib: 8,
        auto_stop_minutes: 5,
        auto_delete_minutes: 0,
        network: 'block_all',
      },
    });
    expect(project.id).toMatch(/^prj_[0-9a-f]{32}$/);
    const row = await env.DB.prepare(
      'SELECT monthly_budget_micro_usd AS budget, repo_allow_list AS list FROM projects WHERE id = ?',
    )
      .bind(project.id)
      .first();
    expect(row).toEqual({ budget: 12_500_000, list: '["https://github.com/acme/"]' });

    const res = await api(`/v1/projects/${project.id}`, admin);
    expect(res.status).toBe(200);
    expect(ProjectSchema.parse(await res.json())).toEqual(project);
  });

  it('audits project.create and project.update', async () => {
    const project = await created(admin, { name: 'audited' });
    expect((await patch(admin, project.id, { monthly_budget_usd: 3 })).status).toBe(200);
    const { results } = await env.DB.prepare(
      'SELECT action FROM audit_log WHERE tenant_id = ? AND target = ? ORDER BY time',
    )
      .bind(tenantId, project.id)
      .all();
    expect(results.map((r) => r['action'])).toEqual(['project.create', 'project.update']);
  });

  it("answers 404 for an unknown project and for another tenant's", async () => {
    const project = await created(admin, { name: 'private' });
    const other = await newTenant('owner');
    expect((await api(`/v1/projects/${project.id}`, other.apiKey)).status).toBe(404);
    expect((await patch(other.apiKey, project.id, { name: 'mine' })).status).toBe(404);
    expect((await api('/v1/projects/prj_nope', admin)).status).toBe(404);
  });
});

describe('roles', () => {
  it('lets every role read, and only admins and owners create and change', async () => {
    const project = await created(admin, { name: 'roles' });
    for (const role of ['viewer', 'member'] as const) {
      const key = await addKey(tenantId, role);
      expect((await api('/v1/projects', key)).status).toBe(200);
      expect((await api(`/v1/projects/${project.id}`, key)).status).toBe(200);
      await problem(await post(key, { name: `by ${role}` }), 403);
      await problem(await patch(key, project.id, { name: `by ${role}` }), 403);
    }
    const owner = await addKey(tenantId, 'owner');
    expect((await post(owner, { name: 'by owner' })).status).toBe(201);
  });
});

describe('names', () => {
  it('refuses a duplicate name with 409, on create and on rename', async () => {
    const first = await created(admin, { name: 'dup' });
    const again = await problem(await post(admin, { name: 'dup' }), 409);
    expect(again.detail).toContain('dup');
    const second = await created(admin, { name: 'dup2' });
    await problem(await patch(admin, second.id, { name: 'dup' }), 409);
    // Renaming to its own name changes nothing and is fine.
    expect((await patch(admin, first.id, { name: 'dup' })).status).toBe(200);
  });

  it('lets exactly one of two concurrent creates with the same name succeed', async () => {
    const { apiKey } = await newTenant('admin');
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => post(apiKey, { name: 'race' })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    for (const r of answers) await r.body?.cancel();
  });

  it('keeps the name "default" for the default project', async () => {
    await problem(await post(admin, { name: 'default' }), 409);
    const project = await created(admin, { name: 'not-default' });
    await problem(await patch(admin, project.id, { name: 'default' }), 409);
  });
});

describe('validation', () => {
  it.each([
    ['no name', {}],
    ['an empty name', { name: ' ' }],
    ['a name of 101 characters', { name: 'x'.repeat(101) }],
    ['a control character', { name: 'a\nb' }],
    ['an unknown field', { name: 'u', color: 'red' }],
    ['a negative budget', { name: 'b', monthly_budget_usd: -1 }],
    ['a budget of text', { name: 'b', monthly_budget_usd: '10' }],
    [
      '51 allow-list entries',
      { name: 'l', repo_allow_list: Array(51).fill('https://github.com/') },
    ],
    ['an http prefix', { name: 'l', repo_allow_list: ['http://github.com/acme/'] }],
    ['a prefix with credentials', { name: 'l', repo_allow_list: ['https://u:p@github.com/'] }],
    ['a private host', { name: 'l', repo_allow_list: ['https://10.0.0.1/acme/'] }],
    ['a host outside REPO_ALLOWED_HOSTS', { name: 'l', repo_allow_list: ['https://example.com/'] }],
    ['a non-URL prefix', { name: 'l', repo_allow_list: ['github.com/acme'] }],
    ['a zero CPU', { name: 's', sandbox: { cpu: 0 } }],
    ['a fractional CPU', { name: 's', sandbox: { cpu: 1.5 } }],
    ['auto-stop disabled (0)', { name: 's', sandbox: { auto_stop_minutes: 0 } }],
    ['a negative auto-delete', { name: 's', sandbox: { auto_delete_minutes: -1 } }],
    ['an unknown network word', { name: 's', sandbox: { network: 'closed' } }],
    ['an empty CIDR list', { name: 's', sandbox: { network: { allow_list: [] } } }],
    ['an IPv6 CIDR', { name: 's', sandbox: { network: { allow_list: ['::1/128'] } } }],
    ['a CIDR without prefix', { name: 's', sandbox: { network: { allow_list: ['10.0.0.1'] } } }],
    ['a prefix above 32', { name: 's', sandbox: { network: { allow_list: ['10.0.0.0/33'] } } }],
    ['an octet above 255', { name: 's', sandbox: { network: { allow_list: ['10.0.0.256/8'] } } }],
    [
      '11 CIDRs (Daytona takes 10)',
      {
        name: 's',
        sandbox: {
          network: { allow_list: Array.from({ length: 11 }, (_, i) => `10.${i}.0.0/16`) },
        },
      },
    ],
  ])('refuses %s with 400', async (_what, body) => {
    await problem(await post(admin, body), 400);
  });

  it('names the allow-list entry that is wrong', async () => {
    const body = { name: 'l', repo_allow_list: ['https://github.com/ok/', 'http://github.com/x'] };
    const p = await problem(await post(admin, body), 400);
    expect(p.errors?.[0]?.path).toBe('repo_allow_list.1');
  });

  it('normalises prefixes as job URLs are normalised, and drops duplicates', async () => {
    const project = await created(admin, {
      name: 'normalised',
      repo_allow_list: ['https://GitHub.com/acme/', 'https://github.com/acme/'],
    });
    expect(project.repo_allow_list).toEqual(['https://github.com/acme/']);
  });
});

describe('changing a project', () => {
  it('changes only the fields sent; null removes the budget and the sandbox settings', async () => {
    const project = await created(admin, {
      name: 'patched',
      monthly_budget_usd: 100,
      sandbox: { auto_stop_minutes: 9 },
    });
    const renamed = ProjectSchema.parse(
      await (await patch(admin, project.id, { name: 'patched-2' })).json(),
    );
    expect(renamed).toMatchObject({
      name: 'patched-2',
      monthly_budget_usd: 100,
      sandbox: { auto_stop_minutes: 9 },
    });
    const cleared = ProjectSchema.parse(
      await (await patch(admin, project.id, { monthly_budget_usd: null, sandbox: null })).json(),
    );
    expect(cleared).toMatchObject({ name: 'patched-2', monthly_budget_usd: null, sandbox: {} });
    expect(cleared.sandbox_effective.auto_stop_minutes).toBe(15);
    await problem(await patch(admin, project.id, { is_default: true }), 400);
  });
});

describe('the default project', () => {
  it('is created once, however many requests need it at the same time', async () => {
    const { tenantId: tenant, apiKey } = await newTenant('admin');
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => api('/v1/projects', apiKey)),
      ...Array.from({ length: 3 }, () =>
        api('/v1/jobs', apiKey, {
          method: 'POST',
          body: JSON.stringify({ repo: { url: env.FIXTURE_REPO_URL }, command: 'true' }),
        }),
      ),
    ]);
    for (const r of answers) {
      expect([200, 201]).toContain(r.status);
      await r.body?.cancel();
    }
    const rows = await projectRows(tenant);
    expect(rows).toEqual([{ id: await defaultProjectId(tenant), name: 'default', is_default: 1 }]);
  });

  it('is listed with the others, and can be renamed and changed', async () => {
    const { tenantId: tenant, apiKey } = await newTenant('admin');
    const id = await defaultProjectId(tenant);
    const page = ProjectListSchema.parse(await (await api('/v1/projects', apiKey)).json());
    expect(page.data.map((p) => [p.id, p.is_default])).toEqual([[id, true]]);
    const renamed = ProjectSchema.parse(await (await patch(apiKey, id, { name: 'main' })).json());
    expect(renamed).toMatchObject({ id, name: 'main', is_default: true });
    // Still the default: a job that names no project goes there.
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    expect(job.project_id).toBe(id);
    await waitForEnd(apiKey, job.id);
  });
});

describe('listing', () => {
  it('pages through every project newest first, the default one included', async () => {
    const { tenantId: tenant, apiKey } = await newTenant('admin');
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await created(apiKey, { name: `p${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await api(`/v1/projects?limit=2${query}`, apiKey);
      expect(res.status).toBe(200);
      const page = ProjectListSchema.parse(await res.json());
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((p) => p.id));
      cursor = page.next_cursor;
    } while (cursor);
    // The default project was created by the first list, after the others.
    expect(seen).toEqual([await defaultProjectId(tenant), ...ids.reverse()]);
  });

  it.each(['?limit=0', '?limit=101', '?cursor=bm9wZQ', '?sort=asc'])('rejects %s', async (q) => {
    await problem(await api(`/v1/projects${q}`, admin), 400);
  });
});

describe('the OpenAPI document', () => {
  it('documents every projects route and the sandbox shape', async () => {
    const doc = z
      .object({
        paths: z.record(z.string(), z.record(z.string(), z.unknown())),
        components: z.object({ schemas: z.record(z.string(), z.unknown()) }),
      })
      .parse(await (await api('/openapi.json', null)).json());
    expect(Object.keys(doc.paths['/v1/projects'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/v1/projects/{id}'] ?? {}).sort()).toEqual(['get', 'patch']);
    for (const name of ['Project', 'ProjectSandbox', 'SandboxShape', 'NetworkPolicy']) {
      expect(doc.components.schemas).toHaveProperty(name);
    }
  });
});

describe('jobs and projects', () => {
  it('puts a job in the project it names, and filters the job list by project', async () => {
    const { apiKey } = await newTenant('admin');
    const project = await created(apiKey, { name: 'jobs' });
    const mine = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'true',
      project: project.id,
    });
    const other = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    expect(mine.project_id).toBe(project.id);
    expect(other.project_id).not.toBe(project.id);
    await waitForEnd(apiKey, mine.id);
    await waitForEnd(apiKey, other.id);
    const res = await api(`/v1/jobs?project=${project.id}`, apiKey);
    const list = JobListSchema.parse(await res.json());
    expect(list.data.map((j) => j.id)).toEqual([mine.id]);
    const read = await api(`/v1/jobs/${mine.id}`, apiKey);
    expect(await read.json()).toMatchObject({ project_id: project.id });
  });

  it("refuses a job naming an unknown project (or another tenant's) with 400 naming it", async () => {
    const foreign = await created(admin, { name: 'foreign' });
    const { apiKey } = await newTenant('admin');
    for (const id of ['prj_unknown', foreign.id]) {
      const res = await api('/v1/jobs', apiKey, {
        method: 'POST',
        body: JSON.stringify({ repo: { url: env.FIXTURE_REPO_URL }, command: 'true', project: id }),
      });
      const p = await problem(res, 400);
      expect(p.detail).toContain(id);
      expect(p.errors?.[0]?.path).toBe('project');
    }
  });

  it("holds a job's repository to its project's allow-list", async () => {
    const { apiKey } = await newTenant('admin');
    const httpUrl = env.FIXTURE_HTTP_REPO_URL;
    const prefix = new URL('.', httpUrl).href;
    const project = await created(apiKey, { name: 'allow', repo_allow_list: [prefix] });
    const allowed = await createJob(apiKey, {
      repo: { url: httpUrl },
      command: 'true',
      project: project.id,
    });
    expect((await waitForEnd(apiKey, allowed.id)).status).toBe('succeeded');
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      body: JSON.stringify({
        repo: { url: env.FIXTURE_REPO_URL },
        command: 'true',
        project: project.id,
      }),
    });
    const p = await problem(res, 400);
    expect(p.errors?.[0]?.path).toBe('repo.url');
    expect(p.detail).toContain(prefix);
  });

  it('matches prefixes at a path boundary only', async () => {
    const { apiKey } = await newTenant('admin');
    const httpUrl = env.FIXTURE_HTTP_REPO_URL.replace(/\/$/, '');
    // The repository's URL without its last characters is not a prefix of a path segment.
    const cut = httpUrl.slice(0, -3);
    const project = await created(apiKey, { name: 'boundary', repo_allow_list: [cut] });
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      body: JSON.stringify({ repo: { url: httpUrl }, command: 'true', project: project.id }),
    });
    await problem(res, 400);
  });
});
