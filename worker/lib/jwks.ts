/**
 * A JWKS key set per URL, cached for the isolate's lifetime, fetched by one request at a time.
 *
 * jose's createRemoteJWKSet does not share an in-flight fetch on Workers (a request may not use
 * another request's I/O objects; panva/jose#355), so a burst of tokens on a cold cache, or of
 * unknown `kid`s, fetches once per request. Here the fetch and its JSON parsing run inside one
 * request and only the parsed key set (plain data) is shared, so concurrent requests wait for
 * the same fetch. A bounded wait keeps a waiter from hanging if that request is canceled.
 * Failed fetches count for the cooldown too, so an outage of the identity provider does not
 * turn every request into a fetch.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ApiError } from '../errors.ts';

/** At most one fetch per URL this often, whatever the tokens say. */
const JWKS_COOLDOWN_MS = 30_000;
/** Keys older than this are refetched (on the next request after the cooldown). */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;

const jwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string() })).min(1) });

interface Entry {
  resolve: JWTVerifyGetKey | null;
  fetchedAt: number;
  attemptedAt: number;
  inFlight: Promise<JSONWebKeySet> | null;
}

const entries = new Map<string, Entry>();

function unavailable(reason: string): ApiError {
  return new ApiError(
    'upstream_error',
    `The signing keys (JWKS) could not be fetched (${reason}); try again.`,
  );
}

async function fetchJwks(url: string): Promise<JSONWebKeySet> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch {
    throw unavailable('no answer');
  }
  if (!res.ok) throw unavailable(`HTTP ${res.status}`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw unavailable('not JSON');
  }
  const parsed = jwksSchema.safeParse(body);
  if (!parsed.success) throw unavailable('not a key set');
  return { keys: parsed.data.keys };
}

/** Fetches (or waits for the fetch already running), then installs the new key set. */
async function refresh(url: string, entry: Entry): Promise<void> {
  if (!entry.inFlight) {
    entry.attemptedAt = Date.now();
    entry.inFlight = fetchJwks(url).finally(() => {
      entry.inFlight = null;
    });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable('timed out')), FETCH_TIMEOUT_MS + 1_000);
  });
  try {
    const jwks = await Promise.race([entry.inFlight, gaveUp]);
    entry.resolve = createLocalJWKSet(jwks);
    entry.fetchedAt = Date.now();
  } finally {
    clearTimeout(timer);
  }
}

/** A key resolver for jwtVerify that reads the key set of `url` through the cache. */
export function cachedJwks(url: string): JWTVerifyGetKey {
  return async (header, token) => {
    let entry = entries.get(url);
    if (!entry) {
      entry = { resolve: null, fetchedAt: 0, attemptedAt: 0, inFlight: null };
      entries.set(url, entry);
    }
    // Joining a fetch already under way costs nothing; starting one waits for the cooldown.
    const mayFetch = () =>
      entry.inFlight !== null || Date.now() - entry.attemptedAt >= JWKS_COOLDOWN_MS;
    if (!entry.resolve) {
      if (!mayFetch()) throw unavailable('the last attempt failed; retrying shortly');
      await refresh(url, entry);
    } else if (Date.now() - entry.fetchedAt >= JWKS_MAX_AGE_MS && mayFetch()) {
      // Old keys keep working if the identity provider is down.
      await refresh(url, entry).catch(() => undefined);
    }
    const resolve = entry.resolve;
    if (!resolve) throw unavailable('no keys');
    try {
      return await resolve(header, token);
    } catch (error) {
      // An unknown kid may be a key the identity provider just started using.
      if (!(error instanceof errors.JWKSNoMatchingKey) || !mayFetch()) throw error;
      await refresh(url, entry);
      if (!entry.resolve) throw error;
      return entry.resolve(header, token);
    }
  };
}
