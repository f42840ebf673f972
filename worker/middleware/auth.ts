/**
 * API key authentication: `Authorization: Bearer <key>`. The key is hashed and looked up in D1;
 * it is never logged or echoed.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { createMiddleware } from 'hono/factory';
import { apiKeys } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { API_KEY_PATTERN, hashApiKey } from '../lib/api-keys.ts';
import type { AppEnv } from '../types.ts';

/** Rejects the request with 401 unless it carries a valid, unrevoked API key. */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const key = match?.[1];
  if (!key) {
    throw new ApiError(
      'unauthorized',
      'Send your API key in the header "Authorization: Bearer <key>".',
    );
  }
  // A key of the wrong shape cannot exist: refuse it without a database read.
  if (!API_KEY_PATTERN.test(key)) {
    throw new ApiError(
      'unauthorized',
      'The API key is malformed; keys look like omni_ followed by 40 letters and digits.',
    );
  }
  const rows = await drizzle(c.env.DB)
    .select({ id: apiKeys.id, tenantId: apiKeys.tenantId })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, await hashApiKey(key)), isNull(apiKeys.revokedAt)))
    .limit(1);
  const row = rows[0];
  if (!row) throw new ApiError('unauthorized', 'The API key is not valid or has been revoked.');
  c.set('caller', { tenantId: row.tenantId, keyId: row.id });
  await next();
});
