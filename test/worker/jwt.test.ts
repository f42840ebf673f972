/**
 * Bearer JWTs, verified with jose against a shared secret (HS256) or a JWKS (RS256, ES256, served
 * by test/jwks-server.ts). Every rejection is a 401 problem whose detail names the failed check and
 * shows no key material; a valid token maps to its tenant and a role.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
  base64url,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import { JobListSchema, JobSchema } from '../../worker/schemas/jobs.ts';
import { ProblemSchema } from '../../worker/schemas/problem.ts';
import { api, newTenant, waitForEnd } from './helpers.ts';

const app = createApp();
const ISSUER = 'https://idp.omni.test/';
const AUDIENCE = 'omni-api';
const SECRET = 'a shared secret of the tests, 32 bytes or more';

/** The Worker's bindings with JWTs verified against the shared secret. */
const secretEnv = { ...env, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_SECRET: SECRET };

/** The Worker's bindings with JWTs verified against key set `set` of the JWKS server. */
function jwksEnv(set: string, settings: Record<string, string> = {}) {
  const url = `${env.TEST_JWKS_URL}/sets/${set}/jwks.json`;
  return { ...env, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_URL: url, ...settings };
}

/** A key set nobody else uses: a cold cache in the Worker and its own fetch counter. */
const freshSet = () => `set-${crypto.randomUUID()}`;

async function jwksFetches(set: string): Promise<number> {
  const res = await fetch(`${env.TEST_JWKS_URL}/sets/${set}/fetches`);
  return z.object({ count: z.number() }).parse(await res.json()).count;
}

async function publish(set: string, kids: string[]): Promise<void> {
  const res = await fetch(`${env.TEST_JWKS_URL}/sets/${set}/kids`, {
    method: 'PUT',
    body: JSON.stringify(kids),
  });
  expect(res.status).toBe(204);
}

/** Makes key set `set` answer `status` with `body` instead of its keys. */
async function breakSet(set: string, status: number, body: string): Promise<void> {
  const res = await fetch(`${env.TEST_JWKS_URL}/sets/${set}/failure`, {
    method: 'PUT',
    body: JSON.stringify({ status, body }),
  });
  expect(res.status).toBe(204);
}

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
const privateJwks = z
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
const signingKeys: Record<'RS256' | 'ES256', SigningKey> = {
  RS256: await signingKey('rs-1'),
  ES256: await signingKey('es-1'),
};

async function signingKey(kid: string): Promise<SigningKey> {
  const jwk = privateJwks.find((k) => k.kid === kid);
  if (!jwk) throw new Error(`the JWKS server has no key ${kid}`);
  const key = await importJWK(jwk, jwk.alg);
  if (key instanceof Uint8Array) throw new Error(`${kid} is not an asymmetric key`);
  return { kid, alg: jwk.alg, key };
}

const now = () => Math.floor(Date.now() / 1000);

let tenantId: string;
let apiKey: string;
beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant('owner'));
});

/** Claims of a valid token for the test tenant; an `undefined` override removes the claim. */
function claims(overrides: JWTPayload = {}): JWTPayload {
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

const hs256 = (payload: JWTPayload = claims(), secret = SECRET) =>
  sign(payload, new TextEncoder().encode(secret), { alg: 'HS256', typ: 'JWT' });

const withKey = (k: SigningKey, payload: JWTPayload = claims(), kid = k.kid) =>
  sign(payload, k.key, { alg: k.alg, kid, typ: 'JWT' });

/** An unsecured JWT (`alg: none`), built by hand since no library signs one. */
function unsecured(payload: JWTPayload = claims()): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

/** Calls the app with `bindings`, as the runtime would, and waits for its background work. */
async function call(
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

const postJob = (bindings: object, token: string) =>
  call(bindings, token, '/v1/jobs', {
    method: 'POST',
    body: JSON.stringify({ repo: { url: env.FIXTURE_REPO_URL }, command: 'true' }),
  });

/** Asserts a problem answer with `status` and `code`, and that it reveals no key material. */
async function expectProblem(res: Response, status: number, code: string, token?: string) {
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

async function expectRejected(bindings: object, token: string, detail: RegExp) {
  const problem = await expectProblem(await call(bindings, token), 401, 'unauthorized', token);
  expect(problem.detail).toMatch(detail);
}

/** The job is the tenant's: its API key sees it, alone and in the list. */
async function expectVisibleToApiKey(jobId: string) {
  const res = await api(`/v1/jobs/${jobId}`, apiKey);
  expect(res.status).toBe(200);
  expect(JobSchema.parse(await res.json()).id).toBe(jobId);
  const list = JobListSchema.parse(await (await api('/v1/jobs?limit=100', apiKey)).json());
  expect(list.data.map((j) => j.id)).toContain(jobId);
  await waitForEnd(apiKey, jobId);
}

describe('shared secret (HS256)', () => {
  it('lists the tenant jobs with a valid token', async () => {
    const res = await call(secretEnv, await hs256());
    expect(res.status).toBe(200);
    JobListSchema.parse(await res.json());
  });

  it('creates a job with a member token, which the tenant API key then sees', async () => {
    const res = await postJob(secretEnv, await hs256(claims({ role: 'member' })));
    expect(res.status).toBe(201);
    await expectVisibleToApiKey(JobSchema.parse(await res.json()).id);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['alg none', async () => unsecured(), /algorithm/],
    ['an RS256 token', () => withKey(signingKeys.RS256), /algorithm is not allowed.*HS256/],
    ['a wrong issuer', () => hs256(claims({ iss: 'https://evil.test/' })), /issuer \(iss\)/],
    ['no issuer', () => hs256(claims({ iss: undefined })), /"iss"/],
    ['a wrong audience', () => hs256(claims({ aud: 'someone-else' })), /audience \(aud\)/],
    ['no exp', () => hs256(claims({ exp: undefined })), /"exp"/],
    ['an exp beyond the tolerance', () => hs256(claims({ exp: now() - 120 })), /expired \(exp\)/],
    ['an nbf in the future', () => hs256(claims({ nbf: now() + 600 })), /not valid yet \(nbf\)/],
    ['no sub', () => hs256(claims({ sub: undefined })), /"sub"/],
    ['another secret', () => hs256(claims(), `${SECRET} but another`), /signature/],
    ['a malformed token', async () => 'abc.def.ghi', /malformed/],
    ['no tenant claim', () => hs256(claims({ tenant_id: undefined })), /"tenant_id"/],
    ['an unknown tenant', () => hs256(claims({ tenant_id: 'ten_unknown' })), /tenant is not known/],
  ])('rejects %s with a 401 naming the check', async (_, token, detail) => {
    await expectRejected(secretEnv, await token(), detail);
  });

  it('accepts a token that expired within the clock tolerance (30 s by default)', async () => {
    const res = await call(secretEnv, await hs256(claims({ exp: now() - 10 })));
    expect(res.status).toBe(200);
  });

  it('uses JWT_CLOCK_TOLERANCE_SECONDS', async () => {
    const strict = { ...secretEnv, JWT_CLOCK_TOLERANCE_SECONDS: '0' };
    await expectRejected(strict, await hs256(claims({ exp: now() - 10 })), /expired \(exp\)/);
  });

  it.each([
    ['no role claim', undefined],
    ['a role claim that is not a role', 'superuser'],
  ])('answers 403 to a token with %s and no membership', async (_, role) => {
    const token = await hs256(claims({ sub: `user-${crypto.randomUUID()}`, role }));
    const problem = await expectProblem(await call(secretEnv, token), 403, 'forbidden', token);
    expect(problem.detail).toMatch(/no role/);
  });

  describe('a membership wins over the role claim', () => {
    async function member(role: string): Promise<string> {
      const subject = `user-${crypto.randomUUID()}`;
      await env.DB.prepare(
        'INSERT INTO memberships (tenant_id, subject, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      )
        .bind(tenantId, subject, role, Date.now(), Date.now())
        .run();
      return subject;
    }

    it('downgrades an owner claim to the viewer membership', async () => {
      const sub = await member('viewer');
      const token = await hs256(claims({ sub, role: 'owner' }));
      expect((await call(secretEnv, token)).status).toBe(200);
      const problem = await expectProblem(await postJob(secretEnv, token), 403, 'forbidden');
      expect(problem.detail).toContain('you have viewer');
    });

    it('upgrades a viewer claim to the member membership', async () => {
      const sub = await member('member');
      const res = await postJob(secretEnv, await hs256(claims({ sub, role: 'viewer' })));
      expect(res.status).toBe(201);
      await expectVisibleToApiKey(JobSchema.parse(await res.json()).id);
    });
  });

  it('reads the tenant and role from the claims JWT_TENANT_CLAIM and JWT_ROLE_CLAIM name', async () => {
    const custom = {
      ...secretEnv,
      JWT_TENANT_CLAIM: 'https://omni.test/tenant',
      JWT_ROLE_CLAIM: 'omni_role',
    };
    const token = await hs256(
      claims({ tenant_id: undefined, role: undefined, 'https://omni.test/tenant': tenantId }),
    );
    const problem = await expectProblem(await call(custom, token), 403, 'forbidden');
    expect(problem.detail).toMatch(/no role/);
    const withRole = claims({ 'https://omni.test/tenant': tenantId, omni_role: 'viewer' });
    expect((await call(custom, await hs256(withRole))).status).toBe(200);
    // The default claim names mean nothing under this configuration.
    await expectRejected(custom, await hs256(), /"https:\/\/omni\.test\/tenant"/);
  });

  it('refuses JWTs when no verification key is configured', async () => {
    await expectRejected(env, await hs256(), /JWTs are not accepted here/);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['a short JWT_SECRET', { JWT_SECRET: 'too short' }, /JWT_SECRET/],
    ['both a secret and a JWKS URL', { JWT_JWKS_URL: 'https://idp.omni.test/jwks' }, /not both/],
    ['no JWT_AUDIENCE', { JWT_AUDIENCE: '' }, /JWT_AUDIENCE/],
    ['alg none allowed', { JWT_ALGORITHMS: 'HS256,none' }, /none/],
  ])(
    'answers 503 naming the setting when JWTs are misconfigured: %s',
    async (_, settings, detail) => {
      const token = await hs256();
      const res = await call({ ...secretEnv, ...settings }, token);
      const problem = await expectProblem(res, 503, 'misconfigured', token);
      expect(problem.detail).toMatch(detail);
    },
  );
});

describe('JWKS (RS256, ES256)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(['RS256', 'ES256'] as const)('accepts a valid %s token', async (alg) => {
    const bindings = jwksEnv(freshSet());
    const res = await call(bindings, await withKey(signingKeys[alg]));
    expect(res.status).toBe(200);
  });

  it('creates a job with a member token, which the tenant API key then sees', async () => {
    const res = await postJob(jwksEnv(freshSet()), await withKey(signingKeys.ES256));
    expect(res.status).toBe(201);
    await expectVisibleToApiKey(JobSchema.parse(await res.json()).id);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['alg none', async () => unsecured(), /algorithm/],
    [
      // Algorithm confusion: an HMAC keyed with the public key, which anyone can fetch.
      'an HS256 token keyed with the public key',
      () => hs256(claims(), privateJwks.find((k) => k.kid === 'rs-1')?.n ?? ''),
      /algorithm is not allowed; accepted: RS256, ES256\./,
    ],
    ['a wrong issuer', () => withKey(signingKeys.RS256, claims({ iss: 'x' })), /issuer \(iss\)/],
    ['a wrong audience', () => withKey(signingKeys.ES256, claims({ aud: 'x' })), /audience/],
    ['no exp', () => withKey(signingKeys.RS256, claims({ exp: undefined })), /"exp"/],
    [
      'an exp beyond the tolerance',
      () => withKey(signingKeys.ES256, claims({ exp: now() - 120 })),
      /expired \(exp\)/,
    ],
    ['no sub', () => withKey(signingKeys.RS256, claims({ sub: undefined })), /"sub"/],
    [
      'a signature by another key with a known kid',
      async () => {
        const other = await generateKeyPair('ES256');
        return withKey({ kid: 'es-1', alg: 'ES256', key: other.privateKey });
      },
      /signature does not verify/,
    ],
    ['an unknown kid', () => withKey(signingKeys.RS256, claims(), 'rs-404'), /key id \(kid\)/],
    ['a malformed token', async () => 'abc.def.ghi', /malformed/],
  ])('rejects %s with a 401 naming the check', async (_, token, detail) => {
    const bindings = jwksEnv(freshSet(), { JWT_ALGORITHMS: 'RS256,ES256' });
    await expectRejected(bindings, await token(), detail);
  });

  it.each<[string, number, string]>([
    ['answers 500', 500, '{"error":"down"}'],
    ['answers text that is not JSON', 200, '<html>maintenance</html>'],
    ['answers JSON that is not a key set', 200, '{"keys":"none"}'],
  ])('answers 502, not a 401 blaming the token, when the JWKS %s', async (_, status, body) => {
    const set = freshSet();
    await breakSet(set, status, body);
    const token = await withKey(signingKeys.RS256);
    const problem = await expectProblem(await call(jwksEnv(set), token), 502, 'upstream_error');
    expect(problem.detail).toMatch(/JWKS/);
  });

  it('answers 502, not a 401 blaming the token, when the JWKS connection fails', async () => {
    const set = freshSet();
    await breakSet(set, 0, '');
    const token = await withKey(signingKeys.RS256);
    const problem = await expectProblem(await call(jwksEnv(set), token), 502, 'upstream_error');
    expect(problem.detail).toMatch(/JWKS/);
  });

  it('accepts a token that expired within the clock tolerance', async () => {
    const token = await withKey(signingKeys.RS256, claims({ exp: now() - 10 }));
    expect((await call(jwksEnv(freshSet()), token)).status).toBe(200);
  });

  it('accepts only the algorithms of JWT_ALGORITHMS', async () => {
    const bindings = jwksEnv(freshSet(), { JWT_ALGORITHMS: 'RS256' });
    expect((await call(bindings, await withKey(signingKeys.RS256))).status).toBe(200);
    await expectRejected(bindings, await withKey(signingKeys.ES256), /accepted: RS256\./);
  });

  it('fetches the key set once and serves later tokens from the cache', async () => {
    const set = freshSet();
    const bindings = jwksEnv(set);
    for (let i = 0; i < 5; i++) {
      expect((await call(bindings, await withKey(signingKeys.RS256))).status).toBe(200);
      expect((await call(bindings, await withKey(signingKeys.ES256))).status).toBe(200);
    }
    expect(await jwksFetches(set)).toBe(1);
  });

  it('answers a burst of unknown kids from the cache while it is fresh', async () => {
    const set = freshSet();
    const bindings = jwksEnv(set);
    expect((await call(bindings, await withKey(signingKeys.RS256))).status).toBe(200);
    const token = await withKey(signingKeys.RS256, claims(), 'rs-404');
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(bindings, token)));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 401));
    expect(await jwksFetches(set)).toBe(1);
  });

  it('refetches the key set for an unknown kid once the cooldown has passed (key rotation)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const set = freshSet();
    const bindings = jwksEnv(set);
    await publish(set, ['rs-1']);
    expect((await call(bindings, await withKey(signingKeys.RS256))).status).toBe(200);
    // The identity provider starts signing with a new key.
    await publish(set, ['rs-1', 'es-1']);
    vi.setSystemTime(Date.now() + 31_000);
    expect((await call(bindings, await withKey(signingKeys.ES256))).status).toBe(200);
    expect(await jwksFetches(set)).toBe(2);
  });

  it('does not stampede the JWKS when a burst of unknown kids arrives after the cooldown', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const set = freshSet();
    const bindings = jwksEnv(set);
    expect((await call(bindings, await withKey(signingKeys.RS256))).status).toBe(200);
    vi.setSystemTime(Date.now() + 31_000);
    const token = await withKey(signingKeys.RS256, claims(), 'rs-404');
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(bindings, token)));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 401));
    // One refetch is due; a couple is tolerable; one per request is a stampede.
    expect((await jwksFetches(set)) - 1).toBeLessThanOrEqual(2);
  });

  it('does not stampede the JWKS when a burst of tokens meets a cold cache', async () => {
    const set = freshSet();
    const bindings = jwksEnv(set);
    const token = await withKey(signingKeys.RS256);
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(bindings, token)));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    expect(await jwksFetches(set)).toBeLessThanOrEqual(2);
  });
});
