/**
 * Bearer JWTs verified with jose against a shared secret (HS256). Every rejection is a 401 problem
 * whose detail names the failed check and shows no key material; a valid token maps to its tenant
 * and a role, and a membership of the tenant wins over the role claim.
 */
import { env } from 'cloudflare:workers';
import type { JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobListSchema, JobSchema } from '../../worker/schemas/jobs.ts';
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
  SECRET,
  signingKeys,
  unsecured,
  validClaims,
  withKey,
} from './jwt-helpers.ts';

/** The Worker's bindings with JWTs verified against the shared secret. */
const secretEnv = { ...env, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_SECRET: SECRET };

let tenantId: string;
let apiKey: string;
beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant('owner'));
});

/** Claims of a valid token for the test tenant; an `undefined` override removes the claim. */
const claims = (overrides?: JWTPayload) => validClaims(tenantId, overrides);

describe('shared secret (HS256)', () => {
  it('lists the tenant jobs with a valid token', async () => {
    const res = await call(secretEnv, await hs256(claims()));
    expect(res.status).toBe(200);
    JobListSchema.parse(await res.json());
  });

  it('creates a job with a member token, which the tenant API key then sees', async () => {
    const res = await postJob(secretEnv, await hs256(claims({ role: 'member' })));
    expect(res.status).toBe(201);
    await expectVisibleToApiKey(apiKey, JobSchema.parse(await res.json()).id);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['alg none', async () => unsecured(claims()), /algorithm/],
    [
      'an RS256 token',
      () => withKey(signingKeys.RS256, claims()),
      /algorithm is not allowed.*HS256/,
    ],
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
    const problem = await expectSafeProblem(await call(secretEnv, token), 403, 'forbidden', token);
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
      const problem = await expectSafeProblem(await postJob(secretEnv, token), 403, 'forbidden');
      expect(problem.detail).toContain('you have viewer');
    });

    it('upgrades a viewer claim to the member membership', async () => {
      const sub = await member('member');
      const res = await postJob(secretEnv, await hs256(claims({ sub, role: 'viewer' })));
      expect(res.status).toBe(201);
      await expectVisibleToApiKey(apiKey, JobSchema.parse(await res.json()).id);
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
    const problem = await expectSafeProblem(await call(custom, token), 403, 'forbidden');
    expect(problem.detail).toMatch(/no role/);
    const withRole = claims({ 'https://omni.test/tenant': tenantId, omni_role: 'viewer' });
    expect((await call(custom, await hs256(withRole))).status).toBe(200);
    // The default claim names mean nothing under this configuration.
    await expectRejected(custom, await hs256(claims()), /"https:\/\/omni\.test\/tenant"/);
  });

  it('refuses JWTs when no verification key is configured', async () => {
    await expectRejected(env, await hs256(claims()), /JWTs are not accepted here/);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['a short JWT_SECRET', { JWT_SECRET: 'too short' }, /JWT_SECRET/],
    ['both a secret and a JWKS URL', { JWT_JWKS_URL: 'https://idp.omni.test/jwks' }, /not both/],
    ['no JWT_AUDIENCE', { JWT_AUDIENCE: '' }, /JWT_AUDIENCE/],
    ['alg none allowed', { JWT_ALGORITHMS: 'HS256,none' }, /none/],
  ])(
    'answers 503 naming the setting when JWTs are misconfigured: %s',
    async (_, settings, detail) => {
      const token = await hs256(claims());
      const res = await call({ ...secretEnv, ...settings }, token);
      const problem = await expectSafeProblem(res, 503, 'misconfigured', token);
      expect(problem.detail).toMatch(detail);
    },
  );
});
