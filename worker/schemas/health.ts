/** The readiness report of GET /health/ready (worker/services/readiness.ts). */
import { z } from '@hono/zod-openapi';
import { ProblemSchema } from './problem.ts';

const DependencyCheckSchema = z
  .object({
    status: z.enum(['up', 'down']),
    latency_ms: z.number().nonnegative(),
    error: z
      .string()
      .optional()
      .openapi({ description: 'What failed, in fixed words; only when down.' }),
  })
  .openapi('DependencyCheck');

const reportFields = {
  version: z
    .string()
    .openapi({ description: 'The deployed git commit (`OMNI_VERSION`), or "dev".' }),
  uptime_seconds: z
    .number()
    .int()
    .nonnegative()
    .openapi({
      description:
        'Seconds since this isolate started serving. Workers run in many short-lived isolates: ' +
        'this is the uptime of the one that answered, not of the service.',
    }),
  checks: z.object({ d1: DependencyCheckSchema, daytona: DependencyCheckSchema }),
};

export const ReadySchema = z
  .object({ status: z.literal('ready'), ...reportFields })
  .openapi('Readiness');

export const NotReadySchema = ProblemSchema.extend({
  down: z
    .array(z.enum(['d1', 'daytona']))
    .openapi({ description: 'The dependencies that are down.' }),
  ...reportFields,
}).openapi('NotReady');
