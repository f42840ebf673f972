/**
 * The names and limits of a job's environment (`env`) and of the secrets it may refer to, shared
 * by the API schemas and the Job DO. It imports nothing.
 */

/** Names of secrets and of environment variables: like a shell variable, upper case. */
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** Variables Omni sets itself: a job's `env` may not name them. */
export const RESERVED_ENV_PREFIX = 'OMNI_';

/** Most variables in one job's `env`. */
export const MAX_ENV_ENTRIES = 64;

/** The largest literal value of a variable, in UTF-8 bytes. */
export const MAX_ENV_LITERAL_BYTES = 16 * 1024;

/** The largest secret value, in UTF-8 bytes. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** One variable of a job's environment: a literal value, or the name of a tenant's secret. */
export type EnvValue = string | { secret: string };

/** A job's environment: variable name → value. */
export type JobEnv = Record<string, EnvValue>;

/** The names of the secrets `env` refers to, each once. */
export function secretNamesOf(env: JobEnv): string[] {
  const names = new Set<string>();
  for (const value of Object.values(env)) if (typeof value !== 'string') names.add(value.secret);
  return [...names];
}
