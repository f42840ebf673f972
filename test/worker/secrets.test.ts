/**
 * /v1/secrets: admins set, list and delete secrets; values are stored encrypted and never shown
 * or audited; names are validated; lists are paginated; members and other tenants get nothing.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_BODY_BYTES } from '../../worker/app.ts';
import {
  loadSecretsKeys,
  openSecret,
  sealSecret,
  type SecretsKeyring,
} from '../../worker/lib/secrets-crypto.ts';
import { reencryptSecrets } from '../../worker/services/reencrypt-secrets.ts';
import { SecretListSchema, SecretSchema } from '../../worker/schemas/secrets.ts';
import { addKey, api, newTenant } from './helpers.ts';
import { auditEntries, expectProblem, send } from './identity-helpers.ts';

let tenantId: string;
let admin: string;
beforeAll(async () => {
  ({ tenantId, apiKey: admin } = await newTenant('admin'));
});

async function put(apiKey: string, name: string, value: string, status: number) {
  const res = await send('PUT', `/v1/secrets/${name}`, apiKey, { value });
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return { text, secret: SecretSchema.parse(JSON.parse(text)) };
}

async function listAll(apiKey: string, limit: number): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const res = await api(`/v1/secrets?limit=${limit}${query}`, apiKey);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const page = SecretListSchema.parse(JSON.parse(text));
    expect(page.data.length).toBeLessThanOrEqual(limit);
    names.push(...page.data.map((s) => s.name));
    cursor = page.next_cursor;
  } while (cursor);
  return names;
}

describe('PUT /v1/secrets/{name}', () => {
  it('creates (201), replaces (200), and shows the name and dates only', async () => {
    const created = await put(admin, 'API_TOKEN', 'first-value-1234', 201);
    expect(created.secret).toMatchObject({ name: 'API_TOKEN' });
    expect(Object.keys(JSON.parse(created.text)).sort()).toEqual(
      ['created_at', 'created_by', 'name', 'updated_at'].sort(),
    );
    const replaced = await put(admin, 'API_TOKEN', 'second-value-5678', 200);
    expect(replaced.secret.created_at).toBe(created.secret.created_at);
    expect(replaced.text).not.toContain('second-value');

    // Stored encrypted: the row holds neither value.
    const row = await env.DB.prepare('SELECT * FROM secrets WHERE tenant_id = ? AND name = ?')
      .bind(tenantId, 'API_TOKEN')
      .first();
    expect(row).toMatchObject({ key_id: 'test1' });
    expect(JSON.stringify(row)).not.toMatch(/first-value|second-value/);
  });

  it('audits each change by name, never with the value', async () => {
    await put(admin, 'AUDITED', 'audited-value-1', 201);
    await put(admin, 'AUDITED', 'audited-value-2', 200);
    expect((await send('DELETE', '/v1/secrets/AUDITED', admin)).status).toBe(204);
    const entries = (await auditEntries(admin)).filter((e) => e.target === 'AUDITED');
    expect(entries.map((e) => e.action).sort()).toEqual(
      ['secret.delete', 'secret.put', 'secret.put'].sort(),
    );
    for (const entry of entries) expect(entry.details).toEqual({ name: 'AUDITED' });
    const rows = await env.DB.prepare('SELECT * FROM audit_log WHERE tenant_id = ?')
      .bind(tenantId)
      .all();
    expect(JSON.stringify(rows.results)).not.toContain('audited-value');
  });

  it.each([
    ['a lower-case name', 'api_token', { value: 'x' }],
    ['a name starting with a digit', '1TOKEN', { value: 'x' }],
    ['a name too long', `A${'B'.repeat(128)}`, { value: 'x' }],
    ['an empty value', 'EMPTY', { value: '' }],
    ['a NUL in the value', 'NUL', { value: 'a\0b' }],
    ['a value that is not text', 'NUMBER', { value: 5 }],
    ['an unknown field', 'EXTRA', { value: 'x', note: 'y' }],
  ])('refuses %s (400)', async (_, name, body) => {
    await expectProblem(
      await send('PUT', `/v1/secrets/${name}`, admin, body),
      400,
      'invalid_request',
    );
  });

  it('refuses a value over 64 KiB (400), or a body over the request limit (413)', async () => {
    await expectProblem(
      await send('PUT', '/v1/secrets/BIG', admin, { value: 'x'.repeat(64 * 1024 + 1) }),
      400,
      'invalid_request',
    );
    await expectProblem(
      await send('PUT', '/v1/secrets/BIG', admin, { value: 'x'.repeat(MAX_BODY_BYTES) }),
      413,
      'payload_too_large',
    );
    await put(admin, 'BIG', 'x'.repeat(64 * 1024), 201);
  });

  it('answers 503 naming the setting when SECRETS_KEYS is missing', async () => {
    const { createApp } = await import('../../worker/app.ts');
    const app = createApp();
    const res = await app.fetch(
      new Request('https://omni.test/v1/secrets/NO_KEYS', {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value: 'v' }),
      }),
      { ...env, SECRETS_KEYS: '' },
      { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} },
    );
    const problem = await expectProblem(res, 503, 'misconfigured');
    expect(problem.detail).toContain('SECRETS_KEYS');
  });
});

describe('GET /v1/secrets and DELETE /v1/secrets/{name}', () => {
  it('lists names newest first, page by page, with no value', async () => {
    const { apiKey } = await newTenant('owner');
    const names = ['ONE', 'TWO', 'THREE', 'FOUR', 'FIVE'];
    for (const name of names) await put(apiKey, name, `value-of-${name}`, 201);
    // Every secret once over the pages (secrets of the same millisecond are ordered by name).
    const listed = await listAll(apiKey, 2);
    expect([...listed].sort()).toEqual([...names].sort());
    const res = await api('/v1/secrets?limit=100', apiKey);
    expect(await res.text()).not.toContain('value-of-');
    await expectProblem(await api('/v1/secrets?cursor=nonsense', apiKey), 400, 'invalid_request');
  });

  it('deletes (204), then 404; another tenant cannot see or delete it', async () => {
    await put(admin, 'GONE', 'gone-value', 201);
    const other = await newTenant('owner');
    await expectProblem(await send('DELETE', '/v1/secrets/GONE', other.apiKey), 404, 'not_found');
    expect(await listAll(other.apiKey, 100)).toEqual([]);
    expect((await send('DELETE', '/v1/secrets/GONE', admin)).status).toBe(204);
    await expectProblem(await send('DELETE', '/v1/secrets/GONE', admin), 404, 'not_found');
    expect(await listAll(admin, 100)).not.toContain('GONE');
  });

  it('refuses members and viewers (403)', async () => {
    for (const role of ['member', 'viewer'] as const) {
      const key = await addKey(tenantId, role);
      await expectProblem(
        await send('PUT', '/v1/secrets/X_TOKEN', key, { value: 'v' }),
        403,
        'forbidden',
      );
      await expectProblem(await api('/v1/secrets', key), 403, 'forbidden');
      await expectProblem(await send('DELETE', '/v1/secrets/API_TOKEN', key), 403, 'forbidden');
    }
  });
});

describe('re-encryption after a key rotation', () => {
  it('gives secrets of an older key the current one, keeping their values and dates', async () => {
    const { tenantId: tenant } = await newTenant('owner');
    const old = 'YvceI2Ms9o9WMd7MeJ9vnNVL+z77U0LfpX24D19endo=';
    const current = z.record(z.string(), z.string()).parse(JSON.parse(env.SECRETS_KEYS));
    const before = await loadSecretsKeys({
      SECRETS_KEYS: JSON.stringify({ old }),
      SECRETS_KEY_ID: 'old',
    });
    const store = async (name: string, value: string, keyring: SecretsKeyring) => {
      const sealed = await sealSecret(keyring, tenant, name, value);
      await env.DB.prepare(
        'INSERT INTO secrets (tenant_id, name, key_id, iv, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 1)',
      )
        .bind(tenant, name, sealed.keyId, sealed.iv, sealed.ciphertext)
        .run();
    };
    await store('ROTATED_A', 'value-a', before);
    await store('ROTATED_B', 'value-b', before);
    const rotated = { ...env, SECRETS_KEYS: JSON.stringify({ ...current, old }) };

    const summary = await reencryptSecrets(rotated, 1);
    expect(summary).toMatchObject({ reencrypted: 1, failed: 0, more: true });
    expect(await reencryptSecrets(rotated, 1)).toMatchObject({ reencrypted: 1, more: true });
    expect(await reencryptSecrets(rotated, 1)).toMatchObject({ reencrypted: 0, more: false });

    const rows = await env.DB.prepare(
      'SELECT name, key_id, iv, ciphertext, created_at, updated_at FROM secrets WHERE tenant_id = ? ORDER BY name',
    )
      .bind(tenant)
      .all<{ name: string; key_id: string; iv: string; ciphertext: string; updated_at: number }>();
    const keyring = await loadSecretsKeys(env);
    for (const row of rows.results) {
      expect(row).toMatchObject({ key_id: keyring.currentId, updated_at: 1 });
      const value = await openSecret(keyring, tenant, row.name, {
        keyId: row.key_id,
        iv: row.iv,
        ciphertext: row.ciphertext,
      });
      expect(value).toBe(row.name === 'ROTATED_A' ? 'value-a' : 'value-b');
    }
    // Without the old key, rows still under it are counted as unreadable, and left alone.
    await store('STRANDED', 'value-c', before);
    expect(await reencryptSecrets(env)).toMatchObject({ reencrypted: 0 });
    expect((await reencryptSecrets(env))?.unreadable).toBeGreaterThanOrEqual(1);
    await env.DB.prepare('DELETE FROM secrets WHERE tenant_id = ?').bind(tenant).run();
  });
});
