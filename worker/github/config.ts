/**
 * The GitHub App's settings (docs/github.md): its id, handle and private key, the webhook
 * secrets (the current one and, while rotating, the previous one) and the REST API it calls.
 * A missing or malformed setting is a ConfigError naming it, like every setting (worker/config.ts).
 */
import { z } from 'zod';
import { ConfigError, checkServiceUrl } from '../config.ts';

export interface GitHubConfig {
  appId: string;
  /** The App's slug: comments mention it as `@<slug>`, and its bot posts as `<slug>[bot]`. */
  slug: string;
  /** PEM of the App's private key (PKCS#8 or PKCS#1), as GitHub hands it out. */
  privateKey: string;
  /** The REST API's base URL, without a trailing slash (https://api.github.com, or GHES's). */
  apiUrl: string;
  development: boolean;
}

const text = z.string().trim().default('');

const appSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'production']).default('production'),
  GITHUB_APP_ID: text.pipe(z.string().regex(/^\d{1,20}$/, 'must be the App ID, a number')),
  GITHUB_APP_SLUG: text.pipe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,99}$/i, "must be the App's slug (github.com/apps/<slug>)"),
  ),
  GITHUB_APP_PRIVATE_KEY: text.pipe(
    z.string().regex(/-----BEGIN (RSA )?PRIVATE KEY-----/, "must be the App's private key (PEM)"),
  ),
  GITHUB_API_URL: text.pipe(z.url({ protocol: /^https?$/ })),
});

function settingError(error: z.ZodError): ConfigError {
  const issue = error.issues[0];
  const setting = issue?.path.join('.') ?? 'unknown';
  return new ConfigError(`The setting ${setting} is missing or invalid: ${issue?.message ?? ''}`);
}

/**
 * The App's settings, for calling GitHub.
 * @throws ConfigError naming the first bad setting.
 */
export function loadGitHubConfig(env: object): GitHubConfig {
  const parsed = appSchema.safeParse(env);
  if (!parsed.success) throw settingError(parsed.error);
  const e = parsed.data;
  const development = e.ENVIRONMENT === 'development';
  // https outside development; a private network is allowed (GitHub Enterprise Server).
  checkServiceUrl('GITHUB_API_URL', e.GITHUB_API_URL, e.ENVIRONMENT);
  return {
    appId: e.GITHUB_APP_ID,
    slug: e.GITHUB_APP_SLUG,
    // Secrets set from a one-line .dev.vars or a CI variable carry their newlines as "\n".
    privateKey: e.GITHUB_APP_PRIVATE_KEY.replaceAll('\\n', '\n'),
    apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ''),
    development,
  };
}

const identitySchema = appSchema.pick({ GITHUB_APP_ID: true, GITHUB_APP_SLUG: true });

/**
 * The App's id and slug alone: what the webhook intake needs to tell a trigger from Omni's own
 * check runs and comments. A missing private key or API URL does not stop the intake; the
 * GitHubAppDO, which calls GitHub, reports it.
 * @throws ConfigError naming GITHUB_APP_ID or GITHUB_APP_SLUG.
 */
export function loadGitHubAppIdentity(env: object): Pick<GitHubConfig, 'appId' | 'slug'> {
  const parsed = identitySchema.safeParse(env);
  if (!parsed.success) throw settingError(parsed.error);
  return { appId: parsed.data.GITHUB_APP_ID, slug: parsed.data.GITHUB_APP_SLUG };
}

const secretsSchema = z.object({
  GITHUB_WEBHOOK_SECRET: text.pipe(z.string().min(16, 'must be at least 16 characters')),
  GITHUB_WEBHOOK_SECRET_PREVIOUS: text,
});

/**
 * The webhook secrets a delivery's signature may be made with: the current one first, then the
 * previous one while a rotation is under way (docs/github.md).
 * @throws ConfigError when GITHUB_WEBHOOK_SECRET is not set.
 */
export function webhookSecrets(env: object): string[] {
  const parsed = secretsSchema.safeParse(env);
  if (!parsed.success) throw settingError(parsed.error);
  const { GITHUB_WEBHOOK_SECRET: current, GITHUB_WEBHOOK_SECRET_PREVIOUS: previous } = parsed.data;
  return previous === '' ? [current] : [current, previous];
}
