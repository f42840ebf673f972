/**
 * A D1 binding for outage tests: it passes statements to the real database, except those a
 * predicate picks, which fail the way D1 does when it cannot be reached. It is handed to one
 * request or one Job DO instance only, so no other test sees the outage.
 */

/** What the failing statements reject with. */
const OUTAGE_MESSAGE = 'D1_ERROR: simulated outage';

/**
 * Wraps `real`; every statement for which `fails(sql)` is true rejects when run. The predicate is
 * asked each time a statement is prepared, so it can count (fail the first N, then recover).
 */
export function failingD1(real: D1Database, fails: (sql: string) => boolean): D1Database {
  const outage = (): Promise<never> => Promise.reject(new Error(OUTAGE_MESSAGE));
  const failing: D1PreparedStatement = {
    bind: () => failing,
    first: outage,
    run: outage,
    all: outage,
    raw: outage,
  };
  return {
    prepare: (sql) => (fails(sql) ? failing : real.prepare(sql)),
    batch: <T>(statements: D1PreparedStatement[]) =>
      statements.includes(failing) ? outage() : real.batch<T>(statements),
    exec: (sql) => (fails(sql) ? outage() : real.exec(sql)),
    withSession: (constraint) => real.withSession(constraint),
    dump: () => real.dump(),
  };
}

/** Fails everything: D1 is down. */
export const allStatements = (): boolean => true;
