/**
 * /v1/keys: create, list, revoke and rotate the tenant's API keys (admin or owner). A key's
 * secret is returned only by create and rotate, once; afterwards only its prefix is ever shown.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { MAX_KEY_DEPTH } from '../db/key-chain.ts';
import {
  effectiveRoles,
  findKey,
  insertKey,
  listKeys,
  revokeKey,
  rotateKey,
  type KeyRecord,
} from '../db/keys.ts';
import type { ApiKeyRow, Role } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../lib/api-keys.ts';
import { audit } from '../lib/audit.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { scopesOf } from '../lib/scopes.ts';
import { refuseLastOwner } from '../lib/last-owner.ts';
import { hasRole, requireRole } from '../middleware/auth.ts';
import {
  CreateKeyBodySchema,
  CreatedKeySchema,
  KeyIdParamsSchema,
  KeyListSchema,
  ListKeysQuerySchema,
  RotateKeyBodySchema,
  RotatedKeySchema,
  type ApiKey,
  type CreatedKey,
} from '../schemas/keys.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';
import { NoQuerySchema } from '../schemas/page.ts';

export const keyRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

keyRoutes.use('*', requireRole('admin'));

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** Renders a stored key as the API lists it: never the secret, never the hash. */
function toApiKey(row: KeyRecord, effectiveRole: Role | null): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    effective_role: effectiveRole,
    scopes: scopesOf(row.role),
    created_at: new Date(row.createdAt).toISOString(),
    created_by: row.createdBy,
    last_used_at: iso(row.lastUsedAt),
    expires_at: iso(row.expiresAt),
    revoked_at: iso(row.revokedAt),
  };
}

/** A new key for the caller's tenant: the row to store and the one answer that shows it. */
async function newKey(
  c: Context<AppEnv>,
  name: string,
  role: Role,
  createdBy: string | null,
): Promise<{ row: ApiKeyRow; shown: CreatedKey }> {
  const key = generateApiKey();
  const row: ApiKeyRow = {
    id: `key_${crypto.randomUUID().replaceAll('-', '')}`,
    tenantId: c.var.caller.tenantId,
    name,
    prefix: apiKeyPrefix(key),
    keyHash: await hashApiKey(key),
    role,
    createdBy,
    createdAt: Date.now(),
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
  };
  const { id, prefix, createdAt } = row;
  const created_at = new Date(createdAt).toISOString();
  return { row, shown: { id, name, prefix, role, scopes: scopesOf(role), created_at, key } };
}

/**
 * The caller's key `id`, if the caller may manage it. A key of a stronger role than the
 * caller's is off limits: rotating it would hand the caller a stronger key.
 */
async function manageableKey(c: Context<AppEnv>, id: string): Promise<KeyRecord> {
  const { tenantId, role } = c.var.caller;
  const row = await findKey(c.env.DB, tenantId, id);
  if (!row) throw new ApiError('not_found', `No API key with id ${id}.`);
  if (!hasRole(role, row.role)) {
    throw new ApiError('forbidden', `This key has the ${row.role} role; you have ${role}.`);
  }
  return row;
}

const createKey = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createKey',
  tags: ['Keys'],
  summary: 'Create an API key',
  description:
    'The answer is the only time the key is shown. The role may not be stronger than your own.',
  security,
  request: {
    query: NoQuerySchema,
    body: { required: true, content: { 'application/json': { schema: CreateKeyBodySchema } } },
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: CreatedKeySchema } } },
    400: problem('Invalid body'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak, or a role stronger than your own was asked for', scopeChallenge),
  },
});

keyRoutes.openapi(createKey, async (c) => {
  const { name, role } = c.req.valid('json');
  const { role: mine, grant, actor } = c.var.caller;
  if (!hasRole(mine, role)) {
    throw new ApiError('forbidden', `You cannot create a ${role} key; your role is ${mine}.`);
  }
  // The new key is capped by its maker's standing (worker/db/key-chain.ts), which must be one
  // Omni can check later: a key, not too far down a chain, or a membership.
  if (grant.kind === 'claim') {
    throw new ApiError(
      'forbidden',
      "Your role comes from your token's role claim, which Omni cannot check once the token is gone; an owner must make you a member (PUT /v1/members/{subject}) before you can create keys.",
    );
  }
  if (grant.kind === 'key' && grant.depth + 1 > MAX_KEY_DEPTH) {
    throw new ApiError(
      'forbidden',
      `This key was made by a chain of ${grant.depth} keys; keys can be made at most ${MAX_KEY_DEPTH} keys deep. Create it with a key higher up the chain.`,
    );
  }
  const { row, shown } = await newKey(c, name, role, actor);
  await insertKey(c.env.DB, row);
  await audit(c, 'key.create', row.id, { name, role });
  return c.json(shown, 201);
});

const listKeysRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listKeys',
  tags: ['Keys'],
  summary: 'List API keys, newest first',
  description: 'Revoked and expired keys are listed too. Keys themselves are never shown.',
  security,
  request: { query: ListKeysQuerySchema },
  responses: {
    200: {
      description: 'A page of keys',
      content: { 'application/json': { schema: KeyListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

keyRoutes.openapi(listKeysRoute, async (c) => {
  const { limit, cursor } = c.req.valid('query');
  const { rows, next } = await listKeys(c.env.DB, c.var.caller.tenantId, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  const effective = await effectiveRoles(
    c.env.DB,
    c.var.caller.tenantId,
    rows.map((row) => row.id),
  );
  return c.json(
    {
      data: rows.map((row) => toApiKey(row, effective.get(row.id) ?? null)),
      next_cursor: next ? encodeCursor(next) : null,
    },
    200,
  );
});

const revokeKeyRoute = createRoute({
  method: 'delete',
  path: '/{id}',
  operationId: 'revokeKey',
  tags: ['Keys'],
  summary: 'Revoke an API key',
  description: 'The key is refused from now on. Revoking a revoked key changes nothing.',
  security,
  request: { params: KeyIdParamsSchema, query: NoQuerySchema },
  responses: {
    204: { description: 'Revoked' },
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak for this key', scopeChallenge),
    404: problem('No such key'),
  },
});

keyRoutes.openapi(revokeKeyRoute, async (c) => {
  const { id } = c.req.valid('param');
  const row = await manageableKey(c, id);
  const outcome = await refuseLastOwner(() =>
    revokeKey(c.env.DB, c.var.caller.tenantId, id, Date.now()),
  );
  if (outcome === 'revoked') {
    await audit(c, 'key.revoke', id, { name: row.name, role: row.role });
  }
  return c.body(null, 204);
});

const rotateKeyRoute = createRoute({
  method: 'post',
  path: '/{id}/rotate',
  operationId: 'rotateKey',
  tags: ['Keys'],
  summary: 'Rotate an API key',
  description:
    'Creates a new key with the same name and role, shown once, and makes the old key expire after grace_seconds (0: at once). A revoked, expired or already rotated key cannot be rotated.',
  security,
  request: {
    query: NoQuerySchema,
    params: KeyIdParamsSchema,
    body: { required: false, content: { 'application/json': { schema: RotateKeyBodySchema } } },
  },
  responses: {
    201: {
      description: 'The new key',
      content: { 'application/json': { schema: RotatedKeySchema } },
    },
    400: problem('Invalid body'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak for this key', scopeChallenge),
    404: problem('No such key'),
    409: problem('The key is revoked, expired or already rotated'),
  },
});

keyRoutes.openapi(rotateKeyRoute, async (c) => {
  const { id } = c.req.valid('param');
  // zod-openapi hands an optional body over unparsed ({}) when none was sent: parse it here so
  // the default applies.
  const { grace_seconds } = RotateKeyBodySchema.parse(c.req.valid('json'));
  const old = await manageableKey(c, id);
  const refusal = (what: string) =>
    new ApiError('conflict', `Key ${id} ${what}; create a new key instead.`);
  if (old.revokedAt !== null) throw refusal('is revoked');
  // expires_at is only ever set by a rotation: this key has a successor already.
  if (old.expiresAt !== null) throw refusal('has expired or was already rotated');
  // The successor is the same grant renewed: it keeps the old key's maker, and takes over the
  // keys the old one made.
  const { row, shown } = await newKey(c, old.name, old.role, old.createdBy);
  const expiresAt = row.createdAt + grace_seconds * 1000;
  if (!(await rotateKey(c.env.DB, c.var.caller.tenantId, id, row, expiresAt))) {
    throw refusal('was revoked or rotated by another request meanwhile');
  }
  await audit(c, 'key.rotate', id, {
    old_key_id: id,
    new_key_id: row.id,
    grace_seconds,
  });
  return c.json({ ...shown, replaced: { id, expires_at: new Date(expiresAt).toISOString() } }, 201);
});
