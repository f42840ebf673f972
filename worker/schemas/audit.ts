/** Response and query schemas of /v1/audit, the tenant's audit log. */
import { z } from '@hono/zod-openapi';
import { auditActions } from '../db/audit.ts';
import { nextCursor, pageQuery } from './page.ts';

const AuditActionSchema = z.enum(auditActions).openapi('AuditAction');

const AuditEntrySchema = z
  .object({
    id: z.string(),
    time: z.iso.datetime(),
    actor: z.string().openapi({ description: '`key:<key id>` or `user:<subject>`.' }),
    action: z.string().openapi({ example: 'key.create' }),
    target: z
      .string()
      .nullable()
      .openapi({ description: 'What was acted on: a key, member or job.' }),
    request_id: z.string().openapi({
      description: 'The id the server gave the request that did it (its X-Request-Id).',
    }),
    ip: z.string().nullable(),
    details: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'Action-specific; never a secret.' }),
  })
  .openapi('AuditEntry');

export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AuditListSchema = z
  .object({ data: z.array(AuditEntrySchema), next_cursor: nextCursor })
  .openapi('AuditList');

export const ListAuditQuerySchema = z.strictObject({
  ...pageQuery,
  action: AuditActionSchema.optional().openapi({ description: 'Only entries of this action.' }),
});
