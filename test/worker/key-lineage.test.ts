/**
 * A key is capped by whoever made it: revoking or demoting the maker takes its keys down with it
 * (worker/db/key-chain.ts); keys made by `npm run key:create` stand alone.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MAX_KEY_DEPTH, standingOf, type ChainLink } from '../../worker/db/key-chain.ts';
import { insertKey } from '../../worker/db/keys.ts';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../worker/lib/api-keys.ts';
import { api, newTenant } from './helpers.ts';
import {
  addMember,
  asUser,
  createKey,
  expectProblem,
  keyIdOf,
  send,
  statusWith,
} from './identity-helpers.ts';

/** The status of GET /v1/audit (admin and up) and GET /v1/jobs (viewer and up) with `key`. */
async function reach(key: string): Promise<{ audit: number; jobs: number }> {
  const audit = await api('/v1/audit', key);
  const jobs = await api('/v1/jobs', key);
  await Promise.all([audit.body?.cancel(), jobs.body?.cancel()]);
  return { audit: audit.status, jobs: jobs.status };
}

/** The listed `role` and `effective_role` of key `id` (GET /v1/keys, first page). */
async function effectiveRoleOf(admin: string, id: string) {
  const res = await send('GET', '/v1/keys?limit=100', admin);
  const keys = (
    (await res.json()) as { data: { id: string; role: string; effective_role: string | null }[] }
  ).data;
  const key = keys.find((k) => k.id === id);
  return key ? { role: key.role, effective_role: key.effective_role } : null;
}

describe('keys made by keys', () => {
  it('are refused once the key that made them is revoked, and so are theirs', async () => {
    const { apiKey: owner } = await newTenant('owner');
    const parent = await createKey(owner, 'admin', 'ci parent');
    const child = await createKey(parent.key, 'admin', 'made by ci');
    const grandchild = await createKey(child.key, 'member', 'made by the child');
    expect(await statusWith(grandchild.key)).toBe(200);
    expect((await send('DELETE', `/v1/keys/${parent.id}`, owner)).status).toBe(204);
    expect(await statusWith(parent.key)).toBe(401);
    expect(await statusWith(child.key)).toBe(401);
    expect(await statusWith(grandchild.key)).toBe(401);
    // The list says so: the child keeps its own role, and has no effective one now.
    expect(await effectiveRoleOf(owner, child.id)).toEqual({ role: 'admin', effective_role: null });
  });

  it('record their maker, and keep working when it is rotated: the successor takes them over', async () => {
    const { apiKey: owner } = await newTenant('owner');
    const parent = await createKey(owner, 'admin', 'parent');
    const child = await createKey(parent.key, 'member', 'child');
    const listed = await send('GET', '/v1/keys?limit=10', owner);
    const keys = ((await listed.json()) as { data: { id: string; created_by: string }[] }).data;
    expect(keys.find((k) => k.id === child.id)?.created_by).toBe(`key:${parent.id}`);

    const rotated = await send('POST', `/v1/keys/${parent.id}/rotate`, owner, { grace_seconds: 0 });
    expect(rotated.status).toBe(201);
    const successor = (await rotated.json()) as { id: string; key: string };
    expect(await statusWith(parent.key)).toBe(401);
    expect(await statusWith(child.key)).toBe(200);
    const row = await env.DB.prepare('SELECT created_by FROM api_keys WHERE id = ?')
      .bind(child.id)
      .first('created_by');
    expect(row).toBe(`key:${successor.id}`);
    // The successor keeps the old key's maker, not the rotating caller.
    const successorMaker = await env.DB.prepare('SELECT created_by FROM api_keys WHERE id = ?')
      .bind(successor.id)
      .first('created_by');
    expect(successorMaker).toBe(`key:${await keyIdOf(owner)}`);
  });

  it(`can be made at most ${MAX_KEY_DEPTH} keys deep`, async () => {
    const { apiKey: owner } = await newTenant('owner');
    let key = owner;
    for (let depth = 1; depth <= MAX_KEY_DEPTH; depth += 1) {
      key = (await createKey(key, 'admin', `depth ${depth}`)).key;
    }
    // The deepest one works, but cannot make another.
    expect(await statusWith(key)).toBe(200);
    const problem = await expectProblem(
      await send('POST', '/v1/keys', key, { name: 'too deep', role: 'member' }),
      403,
      'forbidden',
    );
    expect(problem.detail).toContain(`at most ${MAX_KEY_DEPTH}`);
  });

  it('that stand alone (npm run key:create records cli:<user>) are not capped', async () => {
    const { tenantId } = await newTenant('owner');
    const key = generateApiKey();
    await insertKey(env.DB, {
      id: `key_${crypto.randomUUID().replaceAll('-', '')}`,
      tenantId,
      name: 'bootstrap',
      prefix: apiKeyPrefix(key),
      keyHash: await hashApiKey(key),
      role: 'admin',
      createdBy: 'cli:operator',
      createdAt: Date.now(),
      lastUsedAt: null,
      expiresAt: null,
      revokedAt: null,
    });
    expect(await reach(key)).toEqual({ audit: 200, jobs: 200 });
  });
});

describe('keys made by a member', () => {
  it('are capped by the member’s role: demoted, they lose power; removed, they stop', async () => {
    const { tenantId, apiKey: owner } = await newTenant('owner');
    await addMember(tenantId, 'frank', 'admin');
    const res = await asUser(tenantId, 'frank', 'POST', '/v1/keys', {
      name: 'frank ci',
      role: 'admin',
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as { id: string; key: string };
    expect(await reach(made.key)).toEqual({ audit: 200, jobs: 200 });

    // Demoted to member: the admin key acts as a member now.
    expect((await send('PUT', '/v1/members/frank', owner, { role: 'member' })).status).toBe(200);
    expect(await reach(made.key)).toEqual({ audit: 403, jobs: 200 });
    expect(await effectiveRoleOf(owner, made.id)).toEqual({
      role: 'admin',
      effective_role: 'member',
    });
    // Promoted back: so is the key.
    expect((await send('PUT', '/v1/members/frank', owner, { role: 'admin' })).status).toBe(200);
    expect(await reach(made.key)).toEqual({ audit: 200, jobs: 200 });
    // Removed: frank's keys are refused.
    expect((await send('DELETE', '/v1/members/frank', owner)).status).toBe(204);
    expect(await statusWith(made.key)).toBe(401);
  });

  it('cannot be made on the strength of a role claim alone (403)', async () => {
    const { tenantId } = await newTenant('owner');
    const problem = await expectProblem(
      await asUser(tenantId, 'zoe', 'POST', '/v1/keys', { name: 'zoe', role: 'member' }, 'admin'),
      403,
      'forbidden',
    );
    expect(problem.detail).toContain('member');
  });
});

describe('standingOf', () => {
  const link = (patch: Partial<ChainLink>): ChainLink => ({
    id: 'key_a',
    tenantId: 'ten',
    role: 'owner',
    createdBy: null,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    memberRole: null,
    ...patch,
  });

  it('takes the weakest role along the chain and the earliest expiry', () => {
    const chain = [
      link({ id: 'key_c', role: 'owner', createdBy: 'key:key_b' }),
      link({ id: 'key_b', role: 'admin', createdBy: 'key:key_a', expiresAt: 2000 }),
      link({ id: 'key_a', role: 'owner', createdBy: 'user:frank', memberRole: 'member' }),
    ];
    expect(standingOf(chain, 1000)).toEqual({ role: 'member', validUntil: 2000, depth: 2 });
    expect(standingOf(chain, 2000)).toBeNull();
  });

  it('has no standing when a maker is missing, revoked, or a member without a membership', () => {
    expect(standingOf([link({ createdBy: 'key:key_gone' })], 0)).toBeNull();
    expect(
      standingOf([link({ createdBy: 'key:key_b' }), link({ id: 'key_b', revokedAt: 1 })], 0),
    ).toBeNull();
    expect(standingOf([link({ createdBy: 'user:ghost' })], 0)).toBeNull();
    expect(standingOf([], 0)).toBeNull();
    expect(standingOf([link({ createdBy: 'cli:root' })], 0)).toEqual({
      role: 'owner',
      validUntil: null,
      depth: 0,
    });
  });
});
