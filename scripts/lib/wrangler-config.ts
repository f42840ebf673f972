/**
 * One environment of wrangler.toml as wrangler itself resolves it (`unstable_readConfig`: what is
 * inherited, what is not), narrowed to what the deploy scripts and their tests look at. Parsed
 * with zod, since wrangler's published types leave these fields untyped.
 */
import { unstable_readConfig } from 'wrangler';
import { z } from 'zod';

const environmentSchema = z.object({
  name: z.string(),
  vars: z.record(z.string(), z.unknown()),
  d1_databases: z.array(
    z.object({
      binding: z.string(),
      database_name: z.string().optional(),
      database_id: z.string().optional(),
      migrations_dir: z.string().optional(),
    }),
  ),
  durable_objects: z.object({
    bindings: z.array(z.object({ name: z.string(), class_name: z.string() })),
  }),
  ratelimits: z.array(
    z.object({
      name: z.string(),
      namespace_id: z.string(),
      simple: z.object({ limit: z.number(), period: z.number() }),
    }),
  ),
  triggers: z.object({ crons: z.array(z.string()).optional() }),
  migrations: z.array(z.record(z.string(), z.unknown())),
});

/** The resolved settings and bindings of one environment. */
export type WranglerEnvironment = z.infer<typeof environmentSchema>;

/**
 * Reads `env` of the wrangler configuration at `path` (the top level when `env` is undefined).
 * @throws Error from wrangler when the file is invalid or has no such environment.
 */
export function readEnvironment(path: string, env?: string): WranglerEnvironment {
  const config: unknown = unstable_readConfig({ config: path, env }, { hideWarnings: true });
  return environmentSchema.parse(config);
}
