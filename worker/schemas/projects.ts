/**
 * Request and response schemas of /v1/projects, and the conversions between the API's spelling
 * of a sandbox shape (snake_case) and the one stored and handed to the Job DO
 * (worker/domain/sandbox-shape.ts). The operator's limits are checked by the handlers, which know
 * the configuration; these schemas bound every input on their own.
 */
import { z } from '@hono/zod-openapi';
import {
  cidrSchema,
  MAX_NETWORK_CIDRS,
  type NetworkPolicy,
  type ProjectSandbox,
  type SandboxShape,
} from '../domain/sandbox-shape.ts';
import { nextCursor, pageQuery } from './page.ts';

/** Most entries of a project's repository allow-list. */
export const MAX_ALLOW_LIST = 50;
/** The largest monthly budget a project may have, in US dollars. */
const MAX_BUDGET_USD = 1_000_000;
/** The largest auto-stop or auto-delete interval the API accepts at all (a year, in minutes). */
const MAX_MINUTES = 525_600;

const NetworkSchema = z
  .union([
    z.literal('open'),
    z.literal('block_all'),
    z.strictObject({ allow_list: z.array(cidrSchema).min(1).max(MAX_NETWORK_CIDRS) }),
  ])
  .openapi('NetworkPolicy', {
    description: `"open" (no restriction), "block_all" (no network at all, which also stops the clone), or { "allow_list": [IPv4 CIDRs] } (at most ${MAX_NETWORK_CIDRS}, Daytona's limit): only those networks are reachable.`,
    example: { allow_list: ['140.82.112.0/20'] },
  });

const wholeAtLeast = (min: number, max: number) => z.number().int().min(min).max(max);

/** A project's sandbox settings as the API takes them; each one left out takes the default. */
export const ProjectSandboxSchema = z
  .strictObject({
    cpu: wholeAtLeast(1, 1024).optional().openapi({ description: 'vCPUs.' }),
    memory_gib: wholeAtLeast(1, 1024).optional().openapi({ description: 'Memory in GiB.' }),
    disk_gib: wholeAtLeast(1, 10_240).optional().openapi({ description: 'Disk in GiB.' }),
    auto_stop_minutes: wholeAtLeast(1, MAX_MINUTES).optional().openapi({
      description: 'Minutes without activity after which Daytona stops the sandbox.',
    }),
    auto_delete_minutes: wholeAtLeast(0, MAX_MINUTES).optional().openapi({
      description: 'Minutes after a stop after which Daytona deletes the sandbox; 0: at once.',
    }),
    network: NetworkSchema.optional(),
  })
  .openapi('ProjectSandbox', {
    description:
      "The shape of the sandboxes of the project's jobs. Settings left out take the operator's defaults; none may exceed the operator's limits.",
  });

export type ProjectSandboxBody = z.infer<typeof ProjectSandboxSchema>;

/** Everything a sandbox shape has, as answers show it. */
const SandboxShapeSchema = z
  .object({
    cpu: z.number().int(),
    memory_gib: z.number().int(),
    disk_gib: z.number().int(),
    auto_stop_minutes: z.number().int(),
    auto_delete_minutes: z.number().int(),
    network: NetworkSchema,
  })
  .openapi('SandboxShape');

const name = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
  // Spelled out: the generator would write the regex's flags into the pattern ("…$/u").
  .openapi({ example: 'web', pattern: '^[^\\p{Cc}]*$' });

const budget = z.number().min(0).max(MAX_BUDGET_USD).openapi({
  description: 'US dollars per calendar month (UTC); null: no project budget.',
  example: 250,
});

const allowList = z
  .array(z.string().min(1).max(2048))
  .max(MAX_ALLOW_LIST)
  .openapi({
    description: `Repository URL prefixes the project's jobs may clone (at most ${MAX_ALLOW_LIST}); empty: every repository the service allows. A prefix matches a URL equal to it, or continuing it after a "/".`,
    example: ['https://github.com/acme/'],
  });

export const CreateProjectBodySchema = z
  .strictObject({
    name,
    monthly_budget_usd: budget.nullable().optional(),
    repo_allow_list: allowList.optional(),
    sandbox: ProjectSandboxSchema.optional(),
  })
  .openapi('CreateProject');

export type CreateProjectBody = z.infer<typeof CreateProjectBodySchema>;

export const UpdateProjectBodySchema = z
  .strictObject({
    name: name.optional(),
    monthly_budget_usd: budget.nullable().optional(),
    repo_allow_list: allowList.optional(),
    sandbox: ProjectSandboxSchema.nullable().optional().openapi({
      description: "Replaces the project's sandbox settings as a whole; null: the defaults.",
    }),
  })
  .openapi('UpdateProject');

export type UpdateProjectBody = z.infer<typeof UpdateProjectBodySchema>;

export const ProjectSchema = z
  .object({
    id: z.string().openapi({ example: 'prj_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f' }),
    name: z.string(),
    is_default: z.boolean().openapi({
      description: 'The project of jobs that name none. Every tenant has exactly one.',
    }),
    monthly_budget_usd: z.number().nullable(),
    repo_allow_list: z.array(z.string()),
    sandbox: ProjectSandboxSchema.openapi({ description: 'What the project sets.' }),
    sandbox_effective: SandboxShapeSchema.openapi({
      description:
        "What a job of the project created now gets: the project's settings and the operator's defaults.",
    }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Project');

export type ProjectBody = z.infer<typeof ProjectSchema>;

export const ProjectListSchema = z
  .object({ data: z.array(ProjectSchema), next_cursor: nextCursor })
  .openapi('ProjectList');

export const ProjectIdParamsSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({
      param: { name: 'id', in: 'path' },
      example: 'prj_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f',
    }),
});

export const ListProjectsQuerySchema = z.strictObject(pageQuery);

function networkFromApi(network: z.infer<typeof NetworkSchema>): NetworkPolicy {
  return typeof network === 'string' ? network : { allowList: network.allow_list };
}

function networkToApi(network: NetworkPolicy): z.infer<typeof NetworkSchema> {
  return typeof network === 'string' ? network : { allow_list: network.allowList };
}

/** The API's sandbox settings as stored. */
export function sandboxFromApi(body: ProjectSandboxBody): ProjectSandbox {
  const stored: ProjectSandbox = {};
  if (body.cpu !== undefined) stored.cpu = body.cpu;
  if (body.memory_gib !== undefined) stored.memoryGiB = body.memory_gib;
  if (body.disk_gib !== undefined) stored.diskGiB = body.disk_gib;
  if (body.auto_stop_minutes !== undefined) stored.autoStopMinutes = body.auto_stop_minutes;
  if (body.auto_delete_minutes !== undefined) stored.autoDeleteMinutes = body.auto_delete_minutes;
  if (body.network !== undefined) stored.network = networkFromApi(body.network);
  return stored;
}

/** Stored sandbox settings as the API shows them. */
export function sandboxToApi(stored: ProjectSandbox | null): ProjectSandboxBody {
  const body: ProjectSandboxBody = {};
  if (!stored) return body;
  if (stored.cpu !== undefined) body.cpu = stored.cpu;
  if (stored.memoryGiB !== undefined) body.memory_gib = stored.memoryGiB;
  if (stored.diskGiB !== undefined) body.disk_gib = stored.diskGiB;
  if (stored.autoStopMinutes !== undefined) body.auto_stop_minutes = stored.autoStopMinutes;
  if (stored.autoDeleteMinutes !== undefined) body.auto_delete_minutes = stored.autoDeleteMinutes;
  if (stored.network !== undefined) body.network = networkToApi(stored.network);
  return body;
}

/** A resolved shape as the API shows it. */
export function shapeToApi(shape: SandboxShape): z.infer<typeof SandboxShapeSchema> {
  return {
    cpu: shape.cpu,
    memory_gib: shape.memoryGiB,
    disk_gib: shape.diskGiB,
    auto_stop_minutes: shape.autoStopMinutes,
    auto_delete_minutes: shape.autoDeleteMinutes,
    network: networkToApi(shape.network),
  };
}
