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
  // 6 (issue 9, replication; src/replication/, docs/replication.md): one row per copy of a root on a
  // backend, its action log, the root's measured CAR and plan; the work table gains the 'replica' kind
  // (rebuilt: SQLite cannot alter a CHECK constraint).
  `CREATE TABLE replicas (
     root TEXT NOT NULL,
     backend TEXT NOT NULL,            -- BACKENDS name ('r2' built in)
     state TEXT NOT NULL CHECK (state IN ('queued', 'replicating', 'stored', 'failed', 'lost', 'at_risk', 'removing', 'removed')),
     wanted INTEGER NOT NULL DEFAULT 1, -- 0: out of the plan, removed once every wanted copy is stored
     next TEXT NOT NULL DEFAULT 'store' CHECK (next IN ('store', 'check', 'remove', 'none')),
     remote_id TEXT,                   -- the backend's own id (PSA requestid, S3 key, piece CID...)
     details TEXT NOT NULL DEFAULT '{}',
     progress TEXT,                    -- StoreContext.checkpoint of the unfinished store (JSON)
     superseded TEXT NOT NULL DEFAULT '[]', -- earlier ReplicaRefs (lost / at risk) removed once this copy is stored
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     bytes INTEGER,
     poll_ms INTEGER,
     created INTEGER NOT NULL,
     updated INTEGER NOT NULL,
     stored_at INTEGER,
     checked_at INTEGER,
     remove_after INTEGER,
     PRIMARY KEY (root, backend)
   ) WITHOUT ROWID;
   CREATE INDEX replicas_state_checked ON replicas(state, checked_at);
   CREATE INDEX replicas_backend_state ON replicas(backend, state);
   CREATE INDEX replicas_remote ON replicas(backend, remote_id);
   CREATE TABLE replica_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     root TEXT NOT NULL,
     backend TEXT NOT NULL,
     at INTEGER NOT NULL,
     action TEXT NOT NULL,
     message TEXT
   );
   CREATE INDEX replica_log_replica ON replica_log(root, backend, id);
   CREATE TABLE replica_roots (
     root TEXT PRIMARY KEY,
     plan TEXT NOT NULL,               -- policy outcome: backends, minCopies, rule, problems
     car_size INTEGER,                 -- exact CARv1 length (measured over R2 once)
     dag_size INTEGER,
     blocks INTEGER
   );
   CREATE TABLE work_v3 (
     kind TEXT NOT NULL CHECK (kind IN ('pin', 'release', 'replica', 'migrate')),
     target TEXT NOT NULL,             -- requestid (pin), holder (release), '<root> <backend>' (replica), job id (migrate)
     due_at INTEGER NOT NULL,
     PRIMARY KEY (kind, target)
   ) WITHOUT ROWID;
   CREATE TABLE replica_overrides (
     root TEXT PRIMARY KEY,
     add_backends TEXT NOT NULL DEFAULT '[]',  -- copies a migration added to the policy's plan
     drop_backends TEXT NOT NULL DEFAULT '[]'  -- copies a migration moved away
   );
   CREATE TABLE migrate_jobs (
     id TEXT PRIMARY KEY,
     spec TEXT NOT NULL,               -- { from, to, mode, cids?, filter? }
     state TEXT NOT NULL CHECK (state IN ('selecting', 'running', 'done')),
     cursor TEXT NOT NULL DEFAULT '',  -- last root selected (roots are taken in order)
     created INTEGER NOT NULL,
     updated INTEGER NOT NULL
   );
   CREATE TABLE migrate_job_roots (
     job TEXT NOT NULL,
     root TEXT NOT NULL,
     PRIMARY KEY (job, root)
   ) WITHOUT ROWID;
   INSERT INTO work_v3 (kind, target, due_at) SELECT kind, target, due_at FROM work;
   DROP TABLE work;
   ALTER TABLE work_v3 RENAME TO work;
   CREATE INDEX work_due ON work(due_at);`,
];
