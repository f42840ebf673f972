/** /v1/audit: key, member and job actions are recorded with who, when and which request. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditListSchema, type AuditEntry } from '../../worker/schemas/audit.ts';
import { RotatedKeySchema } from '../../worker/schemas/keys.ts';
import { addKey, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { auditEntries, createKey, expectProblem, keyIdOf, send } from './identity-helpers.ts';

let tenantId: string;
let owner: string;
let ownerId: string;
beforeAll(async () => {
  ({ tenantId, apiKey: owner } = await newTenant('owner'));
  ownerId = await keyIdOf(owner);
});

/** The stored tenant of audit entry `id`. */
async function tenantOf(id: string): Promise<unknown> {
  return env.DB.prepare('SELECT tenant_id FROM audit_log WHERE id = ?').bind(id).first('tenant_id');
}

/** Asserts the who, when and which request of an entry made since `from`. */
async function expectRecorded(
  entry: AuditEntry | undefined,
  requestId: string | null,
  from: number,
) {
  expect(entry).toBeDefined();
  if (!entry) return;
  expect(entry.actor).toBe(`key:${ownerId}`);
  expect(entry.request_id).toBe(requestId);
  expect(Date.parse(entry.time)).toBeGreaterThanOrEqual(from);
  expect(Date.parse(entry.time)).toBeLessThanOrEqual(Date.now());
  expect(await tenantOf(entry.id)).toBe(tenantId);
}

describe('audit entries of key actions', () => {
  it('records create, rotate and revoke, never with the key itself', async () => {
    const from = Date.now();
    const created = await createKey(owner, 'member', 'audited');
    const rotateRes = await send('POST', `/v1/keys/${created.id}/rotate`, owner, {
      grace_seconds: 60,
    });
    expect(rotateRes.status).toBe(201);
    const rotated = RotatedKeySchema.parse(await rotateRes.json());
    const revokeRes = await send('DELETE', `/v1/keys/${rotated.id}`, owner);
    expect(revokeRes.status).toBe(204);
    // A second revocation changes nothing, so it records nothing.
    expect((await send('DELETE', `/v1/keys/${rotated.id}`, owner)).status).toBe(204);

    const entries = await auditEntries(owner);
    const create = entries.find((e) => e.action === 'key.create' && e.target === created.id);
    await expectRecorded(create, created.requestId, from);
    expect(create?.details).toEqual({ name: 'audited', role: 'member' });

    const rotate = entries.find((e) => e.action === 'key.rotate' && e.target === created.id);
    await expectRecorded(rotate, rotateRes.headers.get('x-request-id'), from);
    expect(rotate).toMatchObject({
      target: created.id,
      details: { old_key_id: created.id, new_key_id: rotated.id, grace_seconds: 60 },
    });

    const revokes = entries.filter((e) => e.action === 'key.revoke' && e.target === rotated.id);
    expect(revokes).toHaveLength(1);
    await expectRecorded(revokes[0], revokeRes.headers.get('x-request-id'), from);

    const text = JSON.stringify(entries);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(rotated.key);
  });

  it("shows no other tenant's entries", async () => {
    await createKey(owner, 'viewer');
    const other = await newTenant('owner');
    expect(await auditEntries(other.apiKey)).toEqual([]);
  });
});

describe('audit entries of jobs', () => {
  it('records job.create with the job id as target', async () => {
    const job = await createJob(owner, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    const entries = await auditEntries(owner, 'action=job.create');
    const entry = entries.find((e) => e.target === job.id);
    expect(entry?.actor).toBe(`key:${ownerId}`);
    expect(await tenantOf(entry?.id ?? '')).toBe(tenantId);
    // Let the job end, so that its command does not run on after the test.
    await waitForEnd(owner, job.id);
  });
});

describe('GET /v1/audit', () => {
  it('pages newest first with no duplicate and filters by action', async () => {
    const { apiKey } = await newTenant('owner');
    for (const role of ['viewer', 'member', 'admin'] as const) await createKey(apiKey, role);
    await send('PUT', '/v1/members/pat', apiKey, { role: 'member' });
    await send('PUT', '/v1/members/pat', apiKey, { role: 'admin' });

    const seen: AuditEntry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(`/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`, apiKey);
      expect(res.status).toBe(200);
      const page = AuditListSchema.parse(await res.json());
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen.map((e) => e.id)).size).toBe(5);
    const order = (e: AuditEntry) => `${e.time}|${e.id}`;
    expect(seen.map(order)).toEqual(seen.map(order).sort().reverse());

    const keysOnly = await auditEntries(apiKey, 'action=key.create');
    expect(keysOnly.map((e) => e.details.role).sort()).toEqual(['admin', 'member', 'viewer']);
    expect(await auditEntries(apiKey, 'action=member.role_change')).toHaveLength(2);
  });

  it('rejects an unknown action, a bad cursor or limit, and unknown parameters', async () => {
    for (const query of ['?action=key.steal', '?cursor=bm9wZQ', '?limit=101', '?since=1']) {
      await expectProblem(await api(`/v1/audit${query}`, owner), 400, 'invalid_request');
    }
  });

  it.each(['member', 'viewer'] as const)('refuses a %s', async (role) => {
    await expectProblem(await api('/v1/audit', await addKey(tenantId, role)), 403, 'forbidden');
  });

  it('lets an admin read it', async () => {
    const res = await api('/v1/audit?limit=1', await addKey(tenantId, 'admin'));
    expect(res.status).toBe(200);
    expect(AuditListSchema.parse(await res.json()).data).toHaveLength(1);
  });
});
