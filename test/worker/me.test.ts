/**
 * GET /v1/me: the caller's tenant, role and grant — for a key (capped by the key that made it),
 * a member and a JWT role claim; no credentials is 401.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { addKey, api, newTenant } from './helpers.ts';
import { addMember, asUser, eventually, expectProblem, keyIdOf } from './identity-helpers.ts';

async function me(apiKey: string | null) {
  const res = await api('/v1/me', apiKey);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /v1/me', () => {
  it('names the tenant, role and key of an API key', async () => {
    const { tenantId, apiKey } = await newTenant('viewer');
    expect(await me(apiKey)).toEqual({
      status: 200,
      body: {
        tenant_id: tenantId,
        role: 'viewer',
        actor: `key:${await keyIdOf(apiKey)}`,
        key_id: await keyIdOf(apiKey),
        grant: 'key',
      },
    });
    const member = await addKey(tenantId, 'member');
    expect((await me(member)).body).toMatchObject({ role: 'member', grant: 'key' });
  });

  it("shows a key's role as capped by the member who made it", async () => {
    const { tenantId } = await newTenant('owner');
    await addMember(tenantId, 'cy', 'admin');
    const res = await asUser(tenantId, 'cy', 'POST', '/v1/keys', { name: 'cy', role: 'admin' });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    expect((await me(key)).body).toMatchObject({ role: 'admin', grant: 'key' });
    await env.DB.prepare(
      "UPDATE memberships SET role = 'member' WHERE tenant_id = ? AND subject = ?",
    )
      .bind(tenantId, 'cy')
      .run();
    await eventually(
      async () => (await me(key)).body.role === 'member',
      30_000,
      "the key's role capped by its maker's",
    );
  });

  it('names a member signed in with a JWT, and a role from a claim only', async () => {
    const { tenantId } = await newTenant('owner');
    await addMember(tenantId, 'ada', 'member');
    const asMember = await asUser(tenantId, 'ada', 'GET', '/v1/me');
    expect(await asMember.json()).toMatchObject({
      tenant_id: tenantId,
      role: 'member',
      actor: 'user:ada',
      key_id: null,
      grant: 'member',
    });
    const byClaim = await asUser(tenantId, 'bob', 'GET', '/v1/me', undefined, 'viewer');
    expect(await byClaim.json()).toMatchObject({ role: 'viewer', grant: 'claim' });
  });

  it('is 401 without credentials', async () => {
    await expectProblem(await api('/v1/me', null), 401, 'unauthorized');
  });
});
