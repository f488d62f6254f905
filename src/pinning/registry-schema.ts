/**
 * PinRegistry SQLite schema, as numbered migrations (entry i: version i →
 * i + 1). Append only; documented in docs/storage.md.
 */
export const PIN_REGISTRY_MIGRATIONS = [
  `CREATE TABLE pins (
     requestid TEXT PRIMARY KEY,
     cid TEXT NOT NULL,                -- as the client wrote it
     root TEXT NOT NULL,               -- the same CID as CIDv1 string (filters, roots)
     name TEXT,
     name_folded TEXT,                 -- lower-cased name for iexact / ipartial
     origins TEXT NOT NULL DEFAULT '[]',
     meta TEXT NOT NULL DEFAULT '{}',
     status TEXT NOT NULL CHECK (status IN ('queued', 'pinning', 'pinned', 'failed')),
     created INTEGER NOT NULL UNIQUE,  -- ms since epoch, strictly increasing (PSA paging)
     updated INTEGER NOT NULL,
     deadline INTEGER NOT NULL,        -- fail if the DAG is not had by then
     attempt_count INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     status_details TEXT,
     dag_size INTEGER,
     replaces TEXT                     -- requestid removed once this pin is pinned
   );
   CREATE INDEX pins_status_created ON pins(status, created);
   CREATE INDEX pins_root ON pins(root);
   CREATE TABLE pin_meta (
     requestid TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (requestid, key)
   ) WITHOUT ROWID;
   CREATE INDEX pin_meta_kv ON pin_meta(key, value);
   CREATE TABLE roots (
     root TEXT PRIMARY KEY,
     complete INTEGER NOT NULL DEFAULT 0,
     dag_size INTEGER,
     blocks INTEGER
   );
   CREATE TABLE holders (
     holder TEXT PRIMARY KEY,          -- BlockRefs holder name, never reused
     root TEXT NOT NULL
   );
   CREATE INDEX holders_root ON holders(root);
   CREATE TABLE work (
     kind TEXT NOT NULL CHECK (kind IN ('pin', 'release')),
     target TEXT NOT NULL,             -- requestid (pin) or holder (release)
     due_at INTEGER NOT NULL,
     PRIMARY KEY (kind, target)
   ) WITHOUT ROWID;
   CREATE INDEX work_due ON work(due_at);
   CREATE TABLE settings (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   CREATE TABLE webhook_deliveries (
     webhook_id TEXT PRIMARY KEY,
     requestid TEXT NOT NULL,
     received INTEGER NOT NULL
   );`,
  // 2: the account's API token hashes (copied from Accounts at minting), checked on every request.
  `CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     sha256 TEXT NOT NULL UNIQUE
   );`,
  // 3 (replace, webhook replays): roots a replaced pin held, kept from GC until the replacing pin
  // `requestid` is pinned or failed; the PinStatus a webhook delivery first answered.
  `CREATE TABLE retained (
     requestid TEXT NOT NULL,          -- the replacing pin
     root TEXT NOT NULL,               -- a root the replaced pin held
     PRIMARY KEY (requestid, root)
   ) WITHOUT ROWID;
   CREATE INDEX retained_root ON retained(root);
   ALTER TABLE webhook_deliveries ADD COLUMN answer TEXT;`,
  // 4: the account's audit trail (src/audit/audit-log.ts), newest entries kept.
  `CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT,
     detail TEXT NOT NULL
   );`,
  // 5 (bounded webhook_deliveries): expired deliveries are deleted oldest first on each new one.
  `CREATE INDEX webhook_deliveries_received ON webhook_deliveries(received);`,
];
