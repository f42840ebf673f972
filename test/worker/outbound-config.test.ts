/**
 * The outbound URLs in the configuration (DAYTONA_API_URL, JWT_JWKS_URL, and ANTHROPIC_BASE_URL,
 * which agent jobs' CLIs call): outside development they must be https and must not point at
 * this machine, in whatever spelling; a bad one is a ConfigError naming the setting, which the
 * API answers with a 503. The suite's own bindings are development ones (vitest.config.ts), so
 * production is given explicitly here.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { loadJwtConfig } from '../../worker/auth-config.ts';
import { ConfigError, loadConfig } from '../../worker/config.ts';
import { AUDIENCE, call, expectSafeProblem, hs256, ISSUER, validClaims } from './jwt-helpers.ts';

/** Spellings of this machine that a production Worker must never call. */
const loopback = [
  'https://localhost/api',
  'https://localhost./api',
  'https://LOCALHOST/api',
  'https://foo.localhost/api',
  'https://localhost.localdomain/api',
  'https://ip6-localhost/api',
  'https://ip6-loopback/api',
  'https://[::1]/api',
  'https://[::]/api',
  'https://[::ffff:127.0.0.1]/api',
  'https://[::ffff:7f00:1]/api',
  'https://[0:0:0:0:0:0:0:1]/api',
  'https://0.0.0.0/api',
  'https://127.1/api',
  'https://2130706433/api',
  'https://0x7f000001/api',
];

const production = (settings: Record<string, string>) => ({
  ...env,
  ENVIRONMENT: 'production',
  // The suite's agent jobs call a loopback stand-in, which production would refuse.
  ANTHROPIC_BASE_URL: '',
  ...settings,
});

const jwks = (url: string, environment = 'production') => ({
  ...env,
  ENVIRONMENT: environment,
  JWT_ISSUER: ISSUER,
  JWT_AUDIENCE: AUDIENCE,
  JWT_JWKS_URL: url,
});

describe('DAYTONA_API_URL', () => {
  it('must use https outside development', () => {
    const bindings = production({ DAYTONA_API_URL: 'http://daytona.example.com/api' });
    expect(() => loadConfig(bindings)).toThrow(ConfigError);
    expect(() => loadConfig(bindings)).toThrow(/DAYTONA_API_URL must use https:\/\//);
  });

  it.each(loopback)('must not point at this machine outside development: %s', (url) => {
    const bindings = production({ DAYTONA_API_URL: url });
    expect(() => loadConfig(bindings)).toThrow(ConfigError);
    expect(() => loadConfig(bindings)).toThrow(/DAYTONA_API_URL must not point at this machine/);
  });

  it.each(['https://169.254.169.254/api', 'https://[fe80::1]/api'])(
    'must never point at a link-local or metadata address: %s',
    (url) => {
      expect(() => loadConfig(production({ DAYTONA_API_URL: url }))).toThrow(/link-local/);
      expect(() => loadConfig({ ...env, DAYTONA_API_URL: url })).toThrow(/link-local/);
    },
  );

  it('may be a public or a private-network https URL in production', () => {
    for (const url of [
      'https://app.daytona.io/api',
      'https://10.20.0.5/api',
      'https://daytona.corp.internal/api',
    ]) {
      expect(loadConfig(production({ DAYTONA_API_URL: url })).daytona.apiUrl).toBe(url);
    }
  });

  it('may be plain http to this machine in development', () => {
    expect(loadConfig({ ...env, DAYTONA_API_URL: 'http://127.0.0.1:3986/api' }).environment).toBe(
      'development',
    );
    expect(() => loadConfig({ ...env, DAYTONA_API_URL: 'http://daytona.example.com/api' })).toThrow(
      /must use https/,
    );
  });
});

describe('ANTHROPIC_BASE_URL', () => {
  const daytona = { DAYTONA_API_URL: 'https://app.daytona.io/api' };

  it("is Anthropic's own endpoint when empty", () => {
    expect(loadConfig(production(daytona)).anthropicBaseUrl).toBeNull();
  });

  it('must be https and not this machine outside development, and a URL at all', () => {
    const bad = ['http://gateway.example.com', 'https://127.0.0.1:8443', 'not a url'];
    for (const url of bad) {
      const bindings = production({ ...daytona, ANTHROPIC_BASE_URL: url });
      expect(() => loadConfig(bindings), url).toThrow(/ANTHROPIC_BASE_URL/);
    }
    const gateway = 'https://llm-gateway.corp.internal/anthropic';
    expect(
      loadConfig(production({ ...daytona, ANTHROPIC_BASE_URL: gateway })).anthropicBaseUrl,
    ).toBe(gateway);
  });

  it('may be plain http to this machine in development (the test stand-in)', () => {
    expect(loadConfig(env).anthropicBaseUrl).toBe(env.ANTHROPIC_BASE_URL);
  });
});

describe('JWT_JWKS_URL', () => {
  it('must use https outside development', () => {
    const bindings = jwks('http://idp.example.com/.well-known/jwks.json');
    expect(() => loadJwtConfig(bindings)).toThrow(ConfigError);
    expect(() => loadJwtConfig(bindings)).toThrow(/JWT_JWKS_URL must use https:\/\//);
  });

  it.each(loopback)('must not point at this machine outside development: %s', (url) => {
    expect(() => loadJwtConfig(jwks(url))).toThrow(/JWT_JWKS_URL must not point at this machine/);
  });

  it('may be https to a public host in production, and http to this machine in development', () => {
    const url = 'https://idp.example.com/.well-known/jwks.json';
    expect(loadJwtConfig(jwks(url))?.jwksUrl).toBe(url);
    expect(loadJwtConfig(jwks(env.TEST_JWKS_URL, 'development'))?.jwksUrl).toBe(env.TEST_JWKS_URL);
  });

  it('answers 503 naming the setting when it is plain http in production', async () => {
    const token = await hs256(validClaims('ten_unused'));
    const bindings = production({
      DAYTONA_API_URL: 'https://app.daytona.io/api',
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_JWKS_URL: 'http://idp.example.com/.well-known/jwks.json',
    });
    const problem = await expectSafeProblem(await call(bindings, token), 503, 'misconfigured');
    expect(problem.detail).toMatch(/JWT_JWKS_URL must use https:\/\//);
  });
});
