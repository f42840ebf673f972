/**
 * Short-lived, job-scoped tokens for the WebSocket stream. Browsers cannot set headers on a
 * WebSocket, and an API key must never travel in a URL, so an authenticated caller first gets
 * a token (POST /v1/jobs/{id}/stream-token) and opens `/stream?token=…` with it. The token is an
 * HS256 JWT signed with STREAM_TOKEN_SECRET, valid for one job and one minute.
 */
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { Role } from '../db/schema.ts';
import { ConfigError } from '../config.ts';
import { ApiError } from '../errors.ts';
import type { Caller } from '../types.ts';

const STREAM_TOKEN_TTL_SECONDS = 60;
const ISSUER = 'omni';
const AUDIENCE = 'omni-stream';

function secret(env: object): Uint8Array {
  const parsed = z.object({ STREAM_TOKEN_SECRET: z.string().min(32) }).safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      'The setting STREAM_TOKEN_SECRET is missing or shorter than 32 characters.',
    );
  }
  return new TextEncoder().encode(parsed.data.STREAM_TOKEN_SECRET);
}

/** A token that lets its bearer watch `jobId` (and nothing else) for a minute. */
export async function issueStreamToken(
  env: object,
  caller: Caller,
  jobId: string,
): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = Math.floor(Date.now() / 1000) + STREAM_TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ tid: caller.tenantId, job: jobId })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(caller.actor)
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .sign(secret(env));
  return { token, expiresAt: expiresAt * 1000 };
}

const claimsSchema = z.object({ tid: z.string(), job: z.string(), sub: z.string() });

/** The caller a stream token stands for, if it is valid for `jobId`. */
export async function verifyStreamToken(
  env: object,
  token: string,
  jobId: string,
): Promise<Caller> {
  const key = secret(env);
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'sub'],
    });
    const claims = claimsSchema.parse(payload);
    if (claims.job !== jobId)
      throw new ApiError('unauthorized', 'The stream token is for another job.');
    const role: Role = 'viewer';
    return { tenantId: claims.tid, role, actor: claims.sub, keyId: null };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof errors.JWTExpired) {
      throw new ApiError('unauthorized', 'The stream token has expired; get a new one.');
    }
    throw new ApiError('unauthorized', 'The stream token is not valid.');
  }
}
