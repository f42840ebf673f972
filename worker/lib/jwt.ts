/**
 * Verification of bearer JWTs with jose (RFC 8725): an algorithm allow-list, required `iss`,
 * `aud`, `exp` and `sub`, a small clock tolerance, and keys from a shared secret or a JWKS URL.
 * Every rejection says which check failed, in words that reveal no key material.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { JwtConfig } from '../auth-config.ts';
import { ApiError } from '../errors.ts';
import { cachedJwks } from './jwks.ts';

function unauthorized(message: string): ApiError {
  return new ApiError('unauthorized', `The token was rejected: ${message}`);
}

/** Maps a jose error to what the caller is told. */
function describe(error: unknown, config: JwtConfig): ApiError {
  if (error instanceof errors.JWTExpired) return unauthorized('it has expired (exp).');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (error.reason === 'missing') return unauthorized(`it has no "${claim}" claim.`);
    if (claim === 'iss') return unauthorized('its issuer (iss) is not accepted.');
    if (claim === 'aud') return unauthorized('its audience (aud) is not accepted.');
    if (claim === 'nbf') return unauthorized('it is not valid yet (nbf).');
    return unauthorized(`its "${claim}" claim is invalid.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return unauthorized(`its algorithm is not allowed; accepted: ${config.algorithms.join(', ')}.`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized('its signature does not verify.');
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return unauthorized('no known key matches its key id (kid).');
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new ApiError(
      'upstream_error',
      'The signing keys (JWKS) could not be fetched; try again.',
    );
  }
  if (error instanceof errors.JOSEError) return unauthorized('it is malformed.');
  return unauthorized('it could not be verified.');
}

/** The verified claims of `token`. */
export async function verifyJwt(token: string, config: JwtConfig): Promise<JWTPayload> {
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: config.algorithms,
    clockTolerance: config.clockToleranceSeconds,
    requiredClaims: ['iss', 'aud', 'exp', 'sub'],
  };
  try {
    const { payload } = config.secret
      ? await jwtVerify(token, config.secret, options)
      : await jwtVerify(token, cachedJwks(config.jwksUrl ?? ''), options);
    return payload;
  } catch (error) {
    // A JWKS that cannot be fetched is our upstream's failure, not the caller's token.
    if (error instanceof ApiError) throw error;
    throw describe(error, config);
  }
}
