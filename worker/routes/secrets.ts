/**
 * /v1/secrets: the tenant's secrets (admin or owner). A value is stored encrypted
 * (worker/lib/secrets-crypto.ts) and never returned: answers show names and dates only, and the
 * audit log records the name. Jobs use secrets through their `env` (docs/secrets.md).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { deleteSecret, listSecrets, putSecret, type SecretInfo } from '../db/secrets.ts';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { loadSecretsKeys, sealSecret } from '../lib/secrets-crypto.ts';
import { requireRole } from '../middleware/auth.ts';
import { NoQuerySchema } from '../schemas/page.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import {
  ListSecretsQuerySchema,
  PutSecretBodySchema,
  SecretListSchema,
  SecretNameParamsSchema,
  SecretSchema,
  type Secret,
} from '../schemas/secrets.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const secretRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

secretRoutes.use('*', requireRole('admin'));

function toSecret(info: SecretInfo): Secret {
  return {
    name: info.name,
    created_at: new Date(info.createdAt).toISOString(),
    updated_at: new Date(info.updatedAt).toISOString(),
    created_by: info.createdBy,
  };
}

const putSecretRoute = createRoute({
  method: 'put',
  path: '/{name}',
  operationId: 'setSecret',
  tags: ['Secrets'],
  summary: 'Set a secret',
  description:
    'Stores the value encrypted (AES-GCM), creating the secret (201) or replacing its value (200). The answer, like every other, shows the name and dates only. Jobs that already started keep the value they started with.',
  security,
  request: {
    params: SecretNameParamsSchema,
    query: NoQuerySchema,
    body: { required: true, content: { 'application/json': { schema: PutSecretBodySchema } } },
  },
  responses: {
    200: { description: 'Replaced', content: { 'application/json': { schema: SecretSchema } } },
    201: { description: 'Created', content: { 'application/json': { schema: SecretSchema } } },
    400: problem('Invalid name or value'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    413: problem('Body too large'),
    503: problem('SECRETS_KEYS or SECRETS_KEY_ID is not configured'),
  },
});

secretRoutes.openapi(putSecretRoute, async (c) => {
  const { name } = c.req.valid('param');
  const { value } = c.req.valid('json');
  const { tenantId, actor } = c.var.caller;
  const keyring = await loadSecretsKeys(c.env);
  const sealed = await sealSecret(keyring, tenantId, name, value);
  const now = Date.now();
  const { outcome, info } = await putSecret(c.env.DB, {
    tenantId,
    name,
    ...sealed,
    createdBy: actor,
    createdAt: now,
    updatedAt: now,
  });
  await audit(c, 'secret.put', name, { name });
  return outcome === 'created' ? c.json(toSecret(info), 201) : c.json(toSecret(info), 200);
});

const listSecretsRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listSecrets',
  tags: ['Secrets'],
  summary: 'List secrets, newest first',
  description: 'Names and dates only; values are never shown.',
  security,
  request: { query: ListSecretsQuerySchema },
  responses: {
    200: {
      description: 'A page of secrets',
      content: { 'application/json': { schema: SecretListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

secretRoutes.openapi(listSecretsRoute, async (c) => {
  const { limit, cursor } = c.req.valid('query');
  const { rows, next } = await listSecrets(c.env.DB, c.var.caller.tenantId, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return c.json({ data: rows.map(toSecret), next_cursor: next ? encodeCursor(next) : null }, 200);
});

const deleteSecretRoute = createRoute({
  method: 'delete',
  path: '/{name}',
  operationId: 'deleteSecret',
  tags: ['Secrets'],
  summary: 'Delete a secret',
  description:
    'A job that refers to it and has not started yet fails with `secret_missing`; a running job keeps the value it started with.',
  security,
  request: { params: SecretNameParamsSchema, query: NoQuerySchema },
  responses: {
    204: { description: 'Deleted' },
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('No such secret'),
  },
});

secretRoutes.openapi(deleteSecretRoute, async (c) => {
  const { name } = c.req.valid('param');
  if (!(await deleteSecret(c.env.DB, c.var.caller.tenantId, name))) {
    throw new ApiError('not_found', `No secret named ${name}.`);
  }
  await audit(c, 'secret.delete', name, { name });
  return c.body(null, 204);
});
