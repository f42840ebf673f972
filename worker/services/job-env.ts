/**
 * The env part of creating a job: every secret the job's `env` refers to must exist now, so a
 * job does not fail in its sandbox minutes later for want of one (the Job DO checks again when
 * the command starts: a secret may be deleted meanwhile, and then the job fails `secret_missing`).
 */
import { existingSecretNames } from '../db/secrets.ts';
import { secretNamesOf, type JobEnv } from '../domain/env.ts';
import { ApiError } from '../errors.ts';
import { loadSecretsKeys } from '../lib/secrets-crypto.ts';

/**
 * Refuses (400, naming each missing secret) an `env` that refers to secrets the tenant lacks,
 * and (503) one that refers to secrets while SECRETS_KEYS or SECRETS_KEY_ID is not set.
 */
export async function requireEnvSecrets(
  d1: D1Database,
  tenantId: string,
  env: JobEnv,
  settings: object,
): Promise<void> {
  const names = secretNamesOf(env);
  if (names.length === 0) return;
  // A job that could not decrypt its secrets is refused now (503, naming the setting).
  await loadSecretsKeys(settings);
  const existing = await existingSecretNames(d1, tenantId, names);
  const missing = Object.entries(env).filter(
    (entry): entry is [string, { secret: string }] =>
      typeof entry[1] !== 'string' && !existing.has(entry[1].secret),
  );
  const first = missing[0];
  if (first === undefined) return;
  const absent = [...new Set(missing.map(([, ref]) => ref.secret))];
  const one = absent.length === 1;
  throw new ApiError(
    'invalid_request',
    `env refers to the secret${one ? '' : 's'} ${absent.join(', ')}, which this tenant does not have: set ${one ? 'it' : 'them'} with PUT /v1/secrets/{name} first.`,
    missing.map(([variable, ref]) => ({
      path: `env.${variable}`,
      message: `no secret named ${ref.secret}`,
    })),
  );
}
