/**
 * Bearer JWTs verified with jose against a JWKS (RS256, ES256, served by test/jwks-server.ts):
 * rejections name the failed check, an unreachable or broken JWKS is a 502 rather than a 401,
 * and the key set is cached, refetched for a new kid after a cooldown, and never stampeded.
 */
import { env } from 'cloudflare:workers';
import { generateKeyPair, type JWTPayload } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { JobSchema } from '../../worker/schemas/jobs.ts';
import { newTenant } from './helpers.ts';
import {
  AUDIENCE,
  call,
  expectRejected,
  expectSafeProblem,
  expectVisibleToApiKey,
  hs256,
  ISSUER,
  now,
  postJob,
  privateJwks,
  signingKeys,
  unsecured,
  validClaims,
  withKey,
} from './jwt-helpers.ts';

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

let tenantId: string;
let apiKey: string;
beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant('owner'));
});

/** Claims of a valid token for the test tenant; an `undefined` override removes the claim. */
const claims = (overrides?: JWTPayload) => validClaims(tenantId, overrides);

describe('JWKS (RS256, ES256)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(['RS256', 'ES256'] as const)('accepts a valid %s token', async (alg) => {
    const bindings = jwksEnv(freshSet());
    const res = await call(bindings, await withKey(signingKeys[alg], claims()));
    expect(res.status).toBe(200);
  });

  it('creates a job with a member token, which the tenant API key then sees', async () => {
    const res = await postJob(jwksEnv(freshSet()), await withKey(signingKeys.ES256, claims()));
    expect(res.status).toBe(201);
    await expectVisibleToApiKey(apiKey, JobSchema.parse(await res.json()).id);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['alg none', async () => unsecured(claims()), /algorithm/],
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
        return withKey({ kid: 'es-1', alg: 'ES256', key: other.privateKey }, claims());
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
    const token = await withKey(signingKeys.RS256, claims());
    const problem = await expectSafeProblem(await call(jwksEnv(set), token), 502, 'upstream_error');
    expect(problem.detail).toMatch(/JWKS/);
  });

  it('answers 502, not a 401 blaming the token, when the JWKS connection fails', async () => {
    const set = freshSet();
    await breakSet(set, 0, '');
    const token = await withKey(signingKeys.RS256, claims());
    const problem = await expectSafeProblem(await call(jwksEnv(set), token), 502, 'upstream_error');
    expect(problem.detail).toMatch(/JWKS/);
  });

  it('accepts a token that expired within the clock tolerance', async () => {
    const token = await withKey(signingKeys.RS256, claims({ exp: now() - 10 }));
    expect((await call(jwksEnv(freshSet()), token)).status).toBe(200);
  });

  it('accepts only the algorithms of JWT_ALGORITHMS', async () => {
    const bindings = jwksEnv(freshSet(), { JWT_ALGORITHMS: 'RS256' });
    expect((await call(bindings, await withKey(signingKeys.RS256, claims()))).status).toBe(200);
    await expectRejected(bindings, await withKey(signingKeys.ES256, claims()), /accepted: RS256\./);
  });

  it('fetches the key set once and serves later tokens from the cache', async () => {
    const set = freshSet();
    const bindings = jwksEnv(set);
    for (let i = 0; i < 5; i++) {
      expect((await call(bindings, await withKey(signingKeys.RS256, claims()))).status).toBe(200);
      expect((await call(bindings, await withKey(signingKeys.ES256, claims()))).status).toBe(200);
    }
    expect(await jwksFetches(set)).toBe(1);
  });

  it('answers a burst of unknown kids from the cache while it is fresh', async () => {
    const set = freshSet();
    const bindings = jwksEnv(set);
    expect((await call(bindings, await withKey(signingKeys.RS256, claims()))).status).toBe(200);
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
    expect((await call(bindings, await withKey(signingKeys.RS256, claims()))).status).toBe(200);
    // The identity provider starts signing with a new key.
    await publish(set, ['rs-1', 'es-1']);
    vi.setSystemTime(Date.now() + 31_000);
    expect((await call(bindings, await withKey(signingKeys.ES256, claims()))).status).toBe(200);
    expect(await jwksFetches(set)).toBe(2);
  });

  it('does not stampede the JWKS when a burst of unknown kids arrives after the cooldown', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const set = freshSet();
    const bindings = jwksEnv(set);
    expect((await call(bindings, await withKey(signingKeys.RS256, claims()))).status).toBe(200);
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
    const token = await withKey(signingKeys.RS256, claims());
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(bindings, token)));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    expect(await jwksFetches(set)).toBeLessThanOrEqual(2);
  });
});
