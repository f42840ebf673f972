/**
 * Request and response schemas of /v1/secrets, and the names secrets and job environment
 * variables may have. No response schema has a field for a secret's value: it is never shown.
 */
import { z } from '@hono/zod-openapi';
import { ENV_NAME_PATTERN, MAX_SECRET_BYTES } from '../domain/env.ts';
import { nextCursor, pageQuery } from './page.ts';

export const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

/** A name as ENV_NAME_PATTERN allows it. */
export const EnvNameSchema = z
  .string()
  .regex(ENV_NAME_PATTERN, 'must be 1 to 128 of A-Z, 0-9 and _, not starting with a digit')
  .openapi({ example: 'GITHUB_TOKEN' });

export const SecretNameParamsSchema = z.object({
  name: EnvNameSchema.openapi({ param: { name: 'name', in: 'path' }, example: 'GITHUB_TOKEN' }),
});

export const PutSecretBodySchema = z
  .strictObject({
    value: z
      .string()
      .min(1)
      .refine((s) => utf8Bytes(s) <= MAX_SECRET_BYTES, `must be at most ${MAX_SECRET_BYTES} bytes`)
      .refine((s) => !s.includes('\0'), 'must not contain NUL characters')
      .openapi({
        description: `The secret, up to ${MAX_SECRET_BYTES} bytes of UTF-8. Stored encrypted; never shown again.`,
        example: 'ghp_…',
      }),
  })
  .openapi('PutSecret');

export const SecretSchema = z
  .object({
    name: z.string().openapi({ example: 'GITHUB_TOKEN' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime().openapi({ description: 'When the value was last set.' }),
    created_by: z.string().nullable().openapi({ description: 'The actor that created it.' }),
  })
  .openapi('Secret', { description: 'A secret: its name and dates. The value is never shown.' });

export type Secret = z.infer<typeof SecretSchema>;

export const SecretListSchema = z
  .object({ data: z.array(SecretSchema), next_cursor: nextCursor })
  .openapi('SecretList');

export const ListSecretsQuerySchema = z.strictObject(pageQuery);
