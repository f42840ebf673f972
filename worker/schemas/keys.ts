/**
 * Request and response schemas of /v1/keys. A key's secret appears only in `CreatedKeySchema`,
 * the answer to creating or rotating a key; nothing else can ever return it.
 */
import { z } from '@hono/zod-openapi';
import { roles } from '../db/schema.ts';
import { describeScopes, scopes } from '../lib/scopes.ts';
import { nextCursor, pageQuery } from './page.ts';

export const RoleSchema = z.enum(roles).openapi('Role', {
  description: 'Weakest first: viewer < member < admin < owner.',
});

const ScopesSchema = z.array(z.enum(scopes)).openapi({
  description: `Derived from the role: ${describeScopes()}.`,
});

/** Longest grace period of a rotated key: one week. */
const MAX_GRACE_SECONDS = 7 * 24 * 3600;

export const CreateKeyBodySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).openapi({ example: 'ci' }),
    role: RoleSchema,
  })
  .openapi('CreateKey');

export const RotateKeyBodySchema = z
  .strictObject({
    grace_seconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(0).openapi({
      description:
        'How long the old key keeps working, in seconds; 0 (the default) refuses it at once.',
    }),
  })
  .openapi('RotateKey');

const timestamp = z.iso.datetime().nullable();

const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: 'key_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f' }),
    name: z.string(),
    prefix: z.string().openapi({
      description: 'The first characters of the key, to recognise it; never enough to use it.',
      example: 'omni_Ab3dE6g',
    }),
    role: RoleSchema,
    effective_role: RoleSchema.nullable().openapi({
      description:
        "What the key can do now: its role capped by the standing of the key or member that made it (docs/identity.md). Null if it has none: revoked, expired, or its maker's standing is gone.",
    }),
    scopes: ScopesSchema,
    created_at: z.iso.datetime(),
    created_by: z.string().nullable().openapi({
      description:
        'Who made the key: `key:<id>`, `user:<subject>` or `cli:<user>`; it caps the key.',
    }),
    last_used_at: timestamp.openapi({ description: 'Updated at most once a minute.' }),
    expires_at: timestamp.openapi({ description: 'Set when the key was rotated.' }),
    revoked_at: timestamp,
  })
  .openapi('ApiKey');

export type ApiKey = z.infer<typeof ApiKeySchema>;

export const CreatedKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    role: RoleSchema,
    scopes: ScopesSchema,
    created_at: z.iso.datetime(),
    key: z.string().openapi({
      description: 'The key itself. It is shown only here, once: store it now.',
      example: 'omni_Ab3dE6gHiJkLmNoPqRsTuVwXyZ012345Ab3dE6',
    }),
  })
  .openapi('CreatedKey');

export type CreatedKey = z.infer<typeof CreatedKeySchema>;

export const RotatedKeySchema = CreatedKeySchema.extend({
  replaced: z
    .object({ id: z.string(), expires_at: z.iso.datetime() })
    .openapi({ description: 'The old key and when it stops working.' }),
}).openapi('RotatedKey');

export const KeyListSchema = z
  .object({ data: z.array(ApiKeySchema), next_cursor: nextCursor })
  .openapi('KeyList');

export const KeyIdParamsSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({
      param: { name: 'id', in: 'path' },
      example: 'key_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f',
    }),
});

export const ListKeysQuerySchema = z.strictObject(pageQuery);
