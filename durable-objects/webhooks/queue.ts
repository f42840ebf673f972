/**
 * Queues webhook events (docs/webhooks.md): one delivery row in D1 per subscriber, then a nudge
 * to the tenant's WebhookDO, which sends them. Safe to call again for the same event: its id is
 * derived from its source, each delivery's id from the event and the subscription, and a row
 * already queued is left alone, so a caller that retries after a failure sends nothing twice.
 */
import { insertDeliveries, subscribersOf } from '../../worker/db/webhooks.ts';
import type { WebhookEvent } from '../../worker/db/schema.ts';
import { derivedId } from '../../worker/lib/webhook-signing.ts';

/** An event to queue. */
export interface WebhookEventInput {
  tenantId: string;
  type: WebhookEvent;
  /** What makes the event unique within the tenant, e.g. `job:<id>:job.started`. */
  source: string;
  /** When it happened (Unix ms): only subscriptions that existed then receive it. */
  occurredAt: number;
  /** The `data` of the body: ids, statuses, amounts. Never secrets, prompts or env values. */
  data: Record<string, unknown>;
}

/**
 * Queues `event` for the tenant's subscribers and wakes its WebhookDO.
 * @throws if D1 or the WebhookDO fails: the caller retries later (nothing is sent twice).
 */
export async function queueWebhookEvent(env: Env, event: WebhookEventInput): Promise<void> {
  const subscribers = await subscribersOf(env.DB, event.tenantId, event.type, event.occurredAt);
  if (subscribers.length === 0) return;
  const eventId = await derivedId('evt_', event.tenantId, event.source);
  const payload = JSON.stringify({
    id: eventId,
    type: event.type,
    created_at: new Date(event.occurredAt).toISOString(),
    tenant_id: event.tenantId,
    data: event.data,
  });
  const now = Date.now();
  const rows = await Promise.all(
    subscribers.map(async (subscriptionId) => ({
      id: await derivedId('whd_', subscriptionId, eventId),
      tenantId: event.tenantId,
      subscriptionId,
      eventId,
      event: event.type,
      payload,
      status: 'pending' as const,
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      lastAttemptAt: null,
      nextAttemptAt: now,
      history: '[]',
      createdAt: now,
      updatedAt: now,
    })),
  );
  await insertDeliveries(env.DB, rows);
  await env.WEBHOOKS.getByName(event.tenantId).wake(event.tenantId);
}
