/**
 * /v1/github: mapping installations to projects (admin, one tenant per installation, audited)
 * and the list of deliveries the intake recorded for the tenant's installations.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { GitHubAppDO } from '../../durable-objects/github/github-app-do.ts';
import { defaultProjectId } from '../../worker/db/projects.ts';
import {
  GitHubDeliveryListSchema,
  InstallationListSchema,
  InstallationSchema,
} from '../../worker/schemas/github.ts';
import {
  deliver,
  example,
  mapInstallation,
  merged,
  newInstallationId,
} from './github-webhook-helpers.ts';
import { addKey, api, newTenant } from './helpers.ts';

const ProblemSchema = z.object({ status: z.number(), code: z.string(), detail: z.string() });

function put(apiKey: string, id: number | string, body: unknown) {
  return api(`/v1/github/installations/${id}`, apiKey, {
    method: 'PUT',
    body: JSON.stringify(body),
  });
}

let tenantId: string;
let apiKey: string;

beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant('owner'));
});

beforeEach(() => {
  // The intake's hand-over is recorded only: nothing is started on GitHub or Daytona.
  vi.spyOn(GitHubAppDO.prototype, 'intake').mockResolvedValue(undefined);
  return () => {
    vi.restoreAllMocks();
  };
});

describe('installations', () => {
  it('PUT creates a mapping with the default project and settings, then replaces it', async () => {
    const id = newInstallationId();
    const created = await put(apiKey, id, { account_login: 'acme' });
    expect(created.status).toBe(201);
    const first = InstallationSchema.parse(await created.json());
    expect(first).toMatchObject({
      installation_id: id,
      project_id: await defaultProjectId(tenantId),
      account_login: 'acme',
      settings: {
        triggers: { command: true, mention: true, labels: [], pull_request_review: false },
        agent: {},
        open_pull_requests: true,
      },
    });

    const replaced = await put(apiKey, id, {
      settings: {
        triggers: { labels: ['omni'], pull_request_review: true },
        agent: { max_turns: 5 },
      },
    });
    expect(replaced.status).toBe(200);
    const second = InstallationSchema.parse(await replaced.json());
    expect(second.settings.triggers).toEqual({
      command: true,
      mention: true,
      labels: ['omni'],
      pull_request_review: true,
    });
    expect(second.settings.agent).toEqual({ max_turns: 5 });
    // Replaced whole: the login it was not given again is gone; its creation stays.
    expect(second.account_login).toBeNull();
    expect(second.created_at).toBe(first.created_at);

    const read = await api(`/v1/github/installations/${id}`, apiKey);
    expect(read.status).toBe(200);
    expect(InstallationSchema.parse(await read.json())).toEqual(second);

    const audit = await env.DB.prepare(
      "SELECT action, target FROM audit_log WHERE tenant_id = ? AND action LIKE 'github.%'",
    )
      .bind(tenantId)
      .all();
    expect(audit.results.filter((r) => r.target === String(id))).toHaveLength(2);
  });

  it('maps to a named project; an unknown project or setting is 400', async () => {
    const res = await api('/v1/projects', apiKey, {
      method: 'POST',
      body: JSON.stringify({ name: `gh-${crypto.randomUUID()}` }),
    });
    const project = z.object({ id: z.string() }).parse(await res.json());
    const id = newInstallationId();
    const mapped = await put(apiKey, id, { project_id: project.id });
    expect(mapped.status).toBe(201);
    expect(InstallationSchema.parse(await mapped.json()).project_id).toBe(project.id);

    const unknown = await put(apiKey, id, { project_id: 'prj_nope' });
    expect(unknown.status).toBe(400);
    expect(ProblemSchema.parse(await unknown.json()).detail).toContain('project_id');
    const badSetting = await put(apiKey, id, { settings: { triggers: { comments: true } } });
    expect(badSetting.status).toBe(400);
    expect(ProblemSchema.parse(await badSetting.json()).detail).toContain('comments');
    const badId = await put(apiKey, 'abc', {});
    expect(badId.status).toBe(400);
  });

  it("another tenant's installation is 409 to PUT (naming no tenant) and 404 to read", async () => {
    const id = newInstallationId();
    await mapInstallation(apiKey, id);
    const other = await newTenant('admin');
    const taken = await put(other.apiKey, id, {});
    expect(taken.status).toBe(409);
    const text = await taken.text();
    expect(text).not.toContain(tenantId);
    expect((await api(`/v1/github/installations/${id}`, other.apiKey)).status).toBe(404);
    const del = await api(`/v1/github/installations/${id}`, other.apiKey, { method: 'DELETE' });
    expect(del.status).toBe(404);
    // Still the first tenant's.
    expect((await api(`/v1/github/installations/${id}`, apiKey)).status).toBe(200);
  });

  it('DELETE removes the mapping: its deliveries are then ignored', async () => {
    const id = newInstallationId();
    await mapInstallation(apiKey, id);
    const res = await api(`/v1/github/installations/${id}`, apiKey, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect((await api(`/v1/github/installations/${id}`, apiKey)).status).toBe(404);
    const comment = merged(example('issue_comment', 'created'), {
      installation: { id },
      comment: { body: '/omni fix it' },
    });
    const { res: delivered } = await deliver('issue_comment', comment);
    expect(delivered.status).toBe(200);
    expect(GitHubAppDO.prototype.intake).not.toHaveBeenCalled();
  });

  it('lists the tenant’s installations page by page, newest first', async () => {
    const { apiKey: key } = await newTenant('admin');
    const ids = [newInstallationId(), newInstallationId(), newInstallationId()];
    for (const id of ids) await mapInstallation(key, id);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const res = await api(`/v1/github/installations?limit=2${query}`, key);
      expect(res.status).toBe(200);
      const page = InstallationListSchema.parse(await res.json());
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((i) => i.installation_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());
    const bad = await api('/v1/github/installations?cursor=nope', key);
    expect(bad.status).toBe(400);
  });

  it('needs the admin role', async () => {
    const member = await addKey(tenantId, 'member');
    const res = await api('/v1/github/installations', member);
    expect(res.status).toBe(403);
    expect((await put(member, newInstallationId(), {})).status).toBe(403);
    expect((await api('/v1/github/deliveries', member)).status).toBe(403);
    expect((await api('/v1/github/installations', null)).status).toBe(401);
  });
});

describe('deliveries', () => {
  it('lists the tenant’s deliveries newest first, by outcome, page by page', async () => {
    const { apiKey: key } = await newTenant('admin');
    const id = newInstallationId();
    await mapInstallation(key, id);
    const base = merged(example('issue_comment', 'created'), {
      installation: { id },
      sender: { login: 'octo-dev', type: 'User' },
    });
    const sent: string[] = [];
    for (const body of ['/omni one', 'no trigger here', '/omni two']) {
      // Newest first is by the time received: each delivery gets a millisecond of its own.
      const before = Date.now();
      while (Date.now() === before) await new Promise((resolve) => setTimeout(resolve, 1));
      const { res, deliveryId } = await deliver(
        'issue_comment',
        merged(base, { comment: { body } }),
      );
      expect(res.status).toBeLessThan(300);
      sent.push(deliveryId);
    }
    const all = GitHubDeliveryListSchema.parse(
      await (await api('/v1/github/deliveries', key)).json(),
    );
    expect(all.data.map((d) => d.id)).toEqual([...sent].reverse());
    expect(all.data[1]).toMatchObject({
      event: 'issue_comment',
      action: 'created',
      installation_id: id,
      repository: 'Codertocat/Hello-World',
      sender: 'octo-dev',
      outcome: 'ignored',
      reason: 'no /omni command and no mention of @omni-test',
      job_id: null,
    });
    const ignored = GitHubDeliveryListSchema.parse(
      await (await api('/v1/github/deliveries?outcome=ignored', key)).json(),
    );
    expect(ignored.data.map((d) => d.id)).toEqual([sent[1]]);

    const first = GitHubDeliveryListSchema.parse(
      await (await api('/v1/github/deliveries?limit=2', key)).json(),
    );
    expect(first.data).toHaveLength(2);
    expect(first.next_cursor).not.toBeNull();
    const rest = GitHubDeliveryListSchema.parse(
      await (await api(`/v1/github/deliveries?limit=2&cursor=${first.next_cursor}`, key)).json(),
    );
    expect([...first.data, ...rest.data].map((d) => d.id)).toEqual(all.data.map((d) => d.id));
    expect(rest.next_cursor).toBeNull();

    // Another tenant sees none of them.
    const other = await newTenant('admin');
    const theirs = GitHubDeliveryListSchema.parse(
      await (await api('/v1/github/deliveries', other.apiKey)).json(),
    );
    expect(theirs.data).toEqual([]);
    expect((await api('/v1/github/deliveries?outcome=lost', key)).status).toBe(400);
  });
});
