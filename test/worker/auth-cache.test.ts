/**
 * The isolate's auth cache never takes back what a lookup read before a revocation: a key whose
 * lookup was in flight while it was revoked is refused right after, not for the cache's lifetime.
 */
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { findActiveKeyByHash, revokeKey } from '../../worker/db/keys.ts';
import { hashApiKey } from '../../worker/lib/api-keys.ts';
import { addKey, newTenant } from './helpers.ts';
import { keyIdOf } from './identity-helpers.ts';

/**
 * A D1 binding whose statements run on the real database at once but answer only when
 * `release()` is called: a read that has seen the database, still on its way back.
 */
function heldD1(real: D1Database): { d1: D1Database; release: () => void } {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const hold = (statement: D1PreparedStatement): D1PreparedStatement =>
    ({
      bind: (...values) => hold(statement.bind(...values)),
      first: async <T>(column?: string) => {
        const value = await (column === undefined
          ? statement.first<T>()
          : statement.first<T>(column));
        await gate;
        return value;
      },
      run: async <T>() => {
        const value = await statement.run<T>();
        await gate;
        return value;
      },
      all: async <T>() => {
        const value = await statement.all<T>();
        await gate;
        return value;
      },
      raw: statement.raw.bind(statement),
    }) as D1PreparedStatement;
  const d1 = {
    prepare: (sql: string) => hold(real.prepare(sql)),
    batch: real.batch.bind(real),
    exec: real.exec.bind(real),
    withSession: real.withSession.bind(real),
    dump: real.dump.bind(real),
  } as D1Database;
  return { d1, release };
}

it('does not cache a key read before it was revoked', async () => {
  const { tenantId } = await newTenant('owner');
  const key = await addKey(tenantId, 'member');
  const hash = await hashApiKey(key);
  const held = heldD1(env.DB);
  const inFlight = findActiveKeyByHash(held.d1, hash);
  // Let the held read reach the database before revoking.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(await revokeKey(env.DB, tenantId, await keyIdOf(key), Date.now())).toBe('revoked');
  held.release();
  // The lookup that was in flight answers what it read...
  expect((await inFlight)?.tenantId).toBe(tenantId);
  // ...but did not put it back in the cache: the next lookup reads D1 and finds it revoked.
  expect(await findActiveKeyByHash(env.DB, hash)).toBeNull();
});
