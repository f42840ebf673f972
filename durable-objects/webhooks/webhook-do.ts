/**
 * WebhookDO: one per tenant (named by its id), the sender of its webhook deliveries. The queue
 * itself is D1's `webhook_deliveries` (queue.ts fills it); this object's
 * alarm sends what is due, records each attempt, and sleeps until the next retry is due. Alarms
 * run one at a time per object, so a delivery is never sent by two invocations at once.
 */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import {
  disableSubscription,
  nextDueAt,
  readDue,
  recordAttempt,
  type DueDelivery,
} from '../../worker/db/webhooks.ts';
import { outboundUrlProblem } from '../../worker/lib/hosts.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { loadSecretsKeys, openSecret } from '../../worker/lib/secrets-crypto.ts';
import { signatureHeader } from '../../worker/lib/webhook-signing.ts';
import { DELIVERY_TIMEOUT_MS, nextStep, type AttemptOutcome } from './decisions.ts';

const TENANT_KEY = 'tenant';
/** Deliveries read and sent at once, and batches per alarm run before it yields. */
const BATCH = 10;
const ROUNDS = 5;
/** When D1 fails, the next try. */
const D1_RETRY_MS = 30_000;

const settingsSchema = z.object({
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().min(0).default(60),
});

export class WebhookDO extends DurableObject<Env> {
  /** Deliveries of `tenantId` may be due: send them now (idempotent). */
  async wake(tenantId: string): Promise<void> {
    if ((await this.ctx.storage.get<string>(TENANT_KEY)) !== tenantId) {
      await this.ctx.storage.put(TENANT_KEY, tenantId);
    }
    const alarm = await this.ctx.storage.getAlarm();
    const now = Date.now();
    if (alarm === null || alarm > now) await this.ctx.storage.setAlarm(now);
  }

  override async alarm(): Promise<void> {
    const tenantId = await this.ctx.storage.get<string>(TENANT_KEY);
    if (typeof tenantId !== 'string') return;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const due = await readDue(this.env.DB, tenantId, Date.now(), BATCH);
        await Promise.all(due.map((item) => this.attempt(item)));
        if (due.length < BATCH) break;
      }
      const next = await nextDueAt(this.env.DB, tenantId);
      if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
    } catch (error) {
      log('warn', 'webhook deliveries failed; will retry', {
        tenant_id: tenantId,
        ...errorFields(error),
      });
      await this.ctx.storage.setAlarm(Date.now() + D1_RETRY_MS);
    }
  }

  /** Sends one delivery and records the attempt. */
  private async attempt(item: DueDelivery): Promise<void> {
    const { delivery } = item;
    const started = Date.now();
    const { outcome, error } = await this.send(item);
    const now = Date.now();
    const attempts = delivery.attempts + 1;
    const step =
      item.disabled || item.url === null
        ? ({ status: 'failed', disable: false } as const)
        : nextStep(outcome, attempts, now, this.retryBaseMs());
    await recordAttempt(this.env.DB, delivery, {
      status: step.status,
      attempts,
      nextAttemptAt: step.status === 'pending' ? step.nextAttemptAt : null,
      entry: { at: now, status_code: outcome.statusCode, error, duration_ms: now - started },
    });
    if (step.status === 'failed' && step.disable) {
      await disableSubscription(this.env.DB, delivery.tenantId, delivery.subscriptionId, now);
    }
    log(step.status === 'pending' ? 'warn' : 'info', 'webhook attempt', {
      tenant_id: delivery.tenantId,
      subscription_id: delivery.subscriptionId,
      delivery_id: delivery.id,
      event: delivery.event,
      attempts,
      status_code: outcome.statusCode ?? undefined,
      outcome: step.status,
      duration_ms: now - started,
    });
  }

  /** POSTs the delivery's payload, signed; never follows a redirect. */
  private async send(
    item: DueDelivery,
  ): Promise<{ outcome: AttemptOutcome; error: string | null }> {
    const { delivery, url, sealed } = item;
    const none = { statusCode: null };
    if (url === null || sealed === null) return { outcome: none, error: 'subscription deleted' };
    if (item.disabled) return { outcome: none, error: 'subscription disabled' };
    const problem = outboundUrlProblem(new URL(url), {
      development: this.env.ENVIRONMENT === 'development',
      allowPrivate: false,
    });
    if (problem !== null) return { outcome: none, error: `url ${problem}` };
    let secret: string;
    try {
      const keyring = await loadSecretsKeys(this.env);
      secret = await openSecret(
        keyring,
        delivery.tenantId,
        `webhook:${delivery.subscriptionId}`,
        sealed,
      );
    } catch (error) {
      log('error', 'webhook secret does not decrypt', errorFields(error));
      return { outcome: none, error: 'the signing secret could not be read' };
    }
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Omni-Webhooks/1',
          'x-omni-event': delivery.event,
          'x-omni-delivery': delivery.id,
          'x-omni-signature': await signatureHeader(secret, timestamp, delivery.payload),
        },
        body: delivery.payload,
      });
      // The body is not read: only the status counts.
      await response.body?.cancel();
      return { outcome: { statusCode: response.status }, error: null };
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      return {
        outcome: none,
        error: timedOut
          ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`
          : `network error: ${error instanceof Error ? error.message : String(error)}`.slice(
              0,
              300,
            ),
      };
    }
  }

  private retryBaseMs(): number {
    const parsed = settingsSchema.safeParse(this.env);
    return (parsed.success ? parsed.data.WEBHOOK_RETRY_BASE_SECONDS : 60) * 1000;
  }
}
