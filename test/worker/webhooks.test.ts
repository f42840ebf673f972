/**
 * Outbound webhooks: subscriptions (roles, validation, the secret shown once), signed deliveries
 * of a job's start and end to a loopback receiver (test/webhook-receiver.ts), retries of a failing
 * receiver with every attempt recorded, 410 disabling, redelivery, and the URL check in
 * production. vitest.config.ts sets WEBHOOK_RETRY_BASE_SECONDS to 0: retries follow at once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobDO } from '../../durable-objects/job/job-do.ts';
import { JobStorage } from '../../durable-objects/job/storage.ts';
import { queueWebhookEvent } from '../../durable-objects/webhooks/queue.ts';
import { loadSecretsKeys, openSecret } from '../../worker/lib/secrets-crypto.ts';
import { webhookUrlProblem } from '../../worker/routes/webhooks.ts';
import { reencryptWebhookSecrets } from '../../worker/services/reencrypt-webhook-secrets.ts';
import {
  CreatedWebhookSchema,
  DeliveryListSchema,
  WebhookSchema,
  type Delivery,
} from '../../worker/schemas/webhooks.ts';
import { allStatements, failingD1 } from './failing-d1.ts';
import { addKey, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { jobSpec } from './job-spec.ts';

const receivedSchema = z.object({
  requests: z.array(
    z.object({ headers: z.record(z.string(), z.string()), body: z.string(), status: z.number() }),
  ),
});

type Received = z.infer<typeof receivedSchema>['requests'][number];

/** A fresh receiver name and its URL. */
function hook(): { name: string; url: string } {
  const name = crypto.randomUUID();
  return { name, url: `${env.TEST_WEBHOOK_RECEIVER_URL}/hooks/${name}` };
}

async function received(name: string): Promise<Received[]> {
  const res = await fetch(`${env.TEST_WEBHOOK_RECEIVER_URL}/control/${name}/requests`);
  return receivedSchema.parse(await res.json()).requests;
}

async function failNext(name: string, times: number, status: number): Promise<void> {
  await fetch(
    `${env.TEST_WEBHOOK_RECEIVER_URL}/control/${name}/fail?times=${times}&status=${status}`,
    { method: 'POST' },
  );
}

async function subscribe(apiKey: string, url: string, events: string[]) {
  const res = await api('/v1/webhooks', apiKey, {
    method: 'POST',
    body: JSON.stringify({ url, events }),
  });
  const json: unknown = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return CreatedWebhookSchema.parse(json);
}

async function deliveries(apiKey: string, id: string): Promise<Delivery[]> {
  const res = await api(`/v1/webhooks/${id}/deliveries`, apiKey);
  expect(res.status).toBe(200);
  return DeliveryListSchema.parse(await res.json()).data;
}

/** The consumer-side check of docs/webhooks.md: signature over `<t>.<body>`, within 5 minutes. */
function verify(secret: string, header: string, body: string, nowSeconds: number): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2)));
  const t = Number(parts.t);
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const given = Buffer.from(String(parts.v1), 'hex');
  return (
    Math.abs(nowSeconds - t) <= 300 &&
    given.length === 32 &&
    timingSafeEqual(given, Buffer.from(expected, 'hex'))
  );
}

let admin: string;
let tenantId: string;

beforeAll(async () => {
  ({ tenantId, apiKey: admin } = await newTenant('admin'));
});

describe('subscriptions', () => {
  it('are for admins and owners only', async () => {
    const member = await addKey(tenantId, 'member');
    const { url } = hook();
    for (const [path, method] of [
      ['/v1/webhooks', 'GET'],
      ['/v1/webhooks', 'POST'],
    ] as const) {
      const res = await api(path, member, {
        method,
        ...(method === 'POST' ? { body: JSON.stringify({ url, events: ['job.failed'] }) } : {}),
      });
      expect(res.status).toBe(403);
    }
  });

  it('show the secret once, store it encrypted, and can be read and deleted', async () => {
    const { url } = hook();
    const created = await subscribe(admin, url, ['job.succeeded', 'budget.threshold']);
    expect(created.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(created.events).toEqual(['job.succeeded', 'budget.threshold']);
    const row = await env.DB.prepare('SELECT * FROM webhook_subscriptions WHERE id = ?')
      .bind(created.id)
      .first();
    expect(JSON.stringify(row)).not.toContain(created.secret);
    expect(JSON.stringify(row)).not.toContain(created.secret.slice(6));

    const got = await api(`/v1/webhooks/${created.id}`, admin);
    expect(got.status).toBe(200);
    const body: unknown = await got.json();
    expect(body).not.toHaveProperty('secret');
    expect(WebhookSchema.parse(body).url).toBe(url);
    const listed = await api('/v1/webhooks', admin);
    expect(JSON.stringify(await listed.json())).not.toContain(created.secret);

    expect((await api(`/v1/webhooks/${created.id}`, admin, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/v1/webhooks/${created.id}`, admin)).status).toBe(404);
    expect((await api(`/v1/webhooks/${created.id}`, admin, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuse unknown events, bad URLs and more than 20 per tenant', async () => {
    const bad = [
      { url: hook().url, events: ['job.exploded'] },
      { url: hook().url, events: [] },
      { url: hook().url, events: ['job.failed', 'job.failed'] },
      { url: 'ftp://example.com/x', events: ['job.failed'] },
      { url: 'http://example.com/hook', events: ['job.failed'] },
      { url: 'https://169.254.169.254/latest', events: ['job.failed'] },
      { url: 'https://10.0.0.1/hook', events: ['job.failed'] },
      { url: 'https://127.0.0.1.nip.io/hook', events: ['job.failed'] },
      { url: hook().url, events: ['job.failed'], secret: 'mine' },
    ];
    for (const body of bad) {
      const res = await api('/v1/webhooks', admin, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const other = await newTenant('owner');
    for (let i = 0; i < 20; i++) await subscribe(other.apiKey, hook().url, ['job.failed']);
    const res = await api('/v1/webhooks', other.apiKey, {
      method: 'POST',
      body: JSON.stringify({ url: hook().url, events: ['job.failed'] }),
    });
    expect(res.status).toBe(409);
  });

  it('keep their secret through a key rotation (re-encrypted under the new key)', async () => {
    const created = await subscribe(admin, hook().url, ['job.failed']);
    const rotated = {
      ...env,
      SECRETS_KEYS: JSON.stringify({
        ...z.record(z.string(), z.string()).parse(JSON.parse(env.SECRETS_KEYS)),
        rotated: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
      }),
      SECRETS_KEY_ID: 'rotated',
    };
    await expect.poll(async () => (await reencryptWebhookSecrets(rotated))?.reencrypted).toBe(0);
    const row = z
      .object({ key_id: z.string(), iv: z.string(), ciphertext: z.string() })
      .parse(
        await env.DB.prepare(
          'SELECT key_id, iv, ciphertext FROM webhook_subscriptions WHERE id = ?',
        )
          .bind(created.id)
          .first(),
      );
    expect(row.key_id).toBe('rotated');
    const keyring = await loadSecretsKeys(rotated);
    const sealed = { keyId: row.key_id, iv: row.iv, ciphertext: row.ciphertext };
    expect(await openSecret(keyring, tenantId, `webhook:${created.id}`, sealed)).toBe(
      created.secret,
    );
  });

  it('are not visible to another tenant', async () => {
    const created = await subscribe(admin, hook().url, ['job.failed']);
    const other = await newTenant('owner');
    expect((await api(`/v1/webhooks/${created.id}`, other.apiKey)).status).toBe(404);
    expect((await api(`/v1/webhooks/${created.id}/deliveries`, other.apiKey)).status).toBe(404);
  });
});

describe('the URL check in production', () => {
  const production = { ENVIRONMENT: 'production' };
  it('refuses loopback, private, link-local and metadata addresses, and plain http', () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'https://localhost/hook',
      'https://[::1]/hook',
      'https://192.168.1.10/hook',
      'https://10.1.2.3/hook',
      'https://169.254.10.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://metadata.google.internal/',
      'https://hooks.internal/',
      'http://hooks.example.com/',
    ]) {
      expect(webhookUrlProblem(new URL(url), production), url).not.toBeNull();
    }
    expect(webhookUrlProblem(new URL('https://hooks.example.com/omni'), production)).toBeNull();
  });

  it('allows http to loopback in development only', () => {
    const url = new URL('http://127.0.0.1:8080/hook');
    expect(webhookUrlProblem(url, { ENVIRONMENT: 'development' })).toBeNull();
    expect(webhookUrlProblem(url, production)).not.toBeNull();
  });
});

describe('deliveries', () => {
  it("sign a job's start and end, which the documented check verifies", async () => {
    const { name, url } = hook();
    const sub = await subscribe(admin, url, ['job.started', 'job.succeeded', 'job.failed']);
    const job = await createJob(admin, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    expect((await waitForEnd(admin, job.id)).status).toBe('succeeded');
    await expect.poll(async () => (await received(name)).length, { timeout: 20_000 }).toBe(2);
    const requests = await received(name);
    const events = requests.map((r) => r.headers['x-omni-event']);
    expect(events.sort()).toEqual(['job.started', 'job.succeeded']);
    for (const request of requests) {
      const header = request.headers['x-omni-signature'] ?? '';
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verify(sub.secret, header, request.body, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verify(sub.secret, header, `${request.body} `, Math.floor(Date.now() / 1000))).toBe(
        false,
      );
      expect(verify('whsec_other', header, request.body, Math.floor(Date.now() / 1000))).toBe(
        false,
      );
      expect(request.headers['x-omni-delivery']).toMatch(/^whd_[0-9a-f]{32}$/);
      const payload = z
        .object({
          id: z.string(),
          type: z.string(),
          tenant_id: z.string(),
          data: z.object({ job: z.object({ id: z.string(), status: z.string() }) }),
        })
        .parse(JSON.parse(request.body));
      expect(payload.tenant_id).toBe(tenantId);
      expect(payload.data.job.id).toBe(job.id);
      expect(payload.data.job.status).toBe(
        payload.type === 'job.started' ? 'running' : 'succeeded',
      );
      expect(request.body).not.toContain('"command":');
    }
    await expect
      .poll(async () => (await deliveries(admin, sub.id)).map((d) => d.status), { timeout: 20_000 })
      .toEqual(['delivered', 'delivered']);
  });

  it('are retried while the receiver fails, and every attempt is recorded', async () => {
    const { name, url } = hook();
    await failNext(name, 2, 500);
    const sub = await subscribe(admin, url, ['job.failed']);
    const job = await createJob(admin, { repo: { url: env.FIXTURE_REPO_URL }, command: 'exit 3' });
    expect((await waitForEnd(admin, job.id)).status).toBe('failed');
    await expect
      .poll(async () => (await deliveries(admin, sub.id))[0]?.status, { timeout: 20_000 })
      .toBe('delivered');
    const [delivery] = await deliveries(admin, sub.id);
    expect(delivery?.attempts).toBe(3);
    expect(delivery?.last_status_code).toBe(204);
    expect(delivery?.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 204]);
    const requests = await received(name);
    expect(requests.map((r) => r.status)).toEqual([500, 500, 204]);
    expect(new Set(requests.map((r) => r.headers['x-omni-delivery']))).toEqual(
      new Set([delivery?.id]),
    );
  });

  it('stop and disable the subscription when the receiver answers 410', async () => {
    const { name, url } = hook();
    await failNext(name, 1, 410);
    const sub = await subscribe(admin, url, ['job.failed']);
    const job = await createJob(admin, { repo: { url: env.FIXTURE_REPO_URL }, command: 'exit 1' });
    await waitForEnd(admin, job.id);
    await expect
      .poll(async () => (await deliveries(admin, sub.id))[0]?.status, { timeout: 20_000 })
      .toBe('failed');
    const got = WebhookSchema.parse(await (await api(`/v1/webhooks/${sub.id}`, admin)).json());
    expect(got.disabled_at).not.toBeNull();
    expect(await received(name)).toHaveLength(1);
  });

  it('can be sent again, with the same delivery id and body', async () => {
    const { name, url } = hook();
    const sub = await subscribe(admin, url, ['job.succeeded']);
    const job = await createJob(admin, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    await waitForEnd(admin, job.id);
    await expect.poll(async () => (await received(name)).length, { timeout: 20_000 }).toBe(1);
    await expect
      .poll(async () => (await deliveries(admin, sub.id))[0]?.status, { timeout: 20_000 })
      .toBe('delivered');
    const [delivery] = await deliveries(admin, sub.id);
    if (!delivery) throw new Error('no delivery');
    const res = await api(`/v1/webhooks/${sub.id}/deliveries/${delivery.id}/redeliver`, admin, {
      method: 'POST',
    });
    expect(res.status).toBe(202);
    await expect.poll(async () => (await received(name)).length, { timeout: 20_000 }).toBe(2);
    const [first, second] = await received(name);
    expect(second?.headers['x-omni-delivery']).toBe(delivery.id);
    expect(second?.body).toBe(first?.body);
    const member = await addKey(tenantId, 'member');
    const refused = await api(
      `/v1/webhooks/${sub.id}/deliveries/${delivery.id}/redeliver`,
      member,
      { method: 'POST' },
    );
    expect(refused.status).toBe(403);
    const missing = await api(
      `/v1/webhooks/${sub.id}/deliveries/whd_${'0'.repeat(32)}/redeliver`,
      admin,
      { method: 'POST' },
    );
    expect(missing.status).toBe(404);
  });

  it("of a job's end are queued by a deadline that outlasts D1 failing, and sent once", async () => {
    const { name, url } = hook();
    const sub = await subscribe(admin, url, ['job.succeeded']);
    const spec = jobSpec(tenantId);
    const stub = env.JOB.getByName(spec.id);
    await stub.create(spec);
    expect((await waitForEnd(admin, spec.id)).status).toBe('succeeded');
    await expect.poll(async () => (await received(name)).length, { timeout: 20_000 }).toBe(1);
    // As if the end had been recorded while D1 was down: no delivery row, the deadline pending.
    await env.DB.prepare('DELETE FROM webhook_deliveries WHERE subscription_id = ?')
      .bind(sub.id)
      .run();
    const attempts = await runInDurableObject(stub, async (_, state) => {
      const store = new JobStorage(state.storage);
      store.setDeadline('webhook', Date.now());
      await new JobDO(state, { ...env, DB: failingD1(env.DB, allStatements) }).alarm();
      return store.deadlines().find((d) => d.kind === 'webhook')?.attempts;
    });
    expect(attempts).toBe(1);
    expect(await deliveries(admin, sub.id)).toEqual([]);
    // D1 is back when the retry comes: the event is queued and sent, under the same delivery id.
    await runInDurableObject(stub, (_, state) => {
      new JobStorage(state.storage).setDeadline('webhook', Date.now(), 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await expect.poll(async () => (await received(name)).length, { timeout: 20_000 }).toBe(2);
    const [first, second] = await received(name);
    expect(second?.headers['x-omni-delivery']).toBe(first?.headers['x-omni-delivery']);
    const pending = await runInDurableObject(stub, (_, state) =>
      new JobStorage(state.storage).deadlines().map((d) => d.kind),
    );
    expect(pending).not.toContain('webhook');
    // Queued again, nothing new is sent: the delivery exists.
    await runInDurableObject(stub, (_, state) => {
      new JobStorage(state.storage).setDeadline('webhook', Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await deliveries(admin, sub.id)).toHaveLength(1);
  });

  it('are queued once per event, however often the event is queued', async () => {
    const { url } = hook();
    const sub = await subscribe(admin, url, ['budget.threshold']);
    const event = {
      tenantId,
      type: 'budget.threshold' as const,
      source: `budget:test:${crypto.randomUUID()}`,
      occurredAt: Date.now(),
      data: { budget: { threshold_percent: 80 } },
    };
    await queueWebhookEvent(env, event);
    await queueWebhookEvent(env, event);
    const rows = await env.DB.prepare(
      'SELECT COUNT(*) AS n FROM webhook_deliveries WHERE subscription_id = ?',
    )
      .bind(sub.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });

  it('are listed page by page, newest first', async () => {
    const sub = await subscribe(admin, hook().url, ['budget.threshold']);
    for (let i = 0; i < 3; i++) {
      await queueWebhookEvent(env, {
        tenantId,
        type: 'budget.threshold',
        source: `budget:test:${crypto.randomUUID()}`,
        occurredAt: Date.now(),
        data: { budget: { threshold_percent: 80 + i } },
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await api(`/v1/webhooks/${sub.id}/deliveries?limit=2${query}`, admin);
      expect(res.status).toBe(200);
      const page = DeliveryListSchema.parse(await res.json());
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((d) => d.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);
  });

  it('go only to subscriptions that existed when the event happened', async () => {
    const { url } = hook();
    const sub = await subscribe(admin, url, ['budget.threshold']);
    await queueWebhookEvent(env, {
      tenantId,
      type: 'budget.threshold',
      source: `budget:test:${crypto.randomUUID()}`,
      occurredAt: Date.now() - 60_000,
      data: {},
    });
    expect(await deliveries(admin, sub.id)).toEqual([]);
  });
});
