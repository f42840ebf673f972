/**
 * Versioned schema of a Durable Object's SQLite storage: `migrations[i]` is version i + 1, and
 * each one not yet applied runs in its own transaction with its version recorded, so an object
 * created by an older deployment is upgraded in place and a new one starts at the latest.
 */
export function applyMigrations(
  storage: DurableObjectStorage,
  migrations: readonly string[],
): void {
  const sql = storage.sql;
  sql.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)');
  const row = sql.exec('SELECT MAX(version) AS v FROM schema_migrations').one();
  const current = typeof row.v === 'number' ? row.v : 0;
  migrations.forEach((statements, index) => {
    const version = index + 1;
    if (version <= current) return;
    storage.transactionSync(() => {
      sql.exec(statements);
      sql.exec('INSERT INTO schema_migrations (version) VALUES (?)', version);
    });
  });
}
