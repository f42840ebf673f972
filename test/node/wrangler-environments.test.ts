/**
 * wrangler.toml's deployed environments against its top level, read through wrangler's own
 * config reader. Wrangler does not inherit vars, rate limits, D1 or Durable Object bindings into
 * `[env.*]`, so each environment repeats them: this test fails when a setting or binding added at
 * the top level was not added to every environment too, or an environment's copy drifted.
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

  it('has every setting of the top level, with the same value', () => {
    // Staging runs exactly as production (ENVIRONMENT = "production", the same limits).
    expect({ ...env.vars }).toEqual({ ...top.vars });
    expect(env.vars.ENVIRONMENT).toBe('production');
  });

  it('has the same Durable Object bindings, rate limits and schedules', () => {
    const bindings = (c: typeof top) =>
      c.durable_objects.bindings.map((b) => ({ name: b.name, class_name: b.class_name }));
    expect(bindings(env)).toEqual(bindings(top));
    const limits = (c: typeof top) => c.ratelimits.map((r) => ({ name: r.name, simple: r.simple }));
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
