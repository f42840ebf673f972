/**
 * /v1/webhooks: the tenant's webhook subscriptions and their deliveries (admin or owner;
 * docs/webhooks.md). A subscription's secret is generated here, stored encrypted
 * (worker/lib/secrets-crypto.ts) and shown once, in the answer to its creation.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listDeliveries,
  listSubscriptions,
  requeueDelivery,
  type DeliveryInfo,
  type SubscriptionInfo,
} from '../db/webhooks.ts';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { outboundUrlProblem } from '../lib/hosts.ts';
import { loadSecretsKeys, sealSecret } from '../lib/secrets-crypto.ts';
import { newWebhookSecret } from '../lib/webhook-signing.ts';
import { requireRole } from '../middleware/auth.ts';
import { NoBodySchema, NoQuerySchema } from '../schemas/page.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import {
  CreatedWebhookSchema,
  CreateWebhookBodySchema,
  DeliveryListSchema,
  DeliveryParamsSchema,
  DeliverySchema,
  ListWebhooksQuerySchema,
  MAX_WEBHOOKS_PER_TENANT,
  WebhookListSchema,
  WebhookParamsSchema,
  WebhookSchema,
  type Delivery,
  type Webhook,
} from '../schemas/webhooks.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const webhookRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

webhookRoutes.use('*', requireRole('admin'));

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toWebhook(info: SubscriptionInfo): Webhook {
  return {
    id: info.id,
    url: info.url,
    events: info.eventList,
    description: info.description,
    created_at: new Date(info.createdAt).toISOString(),
    created_by: info.createdBy,
    disabled_at: iso(info.disabledAt),
  };
}

function toDelivery(info: DeliveryInfo): Delivery {
  // The body as it was sent: written by queue.ts from JSON.stringify, shown parsed.
  const payload: unknown = JSON.parse(info.payload);
  return {
    id: info.id,
    subscription_id: info.subscriptionId,
    event_id: info.eventId,
    event: info.event,
    status: info.status,
    attempts: info.attempts,
    last_status_code: info.lastStatusCode,
    last_error: info.lastError,
    last_attempt_at: iso(info.lastAttemptAt),
    next_attempt_at: iso(info.nextAttemptAt),
    created_at: new Date(info.createdAt).toISOString(),
    payload,
    attempt_log: info.attemptLog.map((entry) => ({
      ...entry,
      at: new Date(entry.at).toISOString(),
    })),
  };
}

/**
 * Why `url` may not receive webhooks, or null: https to a public host only; outside development
 * never this machine, a private network, a link-local or metadata address (worker/lib/hosts.ts).
 * The WebhookDO checks again before each attempt.
 */
export function webhookUrlProblem(url: URL, env: Pick<Env, 'ENVIRONMENT'>): string | null {
  return outboundUrlProblem(url, {
    development: env.ENVIRONMENT === 'development',
    allowPrivate: false,
  });
}

const createWebhookRoute = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createWebhook',
  tags: ['Webhooks'],
  summary: 'Subscribe a URL to events',
  description: `Answers with the subscription and its signing secret, which is never shown again. At most ${MAX_WEBHOOKS_PER_TENANT} subscriptions per tenant.`,
  security,
  request: {
    query: NoQuerySchema,
    body: { required: true, content: { 'application/json': { schema: CreateWebhookBodySchema } } },
  },
  responses: {
    201: {
      description: 'Created',
      content: { 'application/json': { schema: CreatedWebhookSchema } },
    },
    400: problem('Invalid URL or events'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    409: problem('The tenant has the most subscriptions it may have'),
    503: problem('SECRETS_KEYS or SECRETS_KEY_ID is not configured'),
  },
});

webhookRoutes.openapi(createWebhookRoute, async (c) => {
  const body = c.req.valid('json');
  const url = new URL(body.url);
  const problemText = webhookUrlProblem(url, c.env);
  if (problemText !== null) {
    throw new ApiError('invalid_request', `url ${problemText}.`, [
      { path: 'url', message: problemText },
    ]);
  }
  const { tenantId, actor } = c.var.caller;
  const id = `wh_${crypto.randomUUID().replaceAll('-', '')}`;
  const secret = newWebhookSecret();
  const keyring = await loadSecretsKeys(c.env);
  const sealed = await sealSecret(keyring, tenantId, `webhook:${id}`, secret);
  const now = Date.now();
  const row = {
    id,
    tenantId,
    url: url.href,
    events: JSON.stringify(body.events),
    description: body.description ?? null,
    ...sealed,
    createdBy: actor,
    createdAt: now,
    disabledAt: null,
  };
  if (!(await createSubscription(c.env.DB, row, MAX_WEBHOOKS_PER_TENANT))) {
    throw new ApiError(
      'conflict',
      `A tenant may have at most ${MAX_WEBHOOKS_PER_TENANT} webhook subscriptions; delete one first.`,
    );
  }
  await audit(c, 'webhook.create', id, { url: url.origin, events: body.events });
  const info: SubscriptionInfo = { ...row, eventList: body.events };
  return c.json({ ...toWebhook(info), secret }, 201);
});

const listWebhooksRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listWebhooks',
  tags: ['Webhooks'],
  summary: 'List webhook subscriptions, newest first',
  security,
  request: { query: ListWebhooksQuerySchema },
  responses: {
    200: {
      description: 'A page of subscriptions',
      content: { 'application/json': { schema: WebhookListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

webhookRoutes.openapi(listWebhooksRoute, async (c) => {
  const { limit, cursor } = c.req.valid('query');
  const { rows, next } = await listSubscriptions(c.env.DB, c.var.caller.tenantId, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return c.json({ data: rows.map(toWebhook), next_cursor: next ? encodeCursor(next) : null }, 200);
});

const getWebhookRoute = createRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'getWebhook',
  tags: ['Webhooks'],
  summary: 'Get a webhook subscription',
  security,
  request: { params: WebhookParamsSchema, query: NoQuerySchema },
  responses: {
    200: {
      description: 'The subscription',
      content: { 'application/json': { schema: WebhookSchema } },
    },
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('No such subscription'),
  },
});

/** The caller's subscription `id`, or a 404. */
async function requireSubscription(
  env: Env,
  tenantId: string,
  id: string,
): Promise<SubscriptionInfo> {
  const info = await getSubscription(env.DB, tenantId, id);
  if (!info) throw new ApiError('not_found', `No webhook subscription ${id}.`);
  return info;
}

webhookRoutes.openapi(getWebhookRoute, async (c) => {
  const { id } = c.req.valid('param');
  return c.json(toWebhook(await requireSubscription(c.env, c.var.caller.tenantId, id)), 200);
});

const deleteWebhookRoute = createRoute({
  method: 'delete',
  path: '/{id}',
  operationId: 'deleteWebhook',
  tags: ['Webhooks'],
  summary: 'Delete a webhook subscription',
  description: 'Its pending deliveries are dropped and its delivery history is deleted.',
  security,
  request: { params: WebhookParamsSchema, query: NoQuerySchema },
  responses: {
    204: { description: 'Deleted' },
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('No such subscription'),
  },
});

webhookRoutes.openapi(deleteWebhookRoute, async (c) => {
  const { id } = c.req.valid('param');
  if (!(await deleteSubscription(c.env.DB, c.var.caller.tenantId, id))) {
    throw new ApiError('not_found', `No webhook subscription ${id}.`);
  }
  await audit(c, 'webhook.delete', id);
  return c.body(null, 204);
});

const listDeliveriesRoute = createRoute({
  method: 'get',
  path: '/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags: ['Webhooks'],
  summary: "List a subscription's deliveries, newest first",
  security,
  request: { params: WebhookParamsSchema, query: ListWebhooksQuerySchema },
  responses: {
    200: {
      description: 'A page of deliveries',
      content: { 'application/json': { schema: DeliveryListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('No such subscription'),
  },
});

webhookRoutes.openapi(listDeliveriesRoute, async (c) => {
  const { id } = c.req.valid('param');
  const { limit, cursor } = c.req.valid('query');
  const { tenantId } = c.var.caller;
  await requireSubscription(c.env, tenantId, id);
  const { rows, next } = await listDeliveries(c.env.DB, tenantId, id, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return c.json({ data: rows.map(toDelivery), next_cursor: next ? encodeCursor(next) : null }, 200);
});

const redeliverRoute = createRoute({
  method: 'post',
  path: '/{id}/deliveries/{delivery}/redeliver',
  operationId: 'redeliverWebhookDelivery',
  tags: ['Webhooks'],
  summary: 'Send a delivery again',
  description:
    'Queues the delivery again, due now, with a fresh set of retries; the same body, event and delivery id are sent (with a new signature).',
  security,
  request: {
    params: DeliveryParamsSchema,
    query: NoQuerySchema,
    body: { required: false, content: { 'application/json': { schema: NoBodySchema } } },
  },
  responses: {
    202: { description: 'Queued', content: { 'application/json': { schema: DeliverySchema } } },
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('No such subscription or delivery'),
    409: problem('The subscription is disabled'),
  },
});

webhookRoutes.openapi(redeliverRoute, async (c) => {
  const { id, delivery } = c.req.valid('param');
  const { tenantId } = c.var.caller;
  const subscription = await requireSubscription(c.env, tenantId, id);
  if (subscription.disabledAt !== null) {
    throw new ApiError('conflict', `The webhook subscription ${id} is disabled.`);
  }
  const info = await requeueDelivery(c.env.DB, tenantId, id, delivery, Date.now());
  if (!info) throw new ApiError('not_found', `No delivery ${delivery} of ${id}.`);
  await c.env.WEBHOOKS.getByName(tenantId).wake(tenantId);
  await audit(c, 'webhook.redeliver', delivery, { subscription_id: id });
  return c.json(toDelivery(info), 202);
});
