/**
 * GitHub deliveries for the workerd tests: real payloads from @octokit/webhooks-examples with
 * some fields changed, signed the way GitHub signs them (HMAC-SHA256 of the body with the
 * webhook secret, hex, `sha256=` prefix), posted to `POST /webhooks/github`.
 */
import examples from '@octokit/webhooks-examples';
import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { z } from 'zod';
import { api } from './helpers.ts';

const JsonObject = z.record(z.string(), z.unknown());
type JsonObject = Record<string, unknown>;

/**
 * A copy of the `index`th example of `event` with `action` (the examples of events without an
 * action, such as `ping`, match `action` undefined).
 */
export function example(event: string, action?: string, index = 0): JsonObject {
  const definition = examples.find((d) => d.name === event);
  const matching = (definition?.examples ?? []).filter((e) =>
    action === undefined ? true : 'action' in e && e.action === action,
  );
  const picked = matching[index];
  if (!picked) throw new Error(`no example ${index} of ${event}.${action ?? ''}`);
  return JsonObject.parse(structuredClone(picked));
}

/** `base` with `changes` merged in, object by object (an array or a value replaces). */
export function merged(base: JsonObject, changes: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    const inner = JsonObject.safeParse(out[key]);
    const change = JsonObject.safeParse(value);
    out[key] =
      inner.success && change.success && !Array.isArray(value)
        ? merged(inner.data, change.data)
        : value;
  }
  return out;
}

/** The X-Hub-Signature-256 of `body` made with `secret`, computed here, as GitHub does. */
export async function signature(body: string | Uint8Array, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, bytes));
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export interface DeliverOptions {
  deliveryId?: string;
  /** The secret to sign with (default: GITHUB_WEBHOOK_SECRET); null: send no signature. */
  secret?: string | null;
  /** A signature to send as it is, instead of one computed. */
  signatureHeader?: string;
  /** Extra or replaced headers. */
  headers?: Record<string, string>;
}

/** Posts `payload` (an object, or exact body text) as GitHub delivers event `event`. */
export async function deliver(
  event: string,
  payload: JsonObject | string,
  options: DeliverOptions = {},
): Promise<{ res: Response; deliveryId: string }> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const deliveryId = options.deliveryId ?? crypto.randomUUID();
  const headers = new Headers({
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'x-github-hook-id': '1',
    'x-github-hook-installation-target-type': 'integration',
    'x-github-hook-installation-target-id': env.GITHUB_APP_ID,
  });
  const secret = options.secret === undefined ? env.GITHUB_WEBHOOK_SECRET : options.secret;
  if (options.signatureHeader !== undefined) {
    headers.set('x-hub-signature-256', options.signatureHeader);
  } else if (secret !== null) {
    headers.set('x-hub-signature-256', await signature(body, secret));
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  const res = await exports.default.fetch(
    new Request('https://omni.test/webhooks/github', { method: 'POST', headers, body }),
  );
  return { res, deliveryId };
}

/** A fresh installation id, unique to the test that takes it. */
export function newInstallationId(): number {
  return 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
}

/** PUT /v1/github/installations/{id} with `body`; asserts 200 or 201. */
export async function mapInstallation(
  apiKey: string,
  installationId: number,
  body: JsonObject = {},
): Promise<void> {
  const res = await api(`/v1/github/installations/${installationId}`, apiKey, {
    method: 'PUT',
    body: JSON.stringify(body),
  });
  expect([200, 201], await res.clone().text()).toContain(res.status);
}

const DeliveryRowSchema = z.object({
  delivery_id: z.string(),
  event: z.string(),
  action: z.string().nullable(),
  installation_id: z.number().nullable(),
  tenant_id: z.string().nullable(),
  repository: z.string().nullable(),
  sender: z.string().nullable(),
  outcome: z.string(),
  reason: z.string().nullable(),
  job_id: z.string().nullable(),
});

/** The github_deliveries row of `deliveryId`, or null. */
export async function deliveryRow(deliveryId: string) {
  const row = await env.DB.prepare('SELECT * FROM github_deliveries WHERE delivery_id = ?')
    .bind(deliveryId)
    .first();
  return row === null ? null : DeliveryRowSchema.parse(row);
}
