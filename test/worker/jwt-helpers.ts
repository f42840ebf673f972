/**
 * Helpers of the JWT tests (jwt-secret.test.ts, jwt-jwks.test.ts): the test identity provider's
 * settings and signing keys (the private keys of test/jwks-server.ts), valid claims, signed and
 * unsecured tokens, and calls to the app with JWT settings in its bindings.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  base64url,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';
import { expect } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import { JobListSchema, JobSchema } from '../../worker/schemas/jobs.ts';
import { ProblemSchema } from '../../worker/schemas/problem.ts';
import { api, waitForEnd } from './helpers.ts';

export const ISSUER = 'https://idp.omni.test/';
export const AUDIENCE = 'omni-api';
export const SECRET = 'a shared secret of the tests, 32 bytes or more';

const privateJwkSchema = z.object({
  kid: z.string(),
  alg: z.enum(['RS256', 'ES256']),
  kty: z.enum(['RSA', 'EC']),
  crv: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
  d: z.string(),
  p: z.string().optional(),
  q: z.string().optional(),
  dp: z.string().optional(),
  dq: z.string().optional(),
  qi: z.string().optional(),
});

/** The JWKS server's private keys (kids `rs-1` and `es-1`). */
export const privateJwks = z
  .object({ keys: z.array(privateJwkSchema) })
  .parse(JSON.parse(env.TEST_JWT_PRIVATE_JWKS)).keys;

/** Strings that must never appear in an answer: the secret and every key parameter. */
const keyMaterial = [
  SECRET,
  ...privateJwks.flatMap((k) => [k.n, k.x, k.y, k.d, k.p, k.q, k.dp, k.dq, k.qi]),
].filter((s): s is string => typeof s === 'string');

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  key: CryptoKey;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const jwk = privateJwks.find((k) => k.kid === kid);
  if (!jwk) throw new Error(`the JWKS server has no key ${kid}`);
  const key = await importJWK(jwk, jwk.alg);
  if (key instanceof Uint8Array) throw new Error(`${kid} is not an asymmetric key`);
  return { kid, alg: jwk.alg, key };
}

/** The keys the JWKS server publishes, ready to sign with. */
export const signingKeys: Record<'RS256' | 'ES256', SigningKey> = {
  RS256: await signingKey('rs-1'),
  ES256: await signingKey('es-1'),
};

export const now = () => Math.floor(Date.now() / 1000);

/** Claims of a valid member token for `tenantId`; an `undefined` override removes the claim. */
export function validClaims(tenantId: string, overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    iat: now(),
    exp: now() + 300,
    tenant_id: tenantId,
    role: 'member',
    ...overrides,
  };
}

function sign(
  payload: JWTPayload,
  key: CryptoKey | Uint8Array,
  header: JWTHeaderParameters,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** `payload` signed with HS256 and `secret`. */
export const hs256 = (payload: JWTPayload, secret = SECRET) =>
  sign(payload, new TextEncoder().encode(secret), { alg: 'HS256', typ: 'JWT' });

/** `payload` signed with `k`, naming `kid` in the header. */
export const withKey = (k: SigningKey, payload: JWTPayload, kid = k.kid) =>
  sign(payload, k.key, { alg: k.alg, kid, typ: 'JWT' });

/** An unsecured JWT (`alg: none`), built by hand since no library signs one. */
export function unsecured(payload: JWTPayload): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

const app = createApp();

/** Calls the app with `bindings`, as the runtime would, and waits for its background work. */
export async function call(
  bindings: object,
  token: string | null,
  path = '/v1/jobs',
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const ctx = createExecutionContext();
  const res = await app.request(`https://omni.test${path}`, { ...init, headers }, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** POST /v1/jobs of a job that ends at once. */
export const postJob = (bindings: object, token: string) =>
  call(bindings, token, '/v1/jobs', {
    method: 'POST',
    body: JSON.stringify({ repo: { url: env.FIXTURE_REPO_URL }, command: 'true' }),
  });

/**
 * Asserts a problem answer with `status` and `code` that reveals no key material (nor the
 * signature of `token`), and returns it.
 */
export async function expectSafeProblem(
  res: Response,
  status: number,
  code: string,
  token?: string,
) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  for (const secret of keyMaterial) expect(text).not.toContain(secret);
  const signature = token?.split('.')[2];
  if (signature) expect(text).not.toContain(signature);
  const problem = ProblemSchema.parse(JSON.parse(text));
  expect(problem.code).toBe(code);
  return problem;
}

/** Asserts that `token` gets a 401 whose detail matches `detail`. */
export async function expectRejected(bindings: object, token: string, detail: RegExp) {
  const problem = await expectSafeProblem(await call(bindings, token), 401, 'unauthorized', token);
  expect(problem.detail).toMatch(detail);
}

/** The job is the tenant's: its API key sees it, alone and in the list. Waits for its end. */
export async function expectVisibleToApiKey(apiKey: string, jobId: string) {
  const res = await api(`/v1/jobs/${jobId}`, apiKey);
  expect(res.status).toBe(200);
  expect(JobSchema.parse(await res.json()).id).toBe(jobId);
  const list = JobListSchema.parse(await (await api('/v1/jobs?limit=100', apiKey)).json());
  expect(list.data.map((j) => j.id)).toContain(jobId);
  await waitForEnd(apiKey, jobId);
}
