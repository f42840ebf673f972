/**
 * The decisions of `npm run deploy` and `npm run rollback` (docs/DEPLOYMENT.md), as pure functions
 * of what wrangler printed: which secrets are missing, which URL was deployed, which version a
 * rollback goes back to. The scripts around them only run commands.
 */
import { z } from 'zod';

/**
 * Secrets the Worker cannot serve without (worker/config.ts and the README's configuration
 * table): a deploy stops if one is not set in the environment.
 */
export const REQUIRED_SECRETS = [
  'DAYTONA_API_KEY',
  'STREAM_TOKEN_SECRET',
  'SECRETS_KEYS',
  'SECRETS_KEY_ID',
] as const;

/**
 * Secrets a production deployment should have, but that the Worker runs without: a deploy warns
 * when one is missing (unset, Sentry gets nothing and `GET /metrics` answers 503). `JWT_SECRET`
 * is only for JWT sign-in with a shared secret (docs/identity.md), so it is not listed.
 */
export const RECOMMENDED_SECRETS = ['SENTRY_DSN', 'METRICS_TOKEN'] as const;

/** A database id that `wrangler d1 create` never prints: the placeholder in wrangler.toml. */
export const PLACEHOLDER_DATABASE_ID = /^0{8}-0{4}-0{4}-0{4}-0{11}[0-9]$/;

const secretListSchema = z.array(z.object({ name: z.string() }).loose());

/**
 * The names in the output of `wrangler secret list --format json` (an array of `{ name, type }`);
 * text around the JSON, such as a banner or an update notice, is ignored.
 * @throws Error if the output holds no such array.
 */
export function parseSecretList(output: string): string[] {
  const start = output.indexOf('[');
  const end = output.lastIndexOf(']');
  if (start === -1 || end < start) throw new Error('wrangler secret list printed no JSON array');
  return secretListSchema.parse(JSON.parse(output.slice(start, end + 1))).map((s) => s.name);
}

/** The required and the recommended secrets that `present` lacks. */
export function missingSecrets(present: readonly string[]): {
  required: string[];
  recommended: string[];
} {
  const have = new Set(present);
  return {
    required: REQUIRED_SECRETS.filter((name) => !have.has(name)),
    recommended: RECOMMENDED_SECRETS.filter((name) => !have.has(name)),
  };
}

/**
 * The Worker's URL in the output of `wrangler deploy` (its workers.dev address, else the first
 * https URL it lists), or null when it printed none (routes only: pass `--url`).
 */
export function deployedUrl(output: string): string | null {
  const urls = output.match(/https:\/\/[^\s'"`]+/g) ?? [];
  const workersDev = urls.find((u) => /\.workers\.dev\/?$/.test(u));
  const found = workersDev ?? urls.find((u) => !u.includes('developers.cloudflare.com')) ?? null;
  return found === null ? null : found.replace(/\/+$/, '');
}

/** The version id wrangler deploy printed (`Current Version ID: …`), or null. */
export function deployedVersionId(output: string): string | null {
  return /Version ID:\s*([0-9a-f-]{36})/i.exec(output)?.[1] ?? null;
}

const deploymentsSchema = z.array(
  z
    .object({
      id: z.string(),
      created_on: z.string(),
      versions: z.array(z.object({ version_id: z.string(), percentage: z.number() }).loose()),
    })
    .loose(),
);

/** The current deployment's version and the one a rollback returns to. */
export interface RollbackTarget {
  current: string;
  previous: string;
}

/**
 * From the output of `wrangler deployments list --json`: the version serving now (the newest
 * deployment's, all of its traffic) and the version of the newest earlier deployment that served
 * all traffic with one other version, which is what a rollback goes back to.
 * @throws Error naming why there is nothing to roll back to.
 */
export function rollbackTarget(output: string): RollbackTarget {
  const start = output.indexOf('[');
  const end = output.lastIndexOf(']');
  if (start === -1 || end < start) {
    throw new Error('wrangler deployments list printed no JSON array');
  }
  const deployments = deploymentsSchema
    .parse(JSON.parse(output.slice(start, end + 1)))
    .sort((a, b) => a.created_on.localeCompare(b.created_on));
  const single = (d: (typeof deployments)[number]) =>
    d.versions.length === 1 && d.versions[0]?.percentage === 100 ? d.versions[0].version_id : null;
  const newest = deployments.at(-1);
  if (newest === undefined) throw new Error('the Worker has no deployment yet');
  const current = single(newest);
  if (current === null) {
    throw new Error(
      'the current deployment splits traffic between versions; roll back by hand with `wrangler rollback <version-id>`',
    );
  }
  for (const d of deployments.slice(0, -1).reverse()) {
    const version = single(d);
    if (version !== null && version !== current) return { current, previous: version };
  }
  throw new Error('there is no earlier version to roll back to');
}
