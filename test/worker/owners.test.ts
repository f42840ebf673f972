/**
 * A tenant never loses its last owner: revoking the last owner key, demoting or removing the last
 * owner member, or a key whose standing an owner's removal would end, is refused with 409, also
 * when two owners act at the same time.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { addKey, newTenant } from './helpers.ts';
import {
  addMember,
  asUser,
  createKey,
  expectProblem,
  keyIdOf,
  send,
  statusWith,
} from './identity-helpers.ts';

/** Lasting owner keys and owner members of `tenant`, as stored. */
async function owners(tenant: string): Promise<{ keys: number; members: number }> {
  const keys = await env.DB.prepare(
    "SELECT count(*) AS n FROM api_keys WHERE tenant_id = ? AND role = 'owner' AND revoked_at IS NULL AND expires_at IS NULL",
  )
    .bind(tenant)
    .first<number>('n');
  const members = await env.DB.prepare(
    "SELECT count(*) AS n FROM memberships WHERE tenant_id = ? AND role = 'owner'",
  )
    .bind(tenant)
    .first<number>('n');
  return { keys: keys ?? 0, members: members ?? 0 };
}

describe('the last owner key', () => {
  it('cannot be revoked (409), and keeps working', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const problem = await expectProblem(
      await send('DELETE', `/v1/keys/${await keyIdOf(apiKey)}`, apiKey),
      409,
      'conflict',
    );
    expect(problem.detail).toContain('without an owner');
    expect(await statusWith(apiKey)).toBe(200);
    expect(await owners(tenantId)).toEqual({ keys: 1, members: 0 });
  });

  it('can be revoked once another owner key stands alone beside it', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const second = await addKey(tenantId, 'owner');
    expect((await send('DELETE', `/v1/keys/${await keyIdOf(apiKey)}`, second)).status).toBe(204);
    // Now `second` is the last one.
    await expectProblem(
      await send('DELETE', `/v1/keys/${await keyIdOf(second)}`, second),
      409,
      'conflict',
    );
  });

  it('counts an owner key made by another only while its maker stands', async () => {
    const { apiKey } = await newTenant('owner');
    const child = await createKey(apiKey, 'owner', 'made by the first');
    // Revoking the maker would end the child too: no owner would be left.
    await expectProblem(
      await send('DELETE', `/v1/keys/${await keyIdOf(apiKey)}`, child.key),
      409,
      'conflict',
    );
    // The child itself can go: the maker remains.
    expect((await send('DELETE', `/v1/keys/${child.id}`, apiKey)).status).toBe(204);
  });

  it('can be rotated without grace: the new key is the owner', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const res = await send('POST', `/v1/keys/${await keyIdOf(apiKey)}/rotate`, apiKey, {
      grace_seconds: 0,
    });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    expect(await statusWith(apiKey)).toBe(401);
    expect((await send('GET', '/v1/members', key)).status).toBe(200);
    expect(await owners(tenantId)).toEqual({ keys: 1, members: 0 });
  });

  it('survives two owners revoking each other at once: exactly one revocation lands', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { tenantId, apiKey: a } = await newTenant('owner');
      const b = await addKey(tenantId, 'owner');
      const [idA, idB] = [await keyIdOf(a), await keyIdOf(b)];
      // Both authenticate before either revocation (their keys are looked up once first).
      expect([await statusWith(a), await statusWith(b)]).toEqual([200, 200]);
      const statuses = (
        await Promise.all([
          send('DELETE', `/v1/keys/${idB}`, a),
          send('DELETE', `/v1/keys/${idA}`, b),
        ])
      ).map((r) => r.status);
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      // The other is refused: as the last owner (409), or, if the first revocation landed
      // before it authenticated, as a revoked key (401).
      expect(statuses.filter((s) => s === 409 || s === 401)).toHaveLength(1);
      expect(await owners(tenantId)).toEqual({ keys: 1, members: 0 });
    }
  });
});

describe('the last owner member', () => {
  /** A tenant whose only owner is the member `frank` (its API key is an admin's). */
  async function tenantOwnedByFrank(): Promise<{ tenant: string; admin: string }> {
    const { tenantId, apiKey } = await newTenant('admin');
    await addMember(tenantId, 'frank', 'owner');
    return { tenant: tenantId, admin: apiKey };
  }

  it('cannot be demoted or removed (409)', async () => {
    const { tenant } = await tenantOwnedByFrank();
    await expectProblem(
      await asUser(tenant, 'frank', 'PUT', '/v1/members/frank', { role: 'admin' }),
      409,
      'conflict',
    );
    await expectProblem(
      await asUser(tenant, 'frank', 'DELETE', '/v1/members/frank'),
      409,
      'conflict',
    );
    expect(await owners(tenant)).toEqual({ keys: 0, members: 1 });
    // Making someone else owner first lets frank step down.
    expect(
      (await asUser(tenant, 'frank', 'PUT', '/v1/members/gina', { role: 'owner' })).status,
    ).toBe(201);
    expect(
      (await asUser(tenant, 'frank', 'PUT', '/v1/members/frank', { role: 'member' })).status,
    ).toBe(200);
  });

  it('is not taken away by two owners demoting each other at once', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { tenant } = await tenantOwnedByFrank();
      await addMember(tenant, 'gina', 'owner');
      const statuses = (
        await Promise.all([
          asUser(tenant, 'frank', 'PUT', '/v1/members/gina', { role: 'admin' }),
          asUser(tenant, 'gina', 'PUT', '/v1/members/frank', { role: 'admin' }),
        ])
      ).map((r) => r.status);
      // One demotion lands. The other is refused as the last owner's demotion (409) or, if
      // the first landed before it was authorised, because its caller is no owner now (403).
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409 || s === 403)).toHaveLength(1);
      expect(await owners(tenant)).toEqual({ keys: 0, members: 1 });
    }
  });

  it('is not taken away by removing each other at once either', async () => {
    const { tenant } = await tenantOwnedByFrank();
    await addMember(tenant, 'gina', 'owner');
    const statuses = (
      await Promise.all([
        asUser(tenant, 'frank', 'DELETE', '/v1/members/gina'),
        asUser(tenant, 'gina', 'DELETE', '/v1/members/frank'),
      ])
    ).map((r) => r.status);
    expect(statuses.filter((s) => s === 204)).toHaveLength(1);
    expect(await owners(tenant)).toEqual({ keys: 0, members: 1 });
  });

  it('counts the owner keys a member made only while the member is an owner', async () => {
    const { tenant } = await tenantOwnedByFrank();
    const res = await asUser(tenant, 'frank', 'POST', '/v1/keys', {
      name: 'frank ci',
      role: 'owner',
    });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    // frank's key would lose its owner role with frank's: refused, frank is the last owner.
    await expectProblem(
      await send('PUT', '/v1/members/frank', key, { role: 'admin' }),
      409,
      'conflict',
    );
    // A key that stands alone makes it possible.
    const standalone = await addKey(tenant, 'owner');
    expect((await send('PUT', '/v1/members/frank', standalone, { role: 'admin' })).status).toBe(
      200,
    );
  });

  it('does not lock a tenant that had no owner to begin with', async () => {
    const { tenantId, apiKey } = await newTenant('admin');
    const other = await addKey(tenantId, 'admin');
    expect((await send('DELETE', `/v1/keys/${await keyIdOf(other)}`, apiKey)).status).toBe(204);
  });
});
