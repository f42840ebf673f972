/**
 * DELETE /v1/tenant: confirmed by the tenant id; every credential refused at once; running jobs
 * canceled, their sandboxes deleted, their Job DOs erased and every row removed by the TenantDO
 * (durable-objects/tenant/deletion.ts), with one `tenant.delete` audit entry as the last trace;
 * idempotent, durable across a failed tombstone, and blind to other tenants.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { z } from 'zod';
import { mayErase } from '../../durable-objects/job/erase.ts';
import type { JobDO } from '../../durable-objects/job/job-do.ts';
import { initialState, toRow } from '../../durable-objects/job/state.ts';
import { TenantDeletion } from '../../durable-objects/tenant/deletion.ts';
import { upsertJob } from '../../worker/db/jobs.ts';
import type { Cursor } from '../../worker/db/page.ts';
import { listUnfinishedJobIds } from '../../worker/db/tenant.ts';
import { JobSchema } from '../../worker/schemas/jobs.ts';
import { allStatements, failingD1 } from './failing-d1.ts';
import { addFaults, removeFaults, sandboxStats, timesFired } from './faults.ts';
import {
  addKey,
  allEvents,
  api,
  createJob,
  newTenant,
  sandboxesOf,
  waitForEnd,
} from './helpers.ts';
import {
  addMember,
  asUser,
  eventually,
  expectProblem,
  keyIdOf,
  statusWith,
} from './identity-helpers.ts';
import { jobSpec } from './job-spec.ts';
import { waitingJob } from './replay-helpers.ts';

const DeletionSchema = z.strictObject({
  status: z.literal('deleting'),
  tenant_id: z.string(),
  requested_at: z.iso.datetime(),
});

function deleteTenant(apiKey: string, body?: unknown): Promise<Response> {
  return api('/v1/tenant', apiKey, {
    method: 'DELETE',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Rows of each table that belong to `tenantId`. */
async function rowsOf(tenantId: string): Promise<Record<string, number>> {
  const tables = [
    'api_keys',
    'memberships',
    'jobs',
    'idempotency_keys',
    'audit_log',
    'projects',
    'secrets',
    'usage_ledger',
    'budget_notices',
    'webhook_subscriptions',
    'webhook_deliveries',
    'github_installations',
    'github_deliveries',
    'github_jobs',
  ];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`)
      .bind(tenantId)
      .first('n');
    counts[table] = z.number().parse(row);
  }
  return counts;
}

const erased = {
  api_keys: 0,
  memberships: 0,
  jobs: 0,
  idempotency_keys: 0,
  audit_log: 1,
  projects: 0,
  secrets: 0,
  usage_ledger: 0,
  budget_notices: 0,
  webhook_subscriptions: 0,
  webhook_deliveries: 0,
  github_installations: 0,
  github_deliveries: 0,
  github_jobs: 0,
};

async function auditOf(tenantId: string) {
  const { results } = await env.DB.prepare(
    'SELECT action, actor, request_id FROM audit_log WHERE tenant_id = ?',
  )
    .bind(tenantId)
    .all();
  return results;
}

/** What is left in a Job DO's storage: its tables (but the runtime's own) and its alarm. */
function storageOf(stub: DurableObjectStub<JobDO>) {
  return runInDurableObject(stub, async (_, state) => ({
    tables: state.storage.sql
      .exec("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((row) => String(row.name))
      .filter((name) => !name.startsWith('_cf_') && !name.startsWith('sqlite_')),
    alarm: await state.storage.getAlarm(),
  }));
}

/** The phase of the tenant's deletion, as its TenantDO stores it. */
function phaseOf(tenantId: string): Promise<unknown> {
  return runInDurableObject(env.TENANT.getByName(tenantId), (_, state) => {
    const rows = state.storage.sql.exec('SELECT phase FROM deletion').toArray();
    return rows[0]?.phase ?? null;
  });
}

const logLineSchema = z.looseObject({ msg: z.string() });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DELETE /v1/tenant', () => {
  it('needs the tenant id as confirmation, says what to send, and is for owners only', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    for (const body of [undefined, {}, { confirm: 'ten_other' }, { confirm: '' }]) {
      const problem = await expectProblem(await deleteTenant(apiKey, body), 400, 'invalid_request');
      expect(problem.detail).toContain(`{ "confirm": "${tenantId}" }`);
      expect(problem.errors).toEqual([
        { path: 'confirm', message: expect.stringContaining(tenantId) },
      ]);
    }
    await expectProblem(
      await deleteTenant(apiKey, { confirm: tenantId, also: 1 }),
      400,
      'invalid_request',
    );
    const admin = await addKey(tenantId, 'admin');
    await expectProblem(await deleteTenant(admin, { confirm: tenantId }), 403, 'forbidden');
    expect(await statusWith(apiKey)).toBe(200);
    expect(await auditOf(tenantId)).toEqual([]);
  });

  it('cancels a running job, deletes its sandbox, erases its Job DO and every row, and refuses every credential', async () => {
    const logs = vi.spyOn(console, 'log');
    const { tenantId, apiKey } = await newTenant('owner');
    const viewer = await addKey(tenantId, 'viewer');
    await addMember(tenantId, 'person-1', 'admin');
    const repo = { url: env.FIXTURE_REPO_URL };
    const done = await api('/v1/jobs', apiKey, {
      method: 'POST',
      headers: { 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ repo, command: 'true' }),
    });
    expect(done.status).toBe(201);
    const finished = JobSchema.parse(await done.json());
    await waitForEnd(apiKey, finished.id);
    const running = await createJob(apiKey, {
      repo,
      command: 'echo started; sleep 600',
      timeout_seconds: 900,
    });
    await expect
      .poll(async () => (await allEvents(apiKey, running.id)).some((e) => e.type === 'stdout'), {
        timeout: 20_000,
      })
      .toBe(true);
    const secret = await api('/v1/secrets/DELETED_WITH_TENANT', apiKey, {
      method: 'PUT',
      body: JSON.stringify({ value: 'a value to forget' }),
    });
    expect(secret.status).toBe(201);
    const hook = await api('/v1/webhooks', apiKey, {
      method: 'POST',
      body: JSON.stringify({
        url: `${env.TEST_WEBHOOK_RECEIVER_URL}/hooks/${crypto.randomUUID()}`,
        events: ['budget.threshold'],
      }),
    });
    expect(hook.status).toBe(201);
    // A GitHub App installation, one of its deliveries and a job it started go too.
    const installationId = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
    const mapped = await api(`/v1/github/installations/${installationId}`, apiKey, {
      method: 'PUT',
      body: JSON.stringify({}),
    });
    expect(mapped.status).toBe(201);
    const deliveryId = crypto.randomUUID();
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO github_deliveries (delivery_id, event, installation_id, tenant_id, outcome, received_at, updated_at) VALUES (?, 'issue_comment', ?, ?, 'job_created', ?, ?)",
      ).bind(deliveryId, installationId, tenantId, now, now),
      env.DB.prepare(
        "INSERT INTO github_jobs (job_id, tenant_id, installation_id, repository, trigger, delivery_id, head_sha, spec, created_at, updated_at) VALUES (?, ?, ?, 'acme/app', 'label', ?, ?, '{}', ?, ?)",
      ).bind(finished.id, tenantId, installationId, deliveryId, 'b'.repeat(40), now, now),
    ]);
    expect(await rowsOf(tenantId)).toMatchObject({
      github_installations: 1,
      github_deliveries: 1,
      github_jobs: 1,
    });
    // A budget notice and ledger lines (of the finished job) go with the tenant too.
    await env.TENANT.getByName(tenantId).setTenantBudget(tenantId, 1_000_000);
    await env.TENANT.getByName(tenantId).reportCost(tenantId, {
      jobId: 'job_notice',
      projectId: null,
      month: new Date().toISOString().slice(0, 7),
      totalMicroUsd: 900_000,
    });
    const ledgerLines = (id: string) =>
      env.DB.prepare('SELECT COUNT(*) AS n FROM usage_ledger WHERE job_id = ?').bind(id).first('n');
    await expect.poll(() => ledgerLines(finished.id)).toBe(1);
    expect((await rowsOf(tenantId)).budget_notices).toBe(2);
    // Each notice is a webhook delivery of the subscription.
    expect((await rowsOf(tenantId)).webhook_deliveries).toBe(2);
    const other = await newTenant('owner');
    const untouched = await createJob(other.apiKey, { repo, command: 'true' });
    await waitForEnd(other.apiKey, untouched.id);
    // Its final ledger line is written once its sandbox is deleted: wait for it before counting.
    await expect.poll(() => ledgerLines(untouched.id)).toBe(1);
    const otherRows = await rowsOf(other.tenantId);
    expect((await asUser(tenantId, 'person-1', 'GET', '/v1/jobs')).status).toBe(200);
    const ownerKeyId = await keyIdOf(apiKey);
    // Daytona refuses the first two deletions of the sandbox: the Job DO must not be erased
    // before its own cleanup (which retries) has deleted it.
    const faults = await addFaults({
      action: 'fail',
      method: 'DELETE',
      path: '/api/sandbox/:id',
      sandbox: `omni-${running.id}`,
      status: 503,
      times: 2,
    });
    onTestFinished(() => removeFaults(faults));

    const res = await deleteTenant(apiKey, { confirm: tenantId });
    const text = await res.text();
    expect(res.status, text).toBe(202);
    const answer = DeletionSchema.parse(JSON.parse(text));
    expect(answer.tenant_id).toBe(tenantId);

    // Every credential is refused from the answer on: keys and JWTs alike.
    expect(await statusWith(apiKey)).toBe(401);
    expect(await statusWith(viewer)).toBe(401);
    await expectProblem(await asUser(tenantId, 'person-1', 'GET', '/v1/jobs'), 401, 'unauthorized');
    // Secret values go at once too, with the tombstone.
    expect((await rowsOf(tenantId)).secrets).toBe(0);
    expect((await rowsOf(tenantId)).webhook_subscriptions).toBe(0);

    await eventually(
      async () => JSON.stringify(await rowsOf(tenantId)) === JSON.stringify(erased),
      45_000,
      'the tenant’s rows to be deleted',
    );
    const ended = logs.mock.calls.flatMap(([line]) => {
      if (typeof line !== 'string' || !line.startsWith('{')) return [];
      const parsed = logLineSchema.safeParse(JSON.parse(line));
      return parsed.success && parsed.data.msg === 'job finished' ? [parsed.data] : [];
    });
    expect(ended).toContainEqual(
      expect.objectContaining({ job_id: running.id, status: 'canceled' }),
    );
    expect(await timesFired(faults[0] ?? '')).toBe(2);
    expect(await sandboxesOf(running.id)).toEqual([]);
    const [sandbox] = await sandboxStats(`omni-${running.id}`);
    expect(sandbox?.processesAlive).toBe(0);
    for (const id of [running.id, finished.id]) {
      const stub = env.JOB.getByName(id);
      expect(await stub.activity()).toBe('unknown');
      expect(await storageOf(stub)).toEqual({ tables: [], alarm: null });
    }
    expect(await auditOf(tenantId)).toEqual([
      {
        action: 'tenant.delete',
        actor: `key:${ownerKeyId}`,
        request_id: res.headers.get('x-request-id'),
      },
    ]);
    const tombstone = await env.DB.prepare('SELECT deleted_at FROM tenants WHERE id = ?')
      .bind(tenantId)
      .first('deleted_at');
    expect(tombstone).toBe(Date.parse(answer.requested_at));
    // Nor is its budget book kept in its TenantDO.
    await expect
      .poll(async () => {
        const status = await env.TENANT.getByName(tenantId).budgetStatus(tenantId, '', []);
        return status.tenant.limitMicroUsd;
      })
      .toBeNull();
    // No new job can take a slot of the deleted tenant.
    expect(await env.TENANT.getByName(tenantId).acquire('job_late', 10, false)).toBe('deleted');

    // The other tenant has all it had.
    expect(await statusWith(other.apiKey)).toBe(200);
    expect((await api(`/v1/jobs/${untouched.id}`, other.apiKey)).status).toBe(200);
    expect(await rowsOf(other.tenantId)).toEqual(otherRows);
  });

  it('answers a repeated deletion the same, and audits it once', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const answers = await Promise.all(
      [1, 2].map(() => deleteTenant(apiKey, { confirm: tenantId })),
    );
    const accepted = [];
    for (const res of answers) {
      const text = await res.text();
      // The second request is refused if it was authenticated after the first revoked the keys.
      expect([202, 401], text).toContain(res.status);
      if (res.status === 202) accepted.push(DeletionSchema.parse(JSON.parse(text)));
    }
    expect(accepted.length).toBeGreaterThan(0);
    // Asked again (as a request authenticated just before the tombstone would): the same answer.
    const again = await env.TENANT.getByName(tenantId).deleteTenant({
      tenantId,
      actor: 'key:another',
      requestId: 'req_again',
      ip: null,
      time: Date.now() + 1000,
    });
    for (const answer of accepted) {
      expect(answer.requested_at).toBe(new Date(again.requestedAt).toISOString());
    }
    await eventually(
      async () => JSON.stringify(await rowsOf(tenantId)) === JSON.stringify(erased),
      30_000,
      'the tenant’s rows to be deleted',
    );
    expect(await auditOf(tenantId)).toEqual([expect.objectContaining({ action: 'tenant.delete' })]);
  });

  it('finishes with a recheck that removes what a request in flight added meanwhile', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    expect((await deleteTenant(apiKey, { confirm: tenantId })).status).toBe(202);
    await eventually(async () => (await phaseOf(tenantId)) === 'recheck', 30_000, 'the recheck');
    // A request authenticated just before the tombstone may still have written these.
    const late = await addKey(tenantId, 'owner', 'late');
    await addMember(tenantId, 'late-person', 'viewer');
    const tenant = env.TENANT.getByName(tenantId);
    await runInDurableObject(tenant, (_, state) => {
      state.storage.sql.exec('UPDATE deletion SET due_at = 0');
    });
    expect(await runDurableObjectAlarm(tenant)).toBe(true);

    expect(await phaseOf(tenantId)).toBe('done');
    expect(await rowsOf(tenantId)).toEqual(erased);
    expect(await statusWith(late)).toBe(401);
    const name = await env.DB.prepare('SELECT name FROM tenants WHERE id = ?')
      .bind(tenantId)
      .first('name');
    expect(name).toBe(tenantId);
    expect(await runInDurableObject(tenant, (_, state) => state.storage.getAlarm())).toBeNull();
  });

  it('goes through once asked, even when the tombstone could not be written at first', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const tenant = env.TENANT.getByName(tenantId);
    const request = {
      tenantId,
      actor: 'key:test',
      requestId: 'req_outage',
      ip: null,
      time: Date.now(),
    };
    // D1 is down while the request is handled: it fails, but the request is recorded.
    await runInDurableObject(tenant, async (_, state) => {
      const down = new TenantDeletion(
        state.storage.sql,
        { ...env, DB: failingD1(env.DB, allStatements) },
        0,
      );
      await expect(down.begin(request)).rejects.toThrow();
      // As TenantDO.deleteTenant() arms it before recording the request.
      await state.storage.setAlarm(Date.now());
    });
    expect(await statusWith(apiKey)).toBe(200);
    expect(await runDurableObjectAlarm(tenant)).toBe(true);
    expect(await statusWith(apiKey)).toBe(401);
    expect(await auditOf(tenantId)).toEqual([
      { action: 'tenant.delete', actor: 'key:test', request_id: 'req_outage' },
    ]);
  });
});

describe('the deletion’s reads', () => {
  it('page through every unfinished job of the tenant once, and no other', async () => {
    const { tenantId } = await newTenant('owner');
    const other = await newTenant('owner');
    const now = Date.now();
    const rows = Array.from({ length: 25 }, (_, i) =>
      toRow(initialState(jobSpec(tenantId, { createdAt: now - (i % 5) }))),
    );
    for (const row of rows) await upsertJob(env.DB, row);
    await upsertJob(env.DB, { ...toRow(initialState(jobSpec(tenantId))), status: 'succeeded' });
    await upsertJob(env.DB, toRow(initialState(jobSpec(other.tenantId))));
    const seen: string[] = [];
    let cursor: Cursor | null = null;
    do {
      const page: { ids: string[]; next: Cursor | null } = await listUnfinishedJobIds(
        env.DB,
        tenantId,
        cursor,
        10,
      );
      seen.push(...page.ids);
      cursor = page.next;
    } while (cursor);
    expect(seen.sort()).toEqual(rows.map((row) => row.id).sort());
  });
});

describe('JobDO.erase', () => {
  it('waits for the end of the job, its cleanup, D1 row, slot and watchers', () => {
    const ended = { status: 'canceled' } as const;
    expect(mayErase(ended, ['retention'], 0)).toBe(true);
    expect(mayErase({ status: 'running' }, [], 0)).toBe(false);
    for (const kind of ['cleanup', 'sync', 'release'] as const) {
      expect(mayErase(ended, [kind, 'retention'], 0)).toBe(false);
    }
    expect(mayErase(ended, [], 1)).toBe(false);
  });

  it('refuses a job that has not ended, ignores other tenants, and erases an ended job whole', async () => {
    const { tenantId } = await newTenant('owner');
    const { stub } = await waitingJob(tenantId);
    expect(await stub.erase(tenantId)).toBe('busy');
    expect(await stub.erase('ten_someone_else')).toBe('unknown');
    await stub.cancel(tenantId, 'test');
    // Until its end is carried out (cleanup, D1 row, slot) the job stays.
    await expect.poll(() => stub.erase(tenantId), { timeout: 20_000 }).toBe('erased');
    expect(await storageOf(stub)).toEqual({ tables: [], alarm: null });
    expect(await stub.erase(tenantId)).toBe('unknown');
    expect(await stub.get(tenantId)).toBeNull();
  });
});
