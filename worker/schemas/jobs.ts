/**
 * Request and response schemas of the jobs API. The handlers validate with these and the
 * OpenAPI document at /openapi.json is generated from them, so the two cannot drift.
 */
import { z } from '@hono/zod-openapi';
import { jobEventTypes, jobStatuses } from '../domain/jobs.ts';
import { JobEnvBodySchema, JobEnvViewSchema } from './env.ts';

const JobStatusSchema = z.enum(jobStatuses).openapi('JobStatus');

export const JOB_ID_PATTERN = /^job_[0-9a-f]{32}$/;

export const CreateJobBodySchema = z
  .strictObject({
    repo: z.strictObject({
      url: z
        .string()
        .min(1)
        .max(2048)
        .openapi({ example: 'https://github.com/octocat/Hello-World.git' }),
      ref: z
        .string()
        .min(1)
        .max(255)
        .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'must be a branch or tag name')
        .optional()
        .openapi({ example: 'main' }),
    }),
    command: z
      .string()
      .min(1)
      .max(16_384)
      .refine((s) => !s.includes('\0'), 'must not contain NUL characters')
      .openapi({ description: 'Shell command run in the repository checkout.', example: 'ls -la' }),
    timeout_seconds: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: 'Wall-clock limit; defaults to the service setting.' }),
    project: z.string().min(1).max(100).optional().openapi({
      description:
        "The id of the project the job belongs to (its repository allow-list, sandbox shape and budget); default: the tenant's default project.",
      example: 'prj_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f',
    }),
    queue: z.boolean().optional().openapi({
      description:
        'If the tenant already runs its maximum of jobs: wait for a free slot (true) instead of being refused with 429 (false, the default). The time limit counts from creation.',
    }),
    env: JobEnvBodySchema.optional(),
  })
  .openapi('CreateJob');

export type CreateJobBody = z.infer<typeof CreateJobBodySchema>;

const timestamp = z.iso.datetime().nullable();

export const JobSchema = z
  .object({
    id: z.string().openapi({ example: 'job_0f8fad5bd9cb469fa16570867728950e' }),
    status: JobStatusSchema,
    repo: z.object({ url: z.string(), ref: z.string().nullable() }),
    command: z.string(),
    project_id: z.string().nullable().openapi({ description: 'The project the job belongs to.' }),
    timeout_seconds: z.number().int(),
    exit_code: z.number().int().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    created_at: z.iso.datetime(),
    provisioning_at: timestamp,
    cloning_at: timestamp,
    running_at: timestamp,
    finished_at: timestamp,
    duration_ms: z.number().int().nullable().openapi({ description: 'From creation to the end.' }),
    env: JobEnvViewSchema.optional(),
    links: z.object({ self: z.string(), events: z.string(), stream: z.string() }),
  })
  .openapi('Job');

export type Job = z.infer<typeof JobSchema>;

export const JobListSchema = z
  .object({ data: z.array(JobSchema), next_cursor: z.string().nullable() })
  .openapi('JobList');

const JobEventSchema = z
  .object({
    seq: z.number().int().positive(),
    type: z.enum(jobEventTypes),
    ts: z.iso.datetime(),
  })
  .catchall(z.unknown())
  .openapi('JobEvent', {
    description:
      'One entry of the job log. `status` carries `status` (and `error`), `stdout`/`stderr` carry `data`, `exit` carries `exit_code`.',
  });

export const JobEventPageSchema = z
  .object({ data: z.array(JobEventSchema), next_after: z.number().int().nullable() })
  .openapi('JobEventPage');

export const JobIdParamsSchema = z.object({
  id: z.string().openapi({
    param: { name: 'id', in: 'path' },
    example: 'job_0f8fad5bd9cb469fa16570867728950e',
  }),
});

export const ListJobsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  status: JobStatusSchema.optional(),
  project: z.string().min(1).max(100).optional().openapi({
    description: 'Only the jobs of this project (an id).',
  }),
});

export const EventsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const StreamQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  token: z.string().max(4096).optional().openapi({
    description:
      'A stream token from POST /v1/jobs/{id}/stream-token, for clients that cannot send headers.',
  }),
});

export const StreamTokenSchema = z
  .object({
    token: z.string(),
    expires_at: z.iso.datetime(),
    url: z.string().openapi({ description: 'The stream path with the token, ready to open.' }),
  })
  .openapi('StreamToken');
