/**
 * The `env` of a job: how a request gives it (a literal or `{ "secret": "NAME" }` per variable)
 * and how a job shows it (names, and for secrets the secret's name; never a value).
 */
import { z } from '@hono/zod-openapi';
import { MAX_ENV_ENTRIES, MAX_ENV_LITERAL_BYTES, RESERVED_ENV_PREFIX } from '../domain/env.ts';
import { EnvNameSchema, utf8Bytes } from './secrets.ts';

const LiteralSchema = z
  .string()
  .refine(
    (s) => utf8Bytes(s) <= MAX_ENV_LITERAL_BYTES,
    `must be at most ${MAX_ENV_LITERAL_BYTES} bytes`,
  )
  .refine((s) => !s.includes('\0'), 'must not contain NUL characters');

const SecretRefSchema = z.strictObject({ secret: EnvNameSchema }).openapi({
  description: 'The value of the tenant secret of this name (PUT /v1/secrets/{name}).',
});

export const JobEnvBodySchema = z
  .record(EnvNameSchema, z.union([LiteralSchema, SecretRefSchema]))
  .superRefine((env, ctx) => {
    const names = Object.keys(env);
    if (names.length > MAX_ENV_ENTRIES) {
      ctx.addIssue({ code: 'custom', message: `must have at most ${MAX_ENV_ENTRIES} variables` });
    }
    for (const name of names.filter((n) => n.startsWith(RESERVED_ENV_PREFIX))) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `names starting with ${RESERVED_ENV_PREFIX} are reserved for Omni`,
      });
    }
  })
  .openapi('JobEnv', {
    description: `Environment variables of the command: name → a literal value (at most ${MAX_ENV_LITERAL_BYTES} bytes) or { "secret": "NAME" }. At most ${MAX_ENV_ENTRIES}; names like shell variables (A-Z, 0-9, _), none starting with ${RESERVED_ENV_PREFIX}. Values reach the command's environment, never its text; secret values are masked (***) in the output (docs/secrets.md).`,
    example: { LOG_LEVEL: 'debug', GITHUB_TOKEN: { secret: 'GITHUB_TOKEN' } },
  });

export const JobEnvViewSchema = z
  .array(
    z.object({
      name: z.string(),
      secret: z
        .string()
        .nullable()
        .openapi({ description: 'The secret it comes from; null for a literal value.' }),
    }),
  )
  .openapi('JobEnvVariables', {
    description:
      "The variables of the job's env, by name. Values are never shown, not even literal ones; a variable from a secret names the secret. Present when the job is read one at a time (not in lists).",
  });

export type JobEnvView = z.infer<typeof JobEnvViewSchema>;

/** What a job shows of its env: names in order, and the secret each comes from. */
export function toEnvView(env: Record<string, string | { secret: string }>): JobEnvView {
  return Object.keys(env)
    .sort()
    .map((name) => {
      const value = env[name];
      return {
        name,
        secret: value === undefined || typeof value === 'string' ? null : value.secret,
      };
    });
}
