/** /v1/members: owners set and remove roles, every change is audited, and tenants stay apart. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemberListSchema, MemberSchema } from '../../worker/schemas/members.ts';
import { addKey, api, newTenant } from './helpers.ts';
import { asUser, auditEntries, expectProblem, send } from './identity-helpers.ts';

let tenantId: string;
let owner: string;
beforeAll(async () => {
  ({ tenantId, apiKey: owner } = await newTenant('owner'));
});

/** The stored role of `subject` in `tenant`, or null. */
async function storedRole(tenant: string, subject: string): Promise<string | null> {
  return env.DB.prepare('SELECT role FROM memberships WHERE tenant_id = ? AND subject = ?')
    .bind(tenant, subject)
    .first('role');
}

async function put(apiKey: string, subject: string, role: string, status: number) {
  const res = await send('PUT', `/v1/members/${encodeURIComponent(subject)}`, apiKey, { role });
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return {
    member: MemberSchema.parse(JSON.parse(text)),
    requestId: res.headers.get('x-request-id'),
  };
}

describe('PUT /v1/members/{subject}', () => {
  it('adds a member, changes the role, and audits each change with the old and new role', async () => {
    const added = await put(owner, 'auth0|alice', 'admin', 201);
    expect(added.member).toMatchObject({ subject: 'auth0|alice', role: 'admin' });
    expect(await storedRole(tenantId, 'auth0|alice')).toBe('admin');
    const changed = await put(owner, 'auth0|alice', 'viewer', 200);
    expect(changed.member.role).toBe('viewer');
    expect(await storedRole(tenantId, 'auth0|alice')).toBe('viewer');
    // Setting the same role again changes nothing and records nothing.
    await put(owner, 'auth0|alice', 'viewer', 200);

    const entries = (await auditEntries(owner, 'action=member.role_change')).filter(
      (e) => e.target === 'auth0|alice',
    );
    // Entries of the same millisecond may come in either order.
    expect(entries).toHaveLength(2);
    expect(entries.map((e) => [e.request_id, e.details])).toEqual(
      expect.arrayContaining([
        [added.requestId, { old_role: null, new_role: 'admin' }],
        [changed.requestId, { old_role: 'admin', new_role: 'viewer' }],
      ]),
    );
  });

  it('names unknown fields and refuses an unknown role or a bad subject', async () => {
    const problem = await expectProblem(
      await send('PUT', '/v1/members/bob', owner, { role: 'admin', tenant: 'x' }),
      400,
      'invalid_request',
    );
    expect(problem.errors?.map((e) => e.path)).toContain('tenant');
    await expectProblem(
      await send('PUT', '/v1/members/bob', owner, { role: 'root' }),
      400,
      'invalid_request',
    );
    await expectProblem(
      await send('PUT', `/v1/members/${'x'.repeat(256)}`, owner, { role: 'admin' }),
      400,
      'invalid_request',
    );
    await expectProblem(
      await send('PUT', '/v1/members/a%0Ab', owner, { role: 'admin' }),
      400,
      'invalid_request',
    );
    expect(await storedRole(tenantId, 'bob')).toBeNull();
  });
});

describe('GET /v1/members', () => {
  it('pages through the members newest first (same millisecond: by subject)', async () => {
    const { apiKey } = await newTenant('owner');
    // Subjects outside Latin-1 end up in cursors too.
    for (const subject of ['m1', 'm2-ü', 'm3-名']) await put(apiKey, subject, 'member', 201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(`/v1/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`, apiKey);
      expect(res.status).toBe(200);
      const page = MemberListSchema.parse(await res.json());
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((m) => m.subject));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['m3-名', 'm2-ü', 'm1']);
  });
});

describe('DELETE /v1/members/{subject}', () => {
  it('removes the membership and audits it; removing it again is 404', async () => {
    await put(owner, 'carol', 'member', 201);
    const res = await send('DELETE', '/v1/members/carol', owner);
    expect(res.status).toBe(204);
    expect(await storedRole(tenantId, 'carol')).toBeNull();
    const [entry] = (await auditEntries(owner, 'action=member.remove')).filter(
      (e) => e.target === 'carol',
    );
    expect(entry?.details).toEqual({ role: 'member' });
    expect(entry?.request_id).toBe(res.headers.get('x-request-id'));
    await expectProblem(await send('DELETE', '/v1/members/carol', owner), 404, 'not_found');
  });
});

describe('roles and tenants', () => {
  it('lets an admin list members but not change them', async () => {
    const admin = await addKey(tenantId, 'admin');
    await put(owner, 'dave', 'member', 201);
    expect((await api('/v1/members', admin)).status).toBe(200);
    await expectProblem(
      await send('PUT', '/v1/members/dave', admin, { role: 'owner' }),
      403,
      'forbidden',
    );
    await expectProblem(await send('DELETE', '/v1/members/dave', admin), 403, 'forbidden');
    expect(await storedRole(tenantId, 'dave')).toBe('member');
  });

  it("answers 404 for another tenant's member and never touches it", async () => {
    await put(owner, 'erin', 'admin', 201);
    const other = await newTenant('owner');
    await expectProblem(await send('DELETE', '/v1/members/erin', other.apiKey), 404, 'not_found');
    const listed = MemberListSchema.parse(await (await api('/v1/members', other.apiKey)).json());
    expect(listed.data).toEqual([]);
    // The same subject in another tenant is another membership.
    await put(other.apiKey, 'erin', 'viewer', 201);
    expect(await storedRole(tenantId, 'erin')).toBe('admin');
    expect(await storedRole(other.tenantId, 'erin')).toBe('viewer');
  });
});

describe('owners stepping down', () => {
  it('lets an owner demote themselves while another owner remains, with effect at once', async () => {
    const { tenantId: tenant, apiKey } = await newTenant('owner');
    await put(apiKey, 'frank', 'owner', 201);
    // The membership, not the token's viewer claim, makes frank an owner.
    expect((await asUser(tenant, 'frank', 'GET', '/v1/members')).status).toBe(200);
    expect(
      (await asUser(tenant, 'frank', 'PUT', '/v1/members/gina', { role: 'admin' })).status,
    ).toBe(201);
    // The tenant's owner key remains an owner, so frank may step down.
    expect(
      (await asUser(tenant, 'frank', 'PUT', '/v1/members/frank', { role: 'admin' })).status,
    ).toBe(200);
    expect(await storedRole(tenant, 'frank')).toBe('admin');

    // Demoted by another owner, frank's requests get the new role at once.
    await put(apiKey, 'frank', 'member', 200);
    await expectProblem(await asUser(tenant, 'frank', 'GET', '/v1/members'), 403, 'forbidden');
    const entries = await auditEntries(apiKey, 'action=member.role_change');
    expect(entries.find((e) => e.target === 'gina')?.actor).toBe('user:frank');
    expect(entries.filter((e) => e.target === 'frank').map((e) => e.details)).toContainEqual({
      old_role: 'admin',
      new_role: 'member',
    });
  });
});
