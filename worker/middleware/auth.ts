/**
 * Authentication (`Authorization: Bearer <API key | JWT>`) and role checks. API keys are hashed
 * and looked up (worker/db/keys.ts); JWTs are verified with jose and mapped to a tenant and a
 * role (worker/db/members.ts). Neither is ever logged or echoed.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { loadJwtConfig } from '../auth-config.ts';
import { findActiveKeyByHash, touchKey } from '../db/keys.ts';
import { findSubjectStanding } from '../db/members.ts';
import { viewerStands } from '../db/standing.ts';
import { roles, type Role } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { hashApiKey, isWellFormedApiKey } from '../lib/api-keys.ts';
import { verifyJwt } from '../lib/jwt.ts';
import { verifyStreamToken, viewerOf } from '../lib/stream-token.ts';
import type { AppEnv, Caller } from '../types.ts';

/** `last_used_at` is written at most this often per key, off the request's path. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The bearer token of the request, or null. */
function bearerToken(c: Context<AppEnv>): string | null {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

async function callerFromApiKey(c: Context<AppEnv>, key: string): Promise<Caller> {
  // A key of the wrong shape or with a wrong checksum cannot exist: no database read.
  if (!isWellFormedApiKey(key)) {
    throw new ApiError(
      'unauthorized',
      'The API key is malformed or mistyped; check that it was copied whole.',
    );
  }
  const hash = await hashApiKey(key);
  const row = await findActiveKeyByHash(c.env.DB, hash);
  const now = Date.now();
  // A key without a standing (revoked, expired, or made by a key or member that no longer has
  // one: worker/db/key-chain.ts) is refused like an unknown one.
  if (!row || (row.validUntil !== null && row.validUntil <= now)) {
    throw new ApiError(
      'unauthorized',
      'The API key is not valid, has been revoked, or has expired.',
    );
  }
  if (row.lastUsedAt === null || row.lastUsedAt < now - LAST_USED_RESOLUTION_MS) {
    row.lastUsedAt = now;
    // Off the request's path; a lost write only makes `last_used_at` a little older.
    c.executionCtx.waitUntil(touchKey(c.env.DB, row.id, now).catch(() => undefined));
  }
  return {
    tenantId: row.tenantId,
    role: row.role,
    actor: `key:${row.id}`,
    keyId: row.id,
    grant: { kind: 'key', depth: row.depth },
  };
}

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

async function callerFromJwt(c: Context<AppEnv>, token: string): Promise<Caller> {
  const config = loadJwtConfig(c.env);
  if (!config) {
    throw new ApiError('unauthorized', 'JWTs are not accepted here; use an API key.');
  }
  const claims = await verifyJwt(token, config);
  const tenantId = claims[config.tenantClaim];
  const subject = claims.sub ?? '';
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw new ApiError(
      'unauthorized',
      `The token was rejected: it has no "${config.tenantClaim}" claim.`,
    );
  }
  const membership = await findSubjectStanding(c.env.DB, tenantId, subject);
  if (!membership) {
    throw new ApiError('unauthorized', 'The token was rejected: its tenant is not known.');
  }
  // A membership set by the tenant's owners wins over the identity provider's claim.
  const claimed = claims[config.roleClaim];
  const role = membership.role ?? (isRole(claimed) ? claimed : null);
  if (!role) {
    throw new ApiError('forbidden', `You have no role in this tenant; ask an owner to add you.`);
  }
  return {
    tenantId,
    role,
    actor: `user:${subject}`,
    keyId: null,
    grant: membership.role ? { kind: 'member' } : { kind: 'claim' },
  };
}

/** A `?token=` is accepted on the stream endpoint only, and must be a stream token. */
async function callerFromStreamToken(c: Context<AppEnv>, token: string): Promise<Caller> {
  if (token.startsWith('omni_')) {
    throw new ApiError(
      'unauthorized',
      'Never put an API key in a URL: it ends up in logs. Get a stream token from POST /v1/jobs/{id}/stream-token.',
    );
  }
  const stream = /^\/v1\/jobs\/([^/]+)\/stream$/.exec(c.req.path);
  if (!stream?.[1]) {
    throw new ApiError(
      'unauthorized',
      'A token in the URL is only accepted by GET /v1/jobs/{id}/stream.',
    );
  }
  const caller = await verifyStreamToken(c.env, token, stream[1]);
  // The token outlives the request that got it: its key or membership must still stand.
  if (!(await viewerStands(c.env.DB, caller.tenantId, viewerOf(caller)))) {
    throw new ApiError(
      'unauthorized',
      'The credentials this stream token was issued to have been revoked.',
    );
  }
  return caller;
}

/**
 * Rejects the request with 401 unless it carries a valid API key or JWT (or, on the stream
 * endpoint, a stream token in `?token=`).
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const streamToken = c.req.query('token');
  if (streamToken !== undefined) {
    c.set('caller', await callerFromStreamToken(c, streamToken));
    await next();
    return;
  }
  const started = performance.now();
  const token = bearerToken(c);
  if (!token) {
    throw new ApiError(
      'unauthorized',
      'Send an API key or a JWT in the header "Authorization: Bearer <token>".',
    );
  }
  const caller = token.startsWith('omni_')
    ? await callerFromApiKey(c, token)
    : token.split('.').length === 3
      ? await callerFromJwt(c, token)
      : null;
  if (!caller)
    throw new ApiError('unauthorized', 'The bearer token is neither an Omni API key nor a JWT.');
  c.set('caller', caller);
  // What authentication cost this request (workerd's clock advances across I/O such as the D1
  // lookup); `npm run bench` reads it to compare with the whole request.
  c.header('Server-Timing', `auth;dur=${(performance.now() - started).toFixed(1)}`);
  await next();
});

/** True if `role` is `min` or stronger. */
export function hasRole(role: Role, min: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(min);
}

/** Rejects the request with 403 unless the caller's role is `min` or stronger. */
export function requireRole(min: Role) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { role } = c.var.caller;
    if (!hasRole(role, min)) {
      throw new ApiError('forbidden', `This needs the ${min} role or higher; you have ${role}.`);
    }
    await next();
  });
}
