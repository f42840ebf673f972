/**
 * Request and response schemas of /v1/webhooks (docs/webhooks.md). A subscription's secret
 * appears in one answer only: the one that created it.
 */
import { z } from '@hono/zod-openapi';
import { webhookEvents } from '../db/schema.ts';
import { nextCursor, pageQuery } from './page.ts';

/** Subscriptions one tenant may have. */
export const MAX_WEBHOOKS_PER_TENANT = 20;

const idPattern = /^wh_[0-9a-f]{32}$/;
const deliveryPattern = /^whd_[0-9a-f]{32}$/;

export const WebhookParamsSchema = z.object({
  id: z
    .string()
    .regex(idPattern, 'must be a webhook id (wh_…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'wh_0123456789abcdef0123456789abcdef' }),
});

export const DeliveryParamsSchema = WebhookParamsSchema.extend({
  delivery: z
    .string()
    .regex(deliveryPattern, 'must be a delivery id (whd_…)')
    .openapi({ param: { name: 'delivery', in: 'path' } }),
});

export const CreateWebhookBodySchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .openapi({
        description:
          'Where deliveries are POSTed: https, a public host (no private, loopback, link-local or metadata address).',
        example: 'https://hooks.example.com/omni',
      }),
    events: z
      .array(z.enum(webhookEvents))
      .min(1)
      .max(webhookEvents.length)
      .refine((list) => new Set(list).size === list.length, 'must not repeat an event')
      .openapi({ example: ['job.succeeded', 'job.failed'] }),
    description: z.string().max(200).optional(),
  })
  .openapi('CreateWebhook');

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: 'wh_0123456789abcdef0123456789abcdef' }),
    url: z.string(),
    events: z.array(z.enum(webhookEvents)),
    description: z.string().nullable(),
    created_at: z.iso.datetime(),
    created_by: z.string().nullable(),
    disabled_at: z.iso
      .datetime()
      .nullable()
      .openapi({ description: 'Set when the receiver answered 410 Gone: nothing more is sent.' }),
  })
  .openapi('Webhook');

export type Webhook = z.infer<typeof WebhookSchema>;

export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().openapi({
    description: 'The signing secret (whsec_…). Shown only in this answer: store it now.',
  }),
}).openapi('CreatedWebhook');

export const WebhookListSchema = z
  .object({ data: z.array(WebhookSchema), next_cursor: nextCursor })
  .openapi('WebhookList');

export const ListWebhooksQuerySchema = z.strictObject(pageQuery);

export const DeliverySchema = z
  .object({
    id: z.string(),
    subscription_id: z.string(),
    event_id: z.string(),
    event: z.enum(webhookEvents),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_attempt_at: z.iso.datetime().nullable(),
    next_attempt_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    payload: z.unknown().openapi({ description: 'The body that is sent, parsed.' }),
    attempt_log: z
      .array(
        z.object({
          at: z.iso.datetime(),
          status_code: z.number().int().nullable(),
          error: z.string().nullable(),
          duration_ms: z.number().int(),
        }),
      )
      .openapi({ description: 'The latest attempts, oldest first (at most 30).' }),
  })
  .openapi('WebhookDelivery');

export type Delivery = z.infer<typeof DeliverySchema>;

export const DeliveryListSchema = z
  .object({ data: z.array(DeliverySchema), next_cursor: nextCursor })
  .openapi('WebhookDeliveryList');
