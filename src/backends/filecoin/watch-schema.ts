/**
 * FilecoinWatch's SQLite schema (docs/filecoin.md "Watch state"):
 * numbered, append-only migrations (src/durable-objects/sql-migrations.ts).
 *
 * - `copies`: one row per Filecoin copy under watch. `kind` 'pdp' (a piece
 *   in a PDP data set: piece_cid, data_set_id, piece_id, provider_id,
 *   retrieval_url) or 'deal' (a classic deal: deal_id). `state` is what was
 *   last reported to the engine: stored | at_risk | lost; `next_check_at`
 *   orders the work (due when <= now), so a run that stopped resumes with
 *   the copies it did not reach. Big integers are decimal TEXT.
 * - `actions`: every report, renewal, verification and drop, with time,
 *   reason and result (what the engine or the remote answered).
 * - `funding`: deposits and alerts of the payer account; a deposit row is
 *   written before the transaction is sent, so a crash between the two
 *   never leads to a second deposit for the same shortfall.
 * - 2: `copies_piece`: a piece's watch rows (FilecoinBackend.remove() asks
 *   whether another copy still holds a piece before deleting it).
 * - 3: `copy_owners`: every account whose replica is a watch row (two
 *   accounts pinning the same root on the same backend get the same data
 *   sets, piece ids, remote id, hence the same row; `copies.account` is only
 *   the one reported to). `''` stands for no account. Back-filled from
 *   `copies.account`. A row and its pieces go when its last owner releases
 *   it (FilecoinBackend.remove(), docs/filecoin.md "Removal").
 * - 4: classic deals entered by the operator (`POST /api/v1/filecoin/deals`)
 *   were one row per deal, remote id `deal-<dealId>`: the same deal entered
 *   for a second root (an aggregate deal holds many) overwrote the first's
 *   row. Remote ids are now `deal-<dealId>/<root>` (classic-deal.ts); the
 *   old rows are renamed to that (id, owners and actions follow), so the
 *   same deal and root entered again is the same row.
 * - 5: `copy_owners.known`: 1 when the owner was registered by `watch()`
 *   from now on (its replica records `details.account`, so its removal
 *   names it); 0 for every owner recorded before (back-filled from the one
 *   `copies.account`, possibly incomplete for a row two accounts shared
 *   before migration 3) and for owners found by asking the engines: a row
 *   with such an owner has its owners resolved again (every replicating
 *   account's PinRegistry asked) before its pieces may be deleted.
 *   `copy_owners.reported`: the state last reported to that owner (every
 *   owner hears each change, not only `copies.account`); back-filled with
 *   the row's state for `copies.account`, `stored` for the others (they
 *   were never told anything else). A row whose pieces are being deleted
 *   has `removal_requested = 1` and no owner: `watch()` refuses it.
 *   `deleted_pieces`: pieces whose deletion was sent (the claimed rows are
 *   gone by then, the chain may not show the removal yet): `watch()`
 *   refuses them too, and `store()` never reuses them. A piece id is never
 *   reused in a data set, so a tombstone stays true; kept 30 days.
 */
export const FILECOIN_WATCH_MIGRATIONS: readonly string[] = [
  `CREATE TABLE copies (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('pdp', 'deal')),
     account TEXT,
     root TEXT NOT NULL,
     backend TEXT NOT NULL,
     remote_id TEXT NOT NULL,
     piece_cid TEXT,
     data_set_id TEXT,
     piece_id TEXT,
     provider_id TEXT,
     retrieval_url TEXT,
     deal_id TEXT,
     added_epoch TEXT NOT NULL DEFAULT '0',
     removal_requested INTEGER NOT NULL DEFAULT 0,
     state TEXT NOT NULL DEFAULT 'stored',
     proof TEXT,
     last_check_at INTEGER,
     next_check_at INTEGER NOT NULL,
     failures INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     last_verified_at INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX copies_due ON copies (state, next_check_at, id);
   CREATE INDEX copies_root ON copies (root, backend);
   CREATE TABLE actions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     copy_id TEXT,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     reason TEXT NOT NULL,
     result TEXT NOT NULL
   );
   CREATE INDEX actions_copy ON actions (copy_id, seq);
   CREATE TABLE funding (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     payer TEXT NOT NULL,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('deposit', 'alert')),
     amount TEXT NOT NULL,
     funds_before TEXT NOT NULL,
     runway_epochs TEXT NOT NULL,
     state TEXT NOT NULL,
     tx_hash TEXT,
     message TEXT
   );`,
  `CREATE INDEX copies_piece ON copies (data_set_id, piece_id);`,
  `CREATE TABLE copy_owners (
     copy_id TEXT NOT NULL,
     account TEXT NOT NULL,
     PRIMARY KEY (copy_id, account)
   ) WITHOUT ROWID;
   INSERT INTO copy_owners (copy_id, account) SELECT id, COALESCE(account, '') FROM copies;`,
  `UPDATE copy_owners SET copy_id = (SELECT c.backend || '|deal-' || c.deal_id || '/' || c.root || '|deal-' || c.deal_id FROM copies c WHERE c.id = copy_owners.copy_id)
     WHERE copy_id IN (SELECT id FROM copies WHERE backend = 'filecoin-deal' AND kind = 'deal' AND remote_id = 'deal-' || deal_id);
   UPDATE actions SET copy_id = (SELECT c.backend || '|deal-' || c.deal_id || '/' || c.root || '|deal-' || c.deal_id FROM copies c WHERE c.id = actions.copy_id)
     WHERE copy_id IN (SELECT id FROM copies WHERE backend = 'filecoin-deal' AND kind = 'deal' AND remote_id = 'deal-' || deal_id);
   UPDATE copies SET remote_id = 'deal-' || deal_id || '/' || root, id = backend || '|deal-' || deal_id || '/' || root || '|deal-' || deal_id
     WHERE backend = 'filecoin-deal' AND kind = 'deal' AND remote_id = 'deal-' || deal_id;`,
  `ALTER TABLE copy_owners ADD COLUMN known INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE copy_owners ADD COLUMN reported TEXT NOT NULL DEFAULT 'stored';
   UPDATE copy_owners SET reported = COALESCE(
     (SELECT c.state FROM copies c WHERE c.id = copy_owners.copy_id AND COALESCE(c.account, '') = copy_owners.account), 'stored');
   CREATE TABLE deleted_pieces (
     data_set_id TEXT NOT NULL,
     piece_id TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (data_set_id, piece_id)
   ) WITHOUT ROWID;`,
];
