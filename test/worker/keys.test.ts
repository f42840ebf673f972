/** /v1/keys: keys are shown once, work at once, can be revoked and rotated, and stay in their tenant. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_KEY_PATTERN, generateApiKey } from '../../worker/lib/api-keys.ts';
import { KeyListSchema, RotatedKeySchema, type ApiKey } from '../../worker/schemas/keys.ts';
import { addKey, api, newTenant } from './helpers.ts';
import {
  createKey,
  eventually,
  expectProblem,
  keyIdOf,
  send,
  statusWith,
} from './identity-helpers.ts';

let owner: string;
beforeAll(async () => {
  ({ apiKey: owner } = await newTenant('owner'));
});

/** Every key of the caller's tenant, and the raw JSON text of each page. */
async function listAll(apiKey: string): Promise<{ keys: ApiKey[]; text: string }> {
  const keys: ApiKey[] = [];
  let text = '';
  let cursor: string | null = null;
  do {
    const res = await api(`/v1/keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`, apiKey);
    expect(res.status).toBe(200);
    const page = await res.text();
    text += page;
    const parsed = KeyListSchema.parse(JSON.parse(page));
    keys.push(...parsed.data);
    cursor = parsed.next_cursor;
  } while (cursor);
  return { keys, text };
}

async function rotate(apiKey: string, id: string, body: unknown) {
  const res = await send('POST', `/v1/keys/${id}/rotate`, apiKey, body);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return RotatedKeySchema.parse(JSON.parse(text));
}

describe('POST /v1/keys', () => {
  it('returns the key once, with its prefix and scopes, and the key works at once', async () => {
    const created = await createKey(owner, 'member', 'ci');
    expect(created.key).toMatch(API_KEY_PATTERN);
    expect(created.prefix).toBe(created.key.slice(0, 12));
    expect(created).toMatchObject({ name: 'ci', role: 'member' });
    expect(created.scopes).toEqual(['jobs:read', 'jobs:write']);
    expect(created.id).toMatch(/^key_[0-9a-f]{32}$/);
    expect(await statusWith(created.key)).toBe(200);
  });

  it('names unknown fields and bad values', async () => {
    const unknown = await expectProblem(
      await send('POST', '/v1/keys', owner, { name: 'x', role: 'member', scopes: ['all'] }),
      400,
      'invalid_request',
    );
    expect(unknown.errors).toContainEqual({
      path: 'scopes',
      message: 'is not a known field; remove it',
    });
    for (const body of [
      { name: '', role: 'member' },
      { name: 'x'.repeat(101), role: 'member' },
      { name: 'x', role: 'root' },
      { role: 'member' },
    ]) {
      await expectProblem(await send('POST', '/v1/keys', owner, body), 400, 'invalid_request');
    }
  });
});

describe('GET /v1/keys', () => {
  it('lists keys newest first without the key, and shows last_used_at once a key was used', async () => {
    const { tenantId, apiKey: admin } = await newTenant('admin');
    const made = [await createKey(admin, 'viewer'), await createKey(admin, 'admin')];
    const adminId = await keyIdOf(admin);
    const { keys, text } = await listAll(admin);
    expect(keys.map((k) => k.id).sort()).toEqual([made[0]?.id, made[1]?.id, adminId].sort());
    // Newest first; keys of the same millisecond by id, as the cursor expects.
    const order = (k: ApiKey) => `${k.created_at}|${k.id}`;
    expect(keys.map(order)).toEqual(keys.map(order).sort().reverse());
    for (const m of made) expect(text).not.toContain(m.key);
    expect(text).not.toContain('"key"');
    const viewer = keys.find((k) => k.id === made[0]?.id);
    expect(viewer).toMatchObject({
      role: 'viewer',
      scopes: ['jobs:read'],
      created_by: `key:${adminId}`,
      last_used_at: null,
      revoked_at: null,
      expires_at: null,
    });
    const hash = await env.DB.prepare('SELECT key_hash FROM api_keys WHERE tenant_id = ? LIMIT 1')
      .bind(tenantId)
      .first('key_hash');
    expect(text).not.toContain(String(hash));

    expect(await statusWith(made[0]?.key ?? '')).toBe(200);
    // last_used_at is written after the response (waitUntil).
    await eventually(
      async () => (await listAll(admin)).keys.some((k) => k.id === made[0]?.id && k.last_used_at),
      5000,
      'last_used_at',
    );
  });

  it('rejects a bad cursor, a bad limit and unknown parameters', async () => {
    for (const query of ['?cursor=bm9wZQ', '?limit=0', '?limit=101', '?sort=asc']) {
      await expectProblem(await api(`/v1/keys${query}`, owner), 400, 'invalid_request');
    }
  });
});

describe('DELETE /v1/keys/{id}', () => {
  it('revokes the key: it is refused from then on; revoking again is a no-op', async () => {
    const created = await createKey(owner, 'member');
    expect(await statusWith(created.key)).toBe(200);
    const res = await send('DELETE', `/v1/keys/${created.id}`, owner);
    expect(res.status).toBe(204);
    expect(await statusWith(created.key)).toBe(401);
    expect((await send('DELETE', `/v1/keys/${created.id}`, owner)).status).toBe(204);
    const { keys } = await listAll(owner);
    expect(keys.find((k) => k.id === created.id)?.revoked_at).not.toBeNull();
  });

  it('answers 404 for an unknown key', async () => {
    await expectProblem(await send('DELETE', '/v1/keys/key_nope', owner), 404, 'not_found');
  });
});

describe('POST /v1/keys/{id}/rotate', () => {
  it('with a grace period, both keys work until it ends, then only the new one', async () => {
    const old = await createKey(owner, 'member', 'deploy');
    const rotated = await rotate(owner, old.id, { grace_seconds: 2 });
    expect(rotated).toMatchObject({ name: 'deploy', role: 'member' });
    expect(rotated.key).not.toBe(old.key);
    expect(rotated.replaced.id).toBe(old.id);
    const expiresAt = Date.parse(rotated.replaced.expires_at);
    expect(expiresAt - Date.parse(rotated.created_at)).toBe(2000);
    expect(await statusWith(rotated.key)).toBe(200);
    expect(await statusWith(old.key)).toBe(200);
    await eventually(
      async () => (await statusWith(old.key)) === 401,
      8000,
      'the old key to expire',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(await statusWith(rotated.key)).toBe(200);
  });

  it('without a grace period, the old key is refused at once', async () => {
    const old = await createKey(owner, 'viewer');
    const rotated = await rotate(owner, old.id, {});
    expect(rotated.replaced.expires_at <= new Date().toISOString()).toBe(true);
    expect(await statusWith(old.key)).toBe(401);
    expect(await statusWith(rotated.key)).toBe(200);
  });

  it('refuses to rotate a revoked, expired or already rotated key', async () => {
    const revoked = await createKey(owner, 'member');
    expect((await send('DELETE', `/v1/keys/${revoked.id}`, owner)).status).toBe(204);
    await expectProblem(
      await send('POST', `/v1/keys/${revoked.id}/rotate`, owner, {}),
      409,
      'conflict',
    );
    const rotated = await createKey(owner, 'member');
    await rotate(owner, rotated.id, { grace_seconds: 600 });
    const again = await expectProblem(
      await send('POST', `/v1/keys/${rotated.id}/rotate`, owner, {}),
      409,
      'conflict',
    );
    expect(again.detail).toContain('already rotated');
  });

  it('validates grace_seconds', async () => {
    const created = await createKey(owner, 'member');
    for (const body of [{ grace_seconds: -1 }, { grace_seconds: 604_801 }, { grace: 5 }]) {
      await expectProblem(
        await send('POST', `/v1/keys/${created.id}/rotate`, owner, body),
        400,
        'invalid_request',
      );
    }
    expect(await statusWith(created.key)).toBe(200);
  });
});

describe('a mistyped key', () => {
  it('is refused by its checksum, without a database read', async () => {
    const created = await createKey(owner, 'member');
    const i = 10;
    const typo =
      created.key.slice(0, i) + (created.key[i] === 'a' ? 'b' : 'a') + created.key.slice(i + 1);
    const mistyped = await expectProblem(await api('/v1/jobs', typo), 401, 'unauthorized');
    // A well-formed key that is not stored gets the message of the database lookup instead.
    const unknown = await expectProblem(
      await api('/v1/jobs', generateApiKey()),
      401,
      'unauthorized',
    );
    expect(mistyped.detail).toContain('mistyped');
    expect(unknown.detail).not.toBe(mistyped.detail);
  });
});

describe('roles', () => {
  it('lets an admin create keys up to admin, and manage keys up to admin only', async () => {
    const { tenantId, apiKey: admin } = await newTenant('admin');
    await expectProblem(
      await send('POST', '/v1/keys', admin, { name: 'x', role: 'owner' }),
      403,
      'forbidden',
    );
    expect((await createKey(admin, 'admin')).role).toBe('admin');
    const ownerId = await keyIdOf(await addKey(tenantId, 'owner'));
    // Rotating an owner key would hand the admin an owner key.
    await expectProblem(
      await send('POST', `/v1/keys/${ownerId}/rotate`, admin, {}),
      403,
      'forbidden',
    );
    await expectProblem(await send('DELETE', `/v1/keys/${ownerId}`, admin), 403, 'forbidden');
  });

  it.each(['member', 'viewer'] as const)(
    'refuses a %s on every key, member and audit endpoint',
    async (role) => {
      const { tenantId } = await newTenant('owner');
      const weak = await addKey(tenantId, role);
      const id = await keyIdOf(weak);
      const calls: Array<[string, string, unknown]> = [
        ['POST', '/v1/keys', { name: 'x', role: 'viewer' }],
        ['GET', '/v1/keys', undefined],
        ['DELETE', `/v1/keys/${id}`, undefined],
        ['POST', `/v1/keys/${id}/rotate`, {}],
        ['GET', '/v1/members', undefined],
        ['PUT', '/v1/members/someone', { role: 'viewer' }],
        ['DELETE', '/v1/members/someone', undefined],
        ['GET', '/v1/audit', undefined],
      ];
      for (const [method, path, body] of calls) {
        await expectProblem(await send(method, path, weak, body), 403, 'forbidden');
      }
      expect(await statusWith(weak)).toBe(200);
    },
  );
});

describe('tenants', () => {
  it("answers 404 for another tenant's key and leaves it alone", async () => {
    const a = await createKey(owner, 'member');
    const { apiKey: other } = await newTenant('owner');
    await expectProblem(await send('DELETE', `/v1/keys/${a.id}`, other), 404, 'not_found');
    await expectProblem(
      await send('POST', `/v1/keys/${a.id}/rotate`, other, { grace_seconds: 0 }),
      404,
      'not_found',
    );
    expect((await listAll(other)).keys.map((k) => k.id)).not.toContain(a.id);
    expect(await statusWith(a.key)).toBe(200);
  });
});

describe('OpenAPI', () => {
  it('documents the key, member and audit endpoints and the scopes of each role', async () => {
    const text = await (await api('/openapi.json', null)).text();
    const doc = z.object({ paths: z.record(z.string(), z.unknown()) }).parse(JSON.parse(text));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/keys',
        '/v1/keys/{id}',
        '/v1/keys/{id}/rotate',
        '/v1/members',
        '/v1/members/{subject}',
        '/v1/audit',
      ]),
    );
    expect(text).toContain('viewer: jobs:read; member: jobs:read, jobs:write;');
    expect(text).toContain(
      'owner: jobs:read, jobs:write, keys:manage, audit:read, members:read, members:manage',
    );
  });
});
