/**
 * GET /v1/tenant/export: everything stored about the caller's tenant as one JSON document,
 * streamed page by page (D1 pages, the Job DOs' event pages), owners only, audited, and a broken
 * stream (not a shorter valid document) when a read fails midway.
 */
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import { findTenant } from '../../worker/db/tenant.ts';
import { hashApiKey } from '../../worker/lib/api-keys.ts';
import { tenantExportStream } from '../../worker/services/tenant-export.ts';
import { failingD1 } from './failing-d1.ts';
import { addKey, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { addMember, expectProblem } from './identity-helpers.ts';
import { fillLog, waitingJob } from './replay-helpers.ts';

const rowSchema = z.record(z.string(), z.unknown());
const exportSchema = z.strictObject({
  format: z.literal('omni.tenant-export/1'),
  exported_at: z.iso.datetime(),
  tenant: z.object({ id: z.string(), name: z.string(), created_at: z.number() }),
  api_keys: z.array(rowSchema),
  memberships: z.array(rowSchema),
  projects: z.array(rowSchema),
  jobs: z.array(
    z.looseObject({
      id: z.string(),
      tenant_id: z.string(),
      status: z.string(),
      events: z.array(z.looseObject({ seq: z.number(), type: z.string() })),
    }),
  ),
  idempotency_keys: z.array(rowSchema),
  // Names and dates only: neither the value nor its ciphertext.
  secrets: z.array(
    z.strictObject({
      name: z.string(),
      created_by: z.string().nullable(),
      created_at: z.number(),
      updated_at: z.number(),
    }),
  ),
  usage_ledger: z.array(
    z.looseObject({ job_id: z.string(), item: z.string(), cost_micro_usd: z.number() }),
  ),
  budget_notices: z.array(z.looseObject({ scope: z.string(), threshold: z.number() })),
  // URL, events and dates: never the signing secret or its ciphertext.
  webhook_subscriptions: z.array(
    z.strictObject({
      id: z.string(),
      tenant_id: z.string(),
      url: z.string(),
      events: z.string(),
      description: z.string().nullable(),
      created_by: z.string().nullable(),
      created_at: z.number(),
      disabled_at: z.number().nullable(),
    }),
  ),
  webhook_deliveries: z.array(z.looseObject({ id: z.string(), event: z.string() })),
  github_installations: z.array(z.looseObject({ installation_id: z.number() })),
  github_deliveries: z.array(z.looseObject({ delivery_id: z.string(), outcome: z.string() })),
  github_jobs: z.array(z.looseObject({ job_id: z.string(), repository: z.string() })),
  tenant_budget: z.strictObject({ monthly_budget_micro_usd: z.number().nullable() }),
  audit_log: z.array(z.looseObject({ id: z.string(), action: z.string() })),
});

async function exportOf(apiKey: string) {
  const res = await api('/v1/tenant/export', apiKey);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return { res, text, doc: exportSchema.parse(JSON.parse(text)) };
}

/** Inserts `count` audit entries of the tenant straight into D1 (more than one page of them). */
async function fillAudit(tenantId: string, count: number): Promise<void> {
  const insert = env.DB.prepare(
    "INSERT INTO audit_log (id, tenant_id, time, actor, action, target, request_id, ip, details) VALUES (?, ?, ?, 'key:test', 'key.create', NULL, 'req_test', NULL, '{}')",
  );
  const now = Date.now();
  await env.DB.batch(
    Array.from({ length: count }, (_, i) =>
      insert.bind(`aud_fill_${tenantId}_${i}`, tenantId, now - i),
    ),
  );
}

let tenantId: string;
let apiKey: string;
let jobId: string;
beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant('owner'));
  const job = await createJob(apiKey, {
    repo: { url: env.FIXTURE_REPO_URL },
    command: 'echo exported-output',
  });
  jobId = job.id;
  expect((await waitForEnd(apiKey, jobId)).status).toBe('succeeded');
});

describe('GET /v1/tenant/export', () => {
  it('holds the tenant, its keys without hashes, members, jobs with their output, idempotency keys and audit log', async () => {
    const viewer = await addKey(tenantId, 'viewer', 'a viewer');
    await addMember(tenantId, 'person-1', 'member');
    const idem = `export-${crypto.randomUUID()}`;
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      headers: { 'idempotency-key': idem },
      body: JSON.stringify({ repo: { url: env.FIXTURE_REPO_URL }, command: 'true' }),
    });
    expect(res.status).toBe(201);
    const second = z.object({ id: z.string() }).parse(await res.json());
    await waitForEnd(apiKey, second.id);
    const put = await api('/v1/secrets/EXPORTED', apiKey, {
      method: 'PUT',
      body: JSON.stringify({ value: 'exported-secret-value' }),
    });
    expect(put.status).toBe(201);
    const hook = await api('/v1/webhooks', apiKey, {
      method: 'POST',
      body: JSON.stringify({
        url: `${env.TEST_WEBHOOK_RECEIVER_URL}/hooks/${crypto.randomUUID()}`,
        events: ['budget.threshold'],
      }),
    });
    expect(hook.status).toBe(201);
    const { secret: hookSecret } = z.object({ secret: z.string() }).parse(await hook.json());
    // A budget and a notice: the TenantDO records the notice and writes it to D1.
    const budget = await api('/v1/budgets/tenant', apiKey, {
      method: 'PUT',
      body: JSON.stringify({ monthly_budget_usd: 1000 }),
    });
    expect(budget.status).toBe(200);
    await env.TENANT.getByName(tenantId).reportCost(tenantId, {
      jobId: 'job_exported_notice',
      projectId: null,
      month: new Date().toISOString().slice(0, 7),
      totalMicroUsd: 850_000_000,
    });
    // The first job's ledger: its sandbox line, written once the sandbox is deleted.
    await expect
      .poll(async () =>
        env.DB.prepare('SELECT COUNT(*) AS n FROM usage_ledger WHERE job_id = ?')
          .bind(jobId)
          .first('n'),
      )
      .toBe(1);

    // A GitHub App installation, one of its deliveries and a job it started.
    const installationId = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
    const mapped = await api(`/v1/github/installations/${installationId}`, apiKey, {
      method: 'PUT',
      body: JSON.stringify({ account_login: 'acme' }),
    });
    expect(mapped.status).toBe(201);
    const deliveryId = crypto.randomUUID();
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO github_deliveries (delivery_id, event, action, installation_id, tenant_id, repository, sender, outcome, reason, job_id, received_at, updated_at) VALUES (?, 'issue_comment', 'created', ?, ?, 'acme/app', 'octo', 'job_created', NULL, ?, ?, ?)",
      ).bind(deliveryId, installationId, tenantId, second.id, now, now),
      env.DB.prepare(
        "INSERT INTO github_jobs (job_id, tenant_id, installation_id, repository, trigger, delivery_id, head_sha, spec, created_at, updated_at) VALUES (?, ?, ?, 'acme/app', 'command', ?, ?, '{}', ?, ?)",
      ).bind(second.id, tenantId, installationId, deliveryId, 'a'.repeat(40), now, now),
    ]);

    const { res: answer, text, doc } = await exportOf(apiKey);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('content-disposition')).toBe(
      `attachment; filename="omni-export-${tenantId}.json"`,
    );
    expect(doc.tenant.id).toBe(tenantId);

    // Keys: both, by name, and neither a key nor its hash anywhere in the document.
    expect(doc.api_keys.map((k) => k.name).sort()).toEqual(['a viewer', 'test']);
    for (const key of doc.api_keys) expect(Object.keys(key)).not.toContain('key_hash');
    for (const secret of [apiKey, viewer]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(await hashApiKey(secret));
    }

    expect(doc.memberships).toEqual([expect.objectContaining({ subject: 'person-1' })]);
    // The default project, made by the first job, with its JSON columns as stored.
    expect(doc.projects).toEqual([
      expect.objectContaining({
        tenant_id: tenantId,
        name: 'default',
        is_default: true,
        repo_allow_list: '[]',
        sandbox: null,
      }),
    ]);

    const job = doc.jobs.find((j) => j.id === jobId);
    expect(job?.tenant_id).toBe(tenantId);
    expect(job?.status).toBe('succeeded');
    const stdout = job?.events.filter((e) => e.type === 'stdout').map((e) => e.data);
    expect(stdout?.join('')).toContain('exported-output');
    expect(job?.events.map((e) => e.type)).toContain('exit');
    expect(doc.jobs.map((j) => j.id)).toContain(second.id);

    expect(doc.idempotency_keys).toEqual([
      expect.objectContaining({ key: idem, job_id: second.id, state: 'done' }),
    ]);
    expect(doc.secrets.map((s) => s.name)).toEqual(['EXPORTED']);
    expect(text).not.toContain('exported-secret-value');
    expect(doc.usage_ledger).toContainEqual(
      expect.objectContaining({ job_id: jobId, item: 'sandbox', tenant_id: tenantId }),
    );
    expect(doc.budget_notices).toEqual([
      expect.objectContaining({ scope: 'tenant', scope_id: tenantId, threshold: 80 }),
    ]);
    expect(doc.webhook_subscriptions).toEqual([
      expect.objectContaining({ events: '["budget.threshold"]' }),
    ]);
    expect(text).not.toContain(hookSecret);
    expect(doc.webhook_deliveries).toEqual([
      expect.objectContaining({ event: 'budget.threshold' }),
    ]);
    expect(doc.github_installations).toEqual([
      expect.objectContaining({ installation_id: installationId, account_login: 'acme' }),
    ]);
    expect(doc.github_deliveries).toEqual([
      expect.objectContaining({ delivery_id: deliveryId, outcome: 'job_created' }),
    ]);
    expect(doc.github_jobs).toEqual([
      expect.objectContaining({ job_id: second.id, installation_id: installationId }),
    ]);
    expect(doc.tenant_budget).toEqual({ monthly_budget_micro_usd: 1_000_000_000 });
    // The export itself is audited before its first byte, so it is in its own log.
    expect(doc.audit_log[0]?.action).toBe('tenant.export');
    expect(doc.audit_log.map((e) => e.action)).toContain('job.create');
  });

  it('reads long event logs and long tables page by page into one valid document', async () => {
    const { tenantId: tenant, apiKey: key } = await newTenant('owner');
    const { id, stub } = await waitingJob(tenant);
    // More events than one page of the Job DO (1000) and rows than one D1 page (100).
    await fillLog(stub, 2_500, 10);
    await fillAudit(tenant, 250);

    const { doc } = await exportOf(key);
    const events = doc.jobs.find((j) => j.id === id)?.events ?? [];
    expect(events).toHaveLength(2_501); // the `queued` status event, then the filler
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(doc.audit_log.filter((e) => e.id.startsWith('aud_fill_'))).toHaveLength(250);
    await stub.cancel(tenant, 'test');
  });

  it('reads the next page only when the reader has taken the previous one', async () => {
    const { tenantId: tenant } = await newTenant('owner');
    await fillAudit(tenant, 250);
    const row = await findTenant(env.DB, tenant);
    if (!row) throw new Error('no tenant');
    let auditReads = 0;
    const counting = failingD1(env.DB, (sql) => {
      if (/^select/i.test(sql) && sql.includes('"audit_log"')) auditReads++;
      return false;
    });
    const reader = tenantExportStream({ ...env, DB: counting }, row, 'req_test').getReader();
    const decoder = new TextDecoder();
    let text = '';
    let readsAtFirstChunk: number | null = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      readsAtFirstChunk ??= auditReads;
    }
    expect(readsAtFirstChunk).toBe(0);
    expect(auditReads).toBe(3); // 100 + 100 + 50 rows
    expect(exportSchema.parse(JSON.parse(text)).audit_log).toHaveLength(250);
  });

  it('breaks the download, rather than ending it early, when a read fails midway', async () => {
    // The audit log is read last: the document is half written when its read fails.
    const audit = (sql: string) => /^select/i.test(sql) && sql.includes('"audit_log"');
    const res = await createApp().request(
      '/v1/tenant/export',
      { headers: { authorization: `Bearer ${apiKey}` } },
      { ...env, DB: failingD1(env.DB, audit) },
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let received = '';
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return null;
        received += decoder.decode(value, { stream: true });
      }
    })().catch((error: unknown) => error);
    expect(String(failure)).toMatch(/from "audit_log"/);
    // What arrived before the failure is the beginning of the document, and not a document.
    expect(received).toContain(`"tenant":{"id":"${tenantId}"`);
    expect(() => {
      JSON.parse(received);
    }).toThrow(SyntaxError);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = z
      .object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) })
      .parse(await (await api('/openapi.json', null)).json());
    expect(Object.keys(doc.paths['/v1/tenant/export'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/tenant'] ?? {})).toEqual(['delete']);
  });

  it('is for owners only', async () => {
    for (const role of ['admin', 'member', 'viewer'] as const) {
      const key = await addKey(tenantId, role);
      await expectProblem(await api('/v1/tenant/export', key), 403, 'forbidden');
    }
    await expectProblem(await api('/v1/tenant/export', null), 401, 'unauthorized');
  });

  it('exports only the caller’s tenant', async () => {
    const other = await newTenant('owner');
    const { doc } = await exportOf(other.apiKey);
    expect(doc.tenant.id).toBe(other.tenantId);
    expect(doc.jobs).toEqual([]);
    expect(JSON.stringify(doc)).not.toContain(tenantId);
  });
});
