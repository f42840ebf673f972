/**
 * Request and response schemas of /v1/github (docs/github.md): an installation's mapping to a
 * project, with its triggers and agent options, and the deliveries the intake received.
 */
import { z } from '@hono/zod-openapi';
import { githubDeliveryOutcomes } from '../db/schema.ts';
import { GitHubInstallationSettingsSchema } from '../github/settings.ts';
import { nextCursor, pageQuery } from './page.ts';

export const InstallationParamsSchema = z.object({
  installation_id: z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({
      param: { name: 'installation_id', in: 'path' },
      description: "The App installation's id, as GitHub shows it (…/settings/installations/<id>).",
      example: 12345678,
    }),
});

export const PutInstallationBodySchema = z
  .strictObject({
    project_id: z.string().max(100).optional().openapi({
      description:
        "The project whose jobs the installation starts; default: the tenant's default project.",
      example: 'prj_0123456789abcdef0123456789abcdef',
    }),
    account_login: z
      .string()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub user or organisation login')
      .optional()
      .openapi({
        description: 'The account the App is installed on, for display.',
        example: 'acme',
      }),
    settings: GitHubInstallationSettingsSchema.optional().openapi({
      description: 'Triggers and agent options; omitted: the defaults (command and mention on).',
    }),
  })
  .openapi('PutGitHubInstallation');

export const InstallationSchema = z
  .object({
    installation_id: z.number().int().openapi({ example: 12345678 }),
    project_id: z.string(),
    account_login: z.string().nullable(),
    settings: GitHubInstallationSettingsSchema,
    created_at: z.iso.datetime(),
    created_by: z.string().nullable(),
    updated_at: z.iso.datetime(),
  })
  .openapi('GitHubInstallation');

export type Installation = z.infer<typeof InstallationSchema>;

export const InstallationListSchema = z
  .object({ data: z.array(InstallationSchema), next_cursor: nextCursor })
  .openapi('GitHubInstallationList');

export const ListInstallationsQuerySchema = z.strictObject(pageQuery);

export const ListDeliveriesQuerySchema = z.strictObject({
  ...pageQuery,
  outcome: z
    .enum(githubDeliveryOutcomes)
    .optional()
    .openapi({ description: 'Only deliveries of this outcome.' }),
});

export const GitHubDeliverySchema = z
  .object({
    id: z.string().openapi({ description: 'The X-GitHub-Delivery of the delivery.' }),
    event: z.string().openapi({ example: 'issue_comment' }),
    action: z.string().nullable().openapi({ example: 'created' }),
    installation_id: z.number().int().nullable(),
    repository: z.string().nullable().openapi({ example: 'acme/app' }),
    sender: z.string().nullable(),
    outcome: z.enum(githubDeliveryOutcomes).openapi({
      description:
        'accepted: handed over to start a job; job_created: the job was created; ignored: not a trigger (see reason); invalid: the payload failed validation; failed: it could not be handed over (a redelivery is handled again).',
    }),
    reason: z.string().nullable(),
    job_id: z.string().nullable(),
    received_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('GitHubDelivery');

export type GitHubDelivery = z.infer<typeof GitHubDeliverySchema>;

export const GitHubDeliveryListSchema = z
  .object({ data: z.array(GitHubDeliverySchema), next_cursor: nextCursor })
  .openapi('GitHubDeliveryList');
