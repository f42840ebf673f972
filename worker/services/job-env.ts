/**
 * The env part of creating a job: every secret the job's `env` refers to must exist now, so a
 * job does not fail in its sandbox minutes later for want of one (the Job DO checks again when
 * the command starts: a secret may be deleted meanwhile, and then the job fails `secret_missing`).
 */
import { existingSecretNames } from '../db/secrets.ts';
import { secretNamesOf, type JobEnv } from '../domain/env.ts';
import { ApiError } from '../errors.ts';

/** Refuses (400, naming each missing secret) an `env` that refers to secrets the tenant lacks. */
export async function requireEnvSecrets(
  d1: D1Database,
  tenantId: string,
  env: JobEnv,
): Promise<void> {
  const existing = await existingSecretNames(d1, tenantId, secretNamesOf(env));
  const missing = Object.entries(env).filter(
    (entry): entry is [string, { secret: string }] =>
      typeof entry[1] !== 'string' && !existing.has(entry[1].secret),
  );
  const first = missing[0];
  if (first === undefined) return;
  const names = [...new Set(missing.map(([, ref]) => ref.secret))];
  throw new ApiError(
    'invalid_request',
    `env refers to the secret${names.length === 1 ? '' : 's'} ${names.join(', ')}, which this tenant does not have: set ${names.length === 1 ? 'it' : 'them'} with PUT /v1/secrets/{name} first.`,
    missing.map(([variable, ref]) => ({
      path: `env.${variable}`,
      message: `no secret named ${ref.secret}`,
    })),
  );
}
