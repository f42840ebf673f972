/** Request and response schemas of /v1/tenant: the tenant's data export and its deletion. */
import { z } from '@hono/zod-openapi';

/** A row as D1 stores it: column names, times in Unix milliseconds. */
const StoredRowSchema = z.record(z.string(), z.unknown());

const StoredEventSchema = z
  .object({ seq: z.number().int(), type: z.string(), ts: z.iso.datetime() })
  .catchall(z.unknown())
  .openapi({ description: 'An event of the job as GET /v1/jobs/{id}/events shows it.' });

export const TenantExportSchema = z
  .object({
    format: z.literal('omni.tenant-export/1'),
    exported_at: z.iso.datetime(),
    tenant: StoredRowSchema.openapi({ description: 'The tenant row.' }),
    api_keys: z.array(StoredRowSchema).openapi({
      description: 'Every key, revoked and expired ones too; never the key or its hash.',
    }),
    memberships: z.array(StoredRowSchema),
    projects: z.array(StoredRowSchema).openapi({
      description:
        'Every project with its budget, repository allow-list and sandbox settings (JSON).',
    }),
    jobs: z.array(StoredRowSchema.and(z.object({ events: z.array(StoredEventSchema) }))).openapi({
      description: "Each job's row with its stored event log (status changes, output, exit).",
    }),
    idempotency_keys: z.array(StoredRowSchema),
    usage_ledger: z.array(StoredRowSchema).openapi({
      description:
        "The cost ledger: each job's lines (tokens per model, sandbox time), in micro USD.",
    }),
    budget_notices: z.array(StoredRowSchema).openapi({ description: 'Newest first.' }),
    tenant_budget: z.object({ monthly_budget_micro_usd: z.number().int().nullable() }),
    audit_log: z.array(StoredRowSchema).openapi({ description: 'Newest first.' }),
  })
  .openapi('TenantExport');

export const DeleteTenantBodySchema = z
  .strictObject({
    confirm: z.string().max(200).optional().openapi({
      description: 'The id of your tenant, to confirm that it is meant to be deleted.',
      example: 'ten_acme',
    }),
  })
  .openapi('DeleteTenant');

export const TenantDeletionSchema = z
  .object({
    status: z.literal('deleting'),
    tenant_id: z.string(),
    requested_at: z.iso
      .datetime()
      .openapi({ description: 'When the deletion was first asked for; a repeat changes nothing.' }),
  })
  .openapi('TenantDeletion');
