/**
 * Numbered, append-only SQL migrations for a SQLite-backed Durable Object
 * (STYLE.md §7). Entry `i` moves the schema from version `i` to `i + 1`;
 * never edit a shipped entry, append a new one. Runs inside
 * `blockConcurrencyWhile` from the object's constructor, in one transaction,
 * so no request ever sees a half-migrated schema.
 */
export function migrate(storage: DurableObjectStorage, migrations: readonly string[]): void {
  storage.transactionSync(() => {
    storage.sql.exec("CREATE TABLE IF NOT EXISTS _schema_version (version INTEGER NOT NULL)");
    const row = storage.sql.exec<{ version: number }>("SELECT version FROM _schema_version").toArray()[0];
    let version = row?.version ?? 0;
    if (row === undefined) storage.sql.exec("INSERT INTO _schema_version (version) VALUES (0)");
    for (; version < migrations.length; version++) {
      storage.sql.exec(migrations[version]!);
    }
    storage.sql.exec("UPDATE _schema_version SET version = ?", version);
  });
}
