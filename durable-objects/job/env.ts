/**
 * A job's environment in the Job DO: the stored form of its `env` (literals and references to
 * secrets, never a secret's value), and the resolution of the references just before the command
 * starts, by reading the tenant's secrets from D1 and decrypting them here. Decrypted values live
 * in memory only, for delivery (daytona.ts startCommand) and masking (mask.ts). What the DO keeps
 * of them is the encrypted form it read (`sealed`), so that after an eviction the values the
 * command actually received can be masked again even if a secret was replaced or deleted since.
 */
import { z } from 'zod';
import { readSealedSecrets } from '../../worker/db/secrets.ts';
import { secretNamesOf, type JobEnv } from '../../worker/domain/env.ts';
import {
  openSecret,
  type SealedSecret,
  type SecretsKeyring,
} from '../../worker/lib/secrets-crypto.ts';

/** A job's `env` as stored in its state. */
export const jobEnvSchema = z.record(
  z.string(),
  z.union([z.string(), z.object({ secret: z.string() })]),
);

const sealedSchema = z.object({ keyId: z.string(), iv: z.string(), ciphertext: z.string() });

/** The encrypted values of the secrets a job's command received, by secret name. */
export const sealedEnvSchema = z.record(z.string(), sealedSchema);
export type SealedEnv = z.infer<typeof sealedEnvSchema>;

/** A secret the job's `env` refers to does not exist (it was deleted after the job was created). */
export class SecretMissingError extends Error {
  readonly names: string[];

  constructor(names: string[]) {
    const list = names.join(', ');
    super(
      `The job's env refers to the secret${names.length === 1 ? '' : 's'} ${list}, which no longer exist${names.length === 1 ? 's' : ''}; set ${names.length === 1 ? 'it' : 'them'} with PUT /v1/secrets/{name} and run the job again.`,
    );
    this.name = 'SecretMissingError';
    this.names = names;
  }
}

/** What a job's command gets: every variable's value, and which of them are secret. */
export interface ResolvedEnv {
  /** Variable name → value, literals and decrypted secrets alike. */
  values: Record<string, string>;
  /** The decrypted values of the secrets, each once: what mask.ts hides in the output. */
  secretValues: string[];
  /** The encrypted values read, by secret name, for masking after an eviction. */
  sealed: SealedEnv;
}

/**
 * Resolves `env` of a job of `tenantId`: literals as they are, secret references read from D1
 * and decrypted. `secretsKeys` loads the keyring; it is called only when a secret is referred to,
 * so jobs without secrets run without SECRETS_KEYS.
 * @throws SecretMissingError naming the secrets that no longer exist.
 * @throws ConfigError if the keys are not configured, SecretDecryptError if a row is damaged.
 */
export async function resolveEnv(
  env: JobEnv,
  d1: D1Database,
  tenantId: string,
  secretsKeys: () => Promise<SecretsKeyring>,
): Promise<ResolvedEnv> {
  const names = secretNamesOf(env);
  const stored = await readSealedSecrets(d1, tenantId, names);
  const missing = names.filter((name) => !stored.has(name));
  if (missing.length > 0) throw new SecretMissingError(missing);
  const sealed: SealedEnv = Object.fromEntries(stored);
  const secrets = await openSealedEnv(sealed, tenantId, secretsKeys);
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const resolved = typeof value === 'string' ? value : secrets.get(value.secret);
    if (resolved === undefined) throw new SecretMissingError([name]);
    values[name] = resolved;
  }
  return { values, secretValues: [...new Set(secrets.values())], sealed };
}

/** Decrypts the secrets of `sealed` (name → value); none to decrypt needs no keys. */
export async function openSealedEnv(
  sealed: SealedEnv,
  tenantId: string,
  secretsKeys: () => Promise<SecretsKeyring>,
): Promise<Map<string, string>> {
  const entries = Object.entries(sealed);
  if (entries.length === 0) return new Map();
  const keyring = await secretsKeys();
  const opened = await Promise.all(
    entries.map(
      async ([name, value]: [string, SealedSecret]) =>
        [name, await openSecret(keyring, tenantId, name, value)] as const,
    ),
  );
  return new Map(opened);
}
