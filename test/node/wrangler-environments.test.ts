/**
 * wrangler.toml's deployed environments against its top level, read through wrangler's own
 * config reader. Wrangler does not inherit vars, rate limits, D1 or Durable Object bindings into
 * `[env.*]`, so each environment repeats them: this test fails when a setting or binding added at
 * the top level was not added to every environment too.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readEnvironment } from '../../scripts/lib/wrangler-config.ts';

const config = fileURLToPath(new URL('../../wrangler.toml', import.meta.url));
const read = (env?: string) => readEnvironment(config, env);
const top = read();
const ENVIRONMENTS = ['staging', 'production'];

describe.each(ENVIRONMENTS)('[env.%s]', (name) => {
  const env = read(name);

  it('is its own Worker', () => {
    expect(env.name).toBe(`omni-${name}`);
  });

  it('has every setting of the top level, and runs as production', () => {
    // Values may differ per environment (CORS origins, limits); a missing one would fall back to
    // the code's default, or make the Worker answer 503, in that environment only.
    expect(Object.keys(env.vars).sort()).toEqual(Object.keys(top.vars).sort());
    // "development" allows loopback services and file:// repositories (worker/config.ts).
    expect(env.vars.ENVIRONMENT).toBe('production');
  });

  it('has the same Durable Object bindings, rate-limit bindings and schedules', () => {
    const bindings = (c: typeof top) =>
      c.durable_objects.bindings.map((b) => ({ name: b.name, class_name: b.class_name }));
    expect(bindings(env)).toEqual(bindings(top));
    const limits = (c: typeof top) => c.ratelimits.map((r) => r.name);
    expect(limits(env)).toEqual(limits(top));
    expect(env.triggers).toEqual(top.triggers);
    expect(env.migrations).toEqual(top.migrations);
  });

  it('has its own D1 database with the same migrations', () => {
    const db = env.d1_databases.map((d) => ({ ...d }));
    expect(db.map((d) => d.binding)).toEqual(top.d1_databases.map((d) => d.binding));
    expect(db[0]?.database_name).toBe(`omni-${name}`);
    expect(db[0]?.migrations_dir).toBe(top.d1_databases[0]?.migrations_dir);
  });
});

it('every environment counts its rate limits in namespaces of its own', () => {
  const ids = [undefined, ...ENVIRONMENTS].flatMap((name) =>
    read(name).ratelimits.map((r) => r.namespace_id),
  );
  expect(new Set(ids).size).toBe(ids.length);
});
