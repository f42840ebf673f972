/**
 * Short-lived, job-scoped tokens for the WebSocket stream. Browsers cannot set headers on a
 * WebSocket, and an API key must never travel in a URL, so an authenticated caller first gets
 * a token (POST /v1/jobs/{id}/stream-token) and opens `/stream?token=…` with it. The token is an
 * HS256 JWT signed with STREAM_TOKEN_SECRET, valid for one job and one minute, and only while
 * the key or membership it was issued to stands (the auth middleware checks; so does the Job DO
 * for the socket it opened, see durable-objects/job/sockets.ts).
 */
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { Role } from '../db/schema.ts';
import { ConfigError } from '../config.ts';
import { ApiError } from '../errors.ts';
import type { Viewer } from '../db/standing.ts';
import type { Caller, Grant } from '../types.ts';

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
  const token = await new SignJWT({ tid: caller.tenantId, job: jobId, grant: caller.grant.kind })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(caller.actor)
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .sign(secret(env));
  return { token, expiresAt: expiresAt * 1000 };
}

const claimsSchema = z.object({
  tid: z.string(),
  job: z.string(),
  sub: z.string(),
  grant: z.enum(['key', 'member', 'claim']),
});

/** Who a caller is, as an open stream remembers it (worker/db/standing.ts checks it). */
export function viewerOf(caller: Caller): Viewer {
  return { actor: caller.actor, grant: caller.grant.kind };
}

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
    // The stream needs only the viewer role. A key's depth does not matter here: only whether
    // the key still stands, which the caller checks.
    const grant: Grant =
      claims.grant === 'key' ? { kind: 'key', depth: 0 } : { kind: claims.grant };
    return {
      tenantId: claims.tid,
      role,
      actor: claims.sub,
      keyId: null,
      grant,
    };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof errors.JWTExpired) {
      throw new ApiError('unauthorized', 'The stream token has expired; get a new one.');
    }
    throw new ApiError('unauthorized', 'The stream token is not valid.');
  }
}
