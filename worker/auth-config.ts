/**
 * Settings of authentication, parsed with zod. JWTs are accepted only when a verification key
 * is configured (a shared secret or a JWKS URL); API keys always work.
 */
import { z } from 'zod';
import { checkServiceUrl, ConfigError } from './config.ts';

const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

const schema = z.object({
  ENVIRONMENT: z.enum(['development', 'production']).default('production'),
  JWT_ISSUER: z.string().default(''),
  JWT_AUDIENCE: z.string().default(''),
  JWT_SECRET: z.string().default(''),
  JWT_JWKS_URL: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).default(''),
  JWT_ALGORITHMS: list.default([]),
  JWT_TENANT_CLAIM: z.string().min(1).default('tenant_id'),
  JWT_ROLE_CLAIM: z.string().min(1).default('role'),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
});

/** Algorithms accepted when JWT_ALGORITHMS is not set: never `none`, never a mix of HMAC and keys. */
const SECRET_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

export interface JwtConfig {
  issuer: string;
  audience: string;
  /** Exactly one of `secret` and `jwksUrl` is set. */
  secret: Uint8Array | null;
  jwksUrl: string | null;
  algorithms: string[];
  tenantClaim: string;
  roleClaim: string;
  clockToleranceSeconds: number;
}

const cache = new WeakMap<object, JwtConfig | null>();

/**
 * The JWT settings, or null if JWTs are not configured. Parsed once per set of bindings.
 * @throws ConfigError naming the bad setting.
 */
export function loadJwtConfig(env: object): JwtConfig | null {
  const cached = cache.get(env);
  if (cached !== undefined) return cached;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `The setting ${issue?.path.join('.') ?? 'unknown'} is invalid: ${issue?.message ?? ''}`,
    );
  }
  const e = parsed.data;
  let config: JwtConfig | null = null;
  if (e.JWT_SECRET || e.JWT_JWKS_URL) {
    if (e.JWT_SECRET && e.JWT_JWKS_URL) {
      throw new ConfigError('Set JWT_SECRET or JWT_JWKS_URL, not both.');
    }
    if (!e.JWT_ISSUER || !e.JWT_AUDIENCE) {
      throw new ConfigError('JWT_ISSUER and JWT_AUDIENCE are required for JWTs.');
    }
    if (e.JWT_SECRET && new TextEncoder().encode(e.JWT_SECRET).length < 32) {
      throw new ConfigError('JWT_SECRET must be at least 32 bytes long.');
    }
    // Whoever can answer for this URL chooses the keys every token is checked with.
    if (e.JWT_JWKS_URL) checkServiceUrl('JWT_JWKS_URL', e.JWT_JWKS_URL, e.ENVIRONMENT);
    const defaults = e.JWT_SECRET ? SECRET_ALGORITHMS : JWKS_ALGORITHMS;
    const algorithms = e.JWT_ALGORITHMS.length > 0 ? e.JWT_ALGORITHMS : defaults;
    if (algorithms.some((a) => a.toLowerCase() === 'none')) {
      throw new ConfigError('JWT_ALGORITHMS must not contain "none".');
    }
    // A shared secret verifies HMAC algorithms only, a JWKS public keys only (RFC 8725 2.1).
    const hmac = algorithms.filter((a) => a.startsWith('HS'));
    if (e.JWT_SECRET ? hmac.length !== algorithms.length : hmac.length > 0) {
      throw new ConfigError(
        e.JWT_SECRET
          ? 'JWT_ALGORITHMS must list only HS256, HS384 or HS512 when JWT_SECRET is set.'
          : 'JWT_ALGORITHMS must not list HMAC algorithms (HS…) when JWT_JWKS_URL is set.',
      );
    }
    config = {
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      secret: e.JWT_SECRET ? new TextEncoder().encode(e.JWT_SECRET) : null,
      jwksUrl: e.JWT_JWKS_URL || null,
      algorithms,
      tenantClaim: e.JWT_TENANT_CLAIM,
      roleClaim: e.JWT_ROLE_CLAIM,
      clockToleranceSeconds: e.JWT_CLOCK_TOLERANCE_SECONDS,
    };
  }
  cache.set(env, config);
  return config;
}
