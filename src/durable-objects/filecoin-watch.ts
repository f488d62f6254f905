import { DurableObject } from "cloudflare:workers";
import type { ReplicaCheck } from "../backends/replication-backend";
import { createChainReader, pieceKey, type DataSetState, type FilecoinChainReader } from "../backends/filecoin/chain-reader";
import { createFunder } from "../backends/filecoin/funder";
import { epochToMs, LotusClient } from "../backends/filecoin/lotus-client";
import { pieceCidOfStream } from "../backends/filecoin/piece-cid";
import { replicaSinks } from "../backends/filecoin/replica-sink";
import { FILECOIN_WATCH_MIGRATIONS } from "../backends/filecoin/watch-schema";
import { dealVerdict, EPOCHS_PER_DAY, pdpVerdict, type Verdict } from "../backends/filecoin/watch-verdict";
import { watchConfig, type WatchConfig } from "../backends/filecoin/watch-config";
import { migrate } from "./sql-migrations";
import { CID } from "multiformats/cid";
import { setHolderSource, trustlessBaseOf } from "../replication/holder-index";
import { isPrivateUrl } from "../gateway/providers/multiaddr-url";
import { HttpTrustlessGateway, type TrustlessGateway } from "../gateway/upstream/trustless-gateway";
import { VerifiedBlockSession } from "../gateway/upstream/block-session";
import type { ResumePoint } from "../gateway/traversal/block-source";
import { loadBlock } from "../gateway/traversal/load-block";
import { selectBlocks } from "../gateway/traversal/select-blocks";
import { decodeNode } from "../gateway/dag/decode-node";
import { accountsStub } from "./accounts";
import { registryStub } from "./pin-registry";

/** A checked copy is checked again after this long (the cron runs every 30 min). */
const CHECK_INTERVAL_MS = 25 * 60_000;
/** A copy whose check failed (RPC down, timeout) is retried after 1 min, doubling, at most 1 h. */
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 60 * 60_000;
/** Copies taken per step; a run takes steps until its budget is spent. */
const STEP_COPIES = 2_500;
/** Data sets per Multicall3 request (5 calls each: 200 calls, chain-reader MULTICALL_CHUNK). */
const DATA_SETS_PER_REQUEST = 40;
/** Pieces per Multicall3 request. */
const PIECES_PER_REQUEST = 200;
/**
 * A run (cron invocation or alarm) stops taking steps after this much wall
 * time or this many subrequests, well inside a Worker's limits (1,000
 * subrequests on the paid plan; a cron may run 15 min); the alarm resumes.
 */
const RUN_BUDGET_MS = 60_000;
// The subrequest budget is FOC_WATCH_SUBREQUESTS (watch-config.ts, default 800).
/** A deposit not seen in the account's funds after this long is marked unconfirmed and alerted, never re-sent. */
const DEPOSIT_SETTLE_MS = 2 * 60 * 60_000;
/** One funding alert a day at most. */
const ALERT_EVERY_MS = 24 * 60 * 60_000;
/** Lotus classic deals are mainnet deals: genesis 2020-08-24T22:00:00Z. */
const MAINNET_GENESIS_SEC = 1_598_306_400;
/** Owners of a legacy row are resolved by asking at most this many replicating accounts, this many at once. */
const RESOLVE_MAX_ACCOUNTS = 1_000;
const RESOLVE_PAGE = 50;
/**
 * The rows a run checks: stored or at risk, and lost ones an owner has not
 * heard about yet (its report failed: the others were told, the row is
 * lost), never a row whose pieces are being deleted.
 */
const CHECKED = `removal_requested = 0 AND (state IN ('stored', 'at_risk')
  OR (state = 'lost' AND EXISTS (SELECT 1 FROM copy_owners o WHERE o.copy_id = copies.id AND o.account != '' AND o.reported = 'stored')))`;
/** A deleted piece is refused by `watch()` this long after its deletion was sent (the chain shows it by then). */
const TOMBSTONE_MS = 30 * 24 * 60 * 60_000;
/** How `watch()` refuses a piece whose deletion is claimed (FilecoinBackend.store() looks for it). */
export const PIECE_BEING_DELETED = "piece being deleted";

/** A copy to watch (the backend registers each piece of each copy it stored; the operator registers deals). */
export interface WatchCopyInput {
  kind: "pdp" | "deal";
  account?: string | null;
  root: string;
  backend: string;
  remoteId: string;
  pieceCid?: string;
  dataSetId?: string;
  pieceId?: string;
  providerId?: string;
  retrievalUrl?: string;
  dealId?: string;
  /** Chain epoch the piece was added at (proofs cannot be overdue before it). */
  addedEpoch?: string;
}

export interface WatchedCopy extends Required<Omit<WatchCopyInput, "account">> {
  id: string;
  account: string | null;
  state: "stored" | "at_risk" | "lost";
  proof: string | null;
  lastCheckAt: number | null;
  nextCheckAt: number;
  failures: number;
  lastError: string | null;
  lastVerifiedAt: number | null;
}

export interface WatchAction {
  copyId: string | null;
  at: number;
  kind: string;
  reason: string;
  result: string;
}

export interface FundingEvent {
  payer: string;
  at: number;
  kind: "deposit" | "alert";
  amount: string;
  fundsBefore: string;
  runwayEpochs: string;
  state: string;
  txHash: string | null;
  message: string | null;
}

export interface RunSummary {
  checked: number;
  failed: number;
  reported: number;
  verified: number;
  subrequests: number;
  /** Copies still due when the run stopped (an alarm continues them). */
  remaining: number;
  funding: string;
}

type CopyRow = {
  id: string;
  kind: "pdp" | "deal";
  account: string | null;
  root: string;
  backend: string;
  remote_id: string;
  piece_cid: string | null;
  data_set_id: string | null;
  piece_id: string | null;
  provider_id: string | null;
  retrieval_url: string | null;
  deal_id: string | null;
  added_epoch: string;
  removal_requested: number;
  state: "stored" | "at_risk" | "lost";
  proof: string | null;
  last_check_at: number | null;
  next_check_at: number;
  failures: number;
  last_error: string | null;
  last_verified_at: number | null;
};

type RunCounters = { checked: number; failed: number; reported: number; verified: number; subrequests: number };

/**
 * Keeps every Filecoin copy alive (DESIGN.md "deal monitoring and
 * renewal", issue 10): one object for the deployment, its own SQLite
 * (src/backends/filecoin/watch-schema.ts) so it never touches the
 * replication engine's tables. A Cron Trigger calls `run`; each run checks
 * the due copies in bounded steps (data sets and pieces batched through
 * Multicall3, a failing request bisected so one bad data set or a timeout
 * only delays itself), tops up or alerts on the payer's runway, verifies a
 * sample of copies by fetching them back, and reports every change to the
 * engine (`ReplicaSink`), which makes the new copy. Work left when the
 * budget is spent continues from an alarm.
 */
export class FilecoinWatch extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  #running: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, FILECOIN_WATCH_MIGRATIONS));
  }

  /**
   * Puts a copy under watch (idempotent: the same copy again updates its
   * details, never its state). Copies of the same root and backend that
   * were reported lost or at risk are dropped now: their replacement
   * exists.
   */
  async watch(input: WatchCopyInput, now = Date.now()): Promise<string> {
    const id = this.#watch(input, now);
    // Only PDP copies name a provider's gateway (a deal has none): the holder record changes with them.
    if (input.kind === "pdp") await this.#syncHolders([input.root]);
    return id;
  }

  #watch(input: WatchCopyInput, now: number): string {
    const id = this.#checkWatchable(input);
    this.#sql.exec(
      `INSERT INTO copies (id, kind, account, root, backend, remote_id, piece_cid, data_set_id, piece_id, provider_id,
         retrieval_url, deal_id, added_epoch, next_check_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET account = excluded.account, retrieval_url = excluded.retrieval_url,
         provider_id = excluded.provider_id`,
      id, input.kind, input.account ?? null, input.root, input.backend, input.remoteId, input.pieceCid ?? null,
      input.dataSetId ?? null, input.pieceId ?? null, input.providerId ?? null, input.retrievalUrl ?? null,
      input.dealId ?? null, input.addedEpoch ?? "0", now, now,
    );
    // A registration names its account: its removal will release exactly this owner (known = 1).
    this.#sql.exec(
      "INSERT INTO copy_owners (copy_id, account, known, reported) VALUES (?, ?, 1, 'stored') ON CONFLICT (copy_id, account) DO UPDATE SET known = 1",
      id, input.account ?? "",
    );
    const replaced = this.#sql
      .exec<{ id: string; state: string }>(
        "SELECT id, state FROM copies WHERE root = ? AND backend = ? AND id != ? AND state IN ('lost', 'at_risk') AND removal_requested = 0",
        input.root, input.backend, id,
      )
      .toArray();
    for (const old of replaced) {
      // The registering account's replacement exists; another account sharing the old copy may still be making its own.
      this.#sql.exec("DELETE FROM copy_owners WHERE copy_id = ? AND account = ?", old.id, input.account ?? "");
      const left = this.#owners(old.id).filter((o) => o !== "");
      const why = `replaced by new copy ${id} (old copy was ${old.state})`;
      if (left.length > 0) {
        this.#sql.exec("UPDATE copies SET account = ? WHERE id = ? AND COALESCE(account, '') NOT IN (SELECT account FROM copy_owners WHERE copy_id = ?)", left[0], old.id, old.id);
        this.#log(old.id, now, "release", why, `account ${input.account ?? "(none)"} released it; still held by ${left.join(", ")}`);
        continue;
      }
      this.#sql.exec("DELETE FROM copies WHERE id = ?", old.id);
      this.#sql.exec("DELETE FROM copy_owners WHERE copy_id = ?", old.id);
      this.#log(old.id, now, "drop", why, "dropped from the watch");
    }
    return id;
  }

  /**
   * The copy's id, or a throw: a malformed copy, or a PDP piece whose
   * deletion its last owner already claimed (`claimRemoval`): that piece is
   * going (the deletion may be on its way to the provider), so a replica
   * cannot keep it; the message starts with `PIECE_BEING_DELETED`, and
   * `store()` commits the piece again under a new piece id.
   */
  #checkWatchable(input: WatchCopyInput): string {
    const id = copyId(input);
    if (input.kind === "pdp" && !(input.pieceCid && input.dataSetId && input.pieceId)) {
      throw new Error("a pdp copy needs pieceCid, dataSetId and pieceId");
    }
    if (input.kind === "deal" && !/^\d+$/.test(input.dealId ?? "")) throw new Error("a deal copy needs a numeric dealId");
    if (input.kind === "pdp") {
      if (this.#goingPieces(input.dataSetId!, input.pieceId!).length > 0) throw new Error(`${PIECE_BEING_DELETED}: piece ${input.pieceId} of data set ${input.dataSetId} (its last owner removed it); store it again`);
    }
    return id;
  }

  /**
   * `watch` for many copies in one call (a replica's pieces, a migration,
   * the bench); returns their ids. All or nothing: every copy is checked
   * (`#checkWatchable`) before any is written, in one synchronous step.
   */
  async watchMany(inputs: WatchCopyInput[], now = Date.now()): Promise<string[]> {
    for (const input of inputs) this.#checkWatchable(input);
    const ids: string[] = [];
    for (const input of inputs) ids.push(this.#watch(input, now));
    await this.#syncHolders(inputs.filter((i) => i.kind === "pdp").map((i) => i.root));
    return ids;
  }

  /** Stops watching a copy (its pin was removed, or we asked for the piece's removal). */
  async unwatch(id: string, reason = "unwatched"): Promise<boolean> {
    const root = this.#sql.exec<{ root: string }>("SELECT root FROM copies WHERE id = ? AND retrieval_url IS NOT NULL", id).toArray()[0]?.root;
    const n = this.#sql.exec("DELETE FROM copies WHERE id = ?", id).rowsWritten;
    this.#sql.exec("DELETE FROM copy_owners WHERE copy_id = ?", id);
    if (n > 0) this.#log(id, Date.now(), "unwatch", reason, "removed");
    if (root !== undefined) await this.#syncHolders([root]);
    return n > 0;
  }

  /**
   * `account` removes its replica `remoteId` of `backend`, whose pieces are
   * `pieces` (`<dataSetId>/<pieceId>`): releases its ownership and decides,
   * piece by piece, whether the piece may be deleted, in ONE synchronous
   * step (no await between the release and the decision, so no `watch()`
   * interleaves). A piece is kept when another copy of `backend` holds it
   * under another remote id (a repair reuses a healthy provider's data set)
   * or another account still owns its row (two accounts pinning one root
   * share pieces and remote id). Otherwise its row is marked
   * `removal_requested` with no owner, and `watch()` refuses it from then
   * on: a new owner arriving while the deletion is sent commits the piece
   * again (`store()`), never keeps a doomed piece id. `finishRemoval` drops
   * the rows once the deletions were sent.
   *
   * Owners whose removal may not name them (`known = 0`: recorded before
   * the owners migration, or found by a resolution) and a removal that does not say
   * whose it is (`account` undefined: a replica stored before
   * `details.account`) are resolved first: every replicating account's
   * PinRegistry is asked whether it still holds the replica (or stores the
   * root on this backend now); those that do are the owners. When that
   * cannot be done (too many accounts, a PinRegistry not answering) the
   * pieces are kept, never deleted on a guess.
   */
  async claimRemoval(backend: string, remoteId: string, pieces: string[], account: string | null | undefined, reason: string): Promise<{ remove: string[]; kept: string[] }> {
    const keyed = pieces.map((key) => ({ key, id: `${backend}|${remoteId}|${key}` }));
    const needs = keyed.filter(({ id }) => this.#exists(id) && (account === undefined || this.#sql.exec("SELECT 1 FROM copy_owners WHERE copy_id = ? AND known = 0 LIMIT 1", id).toArray().length > 0));
    let resolved: Map<string, string[]> | undefined;
    let unresolved = "";
    if (needs.length > 0) {
      const roots = [...new Set(needs.map(({ id }) => this.#sql.exec<{ root: string }>("SELECT root FROM copies WHERE id = ?", id).one().root))];
      try {
        resolved = await this.#resolveOwners(backend, remoteId, roots);
      } catch (err) {
        unresolved = message(err);
      }
    }
    // ---- one synchronous step from here: release, resolve, decide, mark ----
    const now = Date.now();
    const remove: string[] = [];
    const kept: string[] = [];
    for (const { key, id } of keyed) {
      const [dataSetId, pieceId] = key.split("/");
      const row = this.#sql.exec<{ root: string; account: string | null }>("SELECT root, account FROM copies WHERE id = ?", id).toArray()[0];
      if (account !== undefined) this.#sql.exec("DELETE FROM copy_owners WHERE copy_id = ? AND account = ?", id, account ?? "");
      if (row !== undefined && needs.some((n) => n.id === id)) {
        if (resolved === undefined) {
          kept.push(key);
          this.#log(id, now, "release", reason, `kept: its owners could not be resolved (${unresolved}); nothing deleted`);
          continue;
        }
        this.#sql.exec("DELETE FROM copy_owners WHERE copy_id = ? AND known = 0", id);
        for (const a of resolved.get(row.root) ?? []) {
          if (a !== account) this.#sql.exec("INSERT OR IGNORE INTO copy_owners (copy_id, account, known, reported) VALUES (?, ?, 0, 'stored')", id, a);
        }
      }
      const elsewhere = this.#sql
        .exec("SELECT 1 FROM copies WHERE data_set_id = ? AND piece_id = ? AND kind = 'pdp' AND backend = ? AND remote_id != ? AND removal_requested = 0 LIMIT 1", dataSetId, pieceId, backend, remoteId)
        .toArray().length > 0;
      const owners = row === undefined ? [] : this.#owners(id);
      const who = account === undefined ? "an account stored before details.account" : `account ${account ?? "(none)"}`;
      if (owners.length > 0) {
        kept.push(key);
        if (!owners.includes(row!.account ?? "")) this.#sql.exec("UPDATE copies SET account = ? WHERE id = ?", owners[0] || null, id);
        this.#log(id, now, "release", reason, `${who} released it; still held by ${owners.map((o) => o || "(none)").join(", ")}`);
      } else if (elsewhere) {
        kept.push(key);
        if (row !== undefined) {
          this.#sql.exec("DELETE FROM copies WHERE id = ?", id);
          this.#log(id, now, "unwatch", reason, "removed"); // the piece stays: another copy holds it
        }
      } else {
        remove.push(key);
        if (row !== undefined) {
          this.#sql.exec("UPDATE copies SET removal_requested = 1, account = NULL WHERE id = ?", id);
          this.#log(id, now, "claim", reason, `${who} released it; no owner left: the piece is deleted`);
        }
      }
    }
    return { remove, kept };
  }

  /**
   * The deletions `claimRemoval` decided were sent: their rows leave the
   * watch, and each piece is remembered as deleted (`deleted_pieces`, 30
   * days) so that `watch()` still refuses it while the chain may not show
   * its removal yet.
   */
  async finishRemoval(backend: string, remoteId: string, pieces: string[], reason: string): Promise<void> {
    const roots = new Set<string>();
    const now = Date.now();
    this.#sql.exec("DELETE FROM deleted_pieces WHERE at < ?", now - TOMBSTONE_MS);
    for (const key of pieces) {
      const [dataSetId, pieceId] = key.split("/");
      this.#sql.exec("INSERT OR REPLACE INTO deleted_pieces (data_set_id, piece_id, at) VALUES (?, ?, ?)", dataSetId, pieceId, now);
      const id = `${backend}|${remoteId}|${key}`;
      const row = this.#sql.exec<{ root: string }>("SELECT root FROM copies WHERE id = ? AND removal_requested = 1", id).toArray()[0];
      if (row === undefined || this.#owners(id).length > 0) continue;
      this.#sql.exec("DELETE FROM copies WHERE id = ?", id);
      this.#log(id, Date.now(), "unwatch", reason, "removed");
      roots.add(row.root);
    }
    await this.#syncHolders([...roots]);
  }

  /**
   * A removal left data set `dataSetId` of `backend` without a piece that
   * stays (FilecoinBackend.remove()): logged for the operator (kind
   * `data set`, no copy). It is not deleted: docs/filecoin.md "Not done".
   */
  async noteEmptiedDataSet(backend: string, dataSetId: string, providerId: string): Promise<void> {
    const reason = `data set ${dataSetId} of provider ${providerId} (${backend}) has no piece left after this removal`;
    this.#log(null, Date.now(), "data set", reason, "not deleted: ending it takes FWSS terminateService from the payer's wallet; a later store reuses it");
    console.warn(`filecoin watch: ${reason}; it stays live at FWSS's minimum rate until terminated or reused`);
  }

  /** Piece ids of data set `dataSetId` whose deletion was claimed or sent here (store() never reuses them). */
  async deletingPieces(dataSetId: string): Promise<string[]> {
    return this.#goingPieces(dataSetId);
  }

  /** Piece ids of `dataSetId` claimed for deletion (`removal_requested`) or deleted (`deleted_pieces`); `pieceId`: that one only. */
  #goingPieces(dataSetId: string, pieceId: string | null = null): string[] {
    return this.#sql
      .exec<{ piece_id: string }>(
        `SELECT piece_id FROM copies WHERE kind = 'pdp' AND data_set_id = ?1 AND removal_requested = 1 AND (?2 IS NULL OR piece_id = ?2)
         UNION SELECT piece_id FROM deleted_pieces WHERE data_set_id = ?1 AND (?2 IS NULL OR piece_id = ?2) ORDER BY piece_id`,
        dataSetId, pieceId,
      )
      .toArray()
      .map((r) => r.piece_id);
  }

  /**
   * Which accounts hold `remoteId` of `backend` for each root: every
   * replicating account (Accounts `replicatingAccountsAfter`) asked in
   * pages, its PinRegistry answering `holdsReplica`. Throws beyond
   * RESOLVE_MAX_ACCOUNTS accounts or when one does not answer (the caller
   * keeps the pieces).
   */
  async #resolveOwners(backend: string, remoteId: string, roots: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(roots.map((r) => [r, []]));
    const accounts = accountsStub(this.env);
    let seen = 0;
    for (let after = "", page = await accounts.replicatingAccountsAfter(after, RESOLVE_PAGE); page.length > 0; after = page.at(-1)!, page = await accounts.replicatingAccountsAfter(after, RESOLVE_PAGE)) {
      seen += page.length;
      if (seen > RESOLVE_MAX_ACCOUNTS) throw new Error(`more than ${RESOLVE_MAX_ACCOUNTS} replicating accounts to ask`);
      await Promise.all(
        page.flatMap((a) => roots.map(async (root) => {
          if (await registryStub(this.env, a).holdsReplica(root, backend, remoteId)) out.get(root)!.push(a);
        })),
      );
    }
    for (const list of out.values()) list.sort();
    return out;
  }

  #exists(id: string): boolean {
    return this.#sql.exec("SELECT 1 FROM copies WHERE id = ?", id).toArray().length > 0;
  }

  /** The accounts owning copy `id` (`''`: no account), in order. */
  #owners(id: string): string[] {
    return this.#sql.exec<{ account: string }>("SELECT account FROM copy_owners WHERE copy_id = ? ORDER BY account", id).toArray().map((r) => r.account);
  }

  /** `unwatch` for many copies in one call (a migration cancelled, test cleanup); returns how many were watched. */
  async unwatchMany(ids: string[], reason = "unwatched"): Promise<number> {
    const roots = new Set<string>();
    let n = 0;
    for (const id of ids) {
      const row = this.#sql.exec<{ root: string; retrieval_url: string | null }>("SELECT root, retrieval_url FROM copies WHERE id = ?", id).toArray()[0];
      if (row === undefined) continue;
      this.#sql.exec("DELETE FROM copies WHERE id = ?", id);
      this.#sql.exec("DELETE FROM copy_owners WHERE copy_id = ?", id);
      this.#log(id, Date.now(), "unwatch", reason, "removed");
      if (row.retrieval_url !== null) roots.add(row.root);
      n++;
    }
    await this.#syncHolders([...roots]);
    return n;
  }

  async copies(root?: string): Promise<WatchedCopy[]> {
    const rows = root
      ? this.#sql.exec<CopyRow>("SELECT * FROM copies WHERE root = ? ORDER BY id", root).toArray()
      : this.#sql.exec<CopyRow>("SELECT * FROM copies ORDER BY id").toArray();
    return rows.map(toCopy);
  }

  async actions(copy?: string): Promise<WatchAction[]> {
    const rows = copy
      ? this.#sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM actions WHERE copy_id = ? ORDER BY seq", copy).toArray()
      : this.#sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM actions ORDER BY seq").toArray();
    return rows.map((r) => ({ copyId: r.copy_id as string | null, at: r.at as number, kind: r.kind as string, reason: r.reason as string, result: r.result as string }));
  }

  async funding(): Promise<FundingEvent[]> {
    return this.#sql
      .exec<Record<string, SqlStorageValue>>("SELECT * FROM funding ORDER BY seq")
      .toArray()
      .map((r) => ({
        payer: r.payer as string, at: r.at as number, kind: r.kind as "deposit" | "alert", amount: r.amount as string,
        fundsBefore: r.funds_before as string, runwayEpochs: r.runway_epochs as string, state: r.state as string,
        txHash: r.tx_hash as string | null, message: r.message as string | null,
      }));
  }

  /**
   * One monitoring run at time `now` (the cron's scheduled time): checks
   * due copies until the run's budget is spent, then funding and the
   * fetch-back sample. Idempotent; failures of single copies are recorded
   * on them and retried later, never thrown.
   */
  async run(now = Date.now()): Promise<RunSummary> {
    // One run at a time: a cron run and a continuing alarm must not check (and report) the same copies twice.
    const result = this.#running.then(() => this.#run(now));
    this.#running = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #run(now: number): Promise<RunSummary> {
    const cfg = watchConfig(this.env);
    const started = Date.now();
    const counters: RunCounters = { checked: 0, failed: 0, reported: 0, verified: 0, subrequests: 0 };
    const fetcher: typeof fetch = (input, init) => {
      counters.subrequests++;
      return fetch(input, init);
    };
    let reader: FilecoinChainReader | undefined;
    const getReader = async () => (reader ??= await createChainReader(cfg.chain, cfg.rpcTimeoutMs, fetcher));
    let proving: { maxProvingPeriod: bigint } | undefined;

    while (Date.now() - started < RUN_BUDGET_MS && counters.subrequests < cfg.runSubrequests) {
      const rows = this.#sql
        .exec<CopyRow>(
          `SELECT * FROM copies WHERE ${CHECKED} AND next_check_at <= ? ORDER BY next_check_at, id LIMIT ?`,
          now, STEP_COPIES,
        )
        .toArray();
      if (rows.length === 0) break;
      const pdp = rows.filter((r) => r.kind === "pdp");
      const deals = rows.filter((r) => r.kind === "deal");
      if (pdp.length > 0) {
        try {
          const r = await getReader();
          proving ??= await r.pdpConfig();
          await this.#checkPdp(pdp, r, proving.maxProvingPeriod, cfg, now, counters);
        } catch (err) {
          for (const row of pdp) this.#failed(row, now, err, counters);
        }
      }
      if (deals.length > 0) await this.#checkDeals(deals, cfg, now, fetcher, counters);
    }

    let funding = "no payer configured";
    if (cfg.payer) {
      try {
        funding = await this.#fund(await getReader(), cfg, now);
      } catch (err) {
        funding = `account check failed: ${message(err)}`;
        this.#log(null, now, "funding", "account check", funding);
      }
    }
    await this.#verifySample(cfg, now, fetcher, counters);

    const remaining = this.#sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM copies WHERE ${CHECKED} AND next_check_at <= ?`, now)
      .one().n;
    if (remaining > 0) await this.ctx.storage.setAlarm(Date.now() + 1_000);
    return { ...counters, remaining, funding };
  }

  override async alarm(): Promise<void> {
    await this.run(Date.now());
  }

  // ---- checks ---------------------------------------------------------------

  async #checkPdp(rows: CopyRow[], reader: FilecoinChainReader, maxProvingPeriod: bigint, cfg: WatchConfig, now: number, counters: RunCounters): Promise<void> {
    const head = await reader.head();
    const ids = [...new Set(rows.map((r) => r.data_set_id!))].map(BigInt);
    const sets = await bisect(ids, DATA_SETS_PER_REQUEST, (chunk) => reader.dataSets(chunk), (id) => id);
    const pieces = rows
      .filter((r) => {
        const s = sets.get(BigInt(r.data_set_id!));
        return s !== undefined && !(s instanceof Error) && s.live;
      })
      .map((r) => ({ dataSetId: BigInt(r.data_set_id!), pieceId: BigInt(r.piece_id!) }));
    const live = await bisect(pieces, PIECES_PER_REQUEST, (chunk) => reader.piecesLive(chunk), (p) => pieceKey(p.dataSetId, p.pieceId));
    for (const row of rows) {
      const set = sets.get(BigInt(row.data_set_id!));
      if (set === undefined || set instanceof Error) {
        this.#failed(row, now, set ?? new Error("no answer for the data set"), counters);
        continue;
      }
      const pieceLive = set.live ? live.get(pieceKey(set.dataSetId, BigInt(row.piece_id!))) : false;
      if (pieceLive === undefined || pieceLive instanceof Error) {
        this.#failed(row, now, pieceLive ?? new Error("no answer for the piece"), counters);
        continue;
      }
      const verdict = pdpVerdict({
        dataSet: set as DataSetState,
        pieceId: BigInt(row.piece_id!),
        pieceLive,
        removalRequested: row.removal_requested === 1,
        head,
        addedEpoch: BigInt(row.added_epoch),
        policy: { maxProvingPeriod, atRiskPeriods: cfg.atRiskPeriods, lostPeriods: cfg.lostPeriods },
      });
      await this.#apply(row, verdict, now, counters);
    }
  }

  async #checkDeals(rows: CopyRow[], cfg: WatchConfig, now: number, fetcher: typeof fetch, counters: RunCounters): Promise<void> {
    if (!cfg.lotusRpcUrl) {
      for (const row of rows) this.#failed(row, now, new Error("LOTUS_RPC_URL is not set"), counters);
      return;
    }
    const lotus = new LotusClient(cfg.lotusRpcUrl, cfg.rpcTimeoutMs, fetcher);
    let head: bigint;
    try {
      head = await lotus.head();
    } catch (err) {
      for (const row of rows) this.#failed(row, now, err, counters);
      return;
    }
    const window = BigInt(Math.round(cfg.renewWindowDays)) * EPOCHS_PER_DAY;
    for (const row of rows) {
      try {
        const deal = await lotus.deal(BigInt(row.deal_id!));
        const verdict = dealVerdict(deal, head, window);
        if (verdict.state !== "lost" && deal !== "not_found") {
          const ends = new Date(epochToMs(deal.endEpoch, MAINNET_GENESIS_SEC)).toISOString();
          if (verdict.state === "stored") verdict.proof += ` (${ends})`;
          else verdict.reason += ` (ends ${ends})`;
        }
        await this.#apply(row, verdict, now, counters);
      } catch (err) {
        this.#failed(row, now, err, counters);
      }
    }
  }

  /**
   * Records a verdict. A change is reported to every owner of the row
   * (`copy_owners`: each account pinning the root on this backend shares
   * the copy) that has not heard it yet (`reported`); an owner whose report
   * fails hears it again next run, the others are not told twice. The row
   * takes the new state once at least one owner recorded it (the engine
   * makes the new copy); if none could, it is kept unchanged.
   */
  async #apply(row: CopyRow, verdict: Verdict, now: number, counters: RunCounters): Promise<void> {
    counters.checked++;
    const proof = verdict.state === "lost" ? row.proof : (verdict.proof ?? row.proof);
    // One replica may be several copies (providers): while another is still stored, a lost one puts the replica at risk.
    const others =
      verdict.state === "lost"
        ? this.#sql
            .exec<{ n: number }>(
              "SELECT COUNT(*) AS n FROM copies WHERE backend = ? AND remote_id = ? AND root = ? AND id != ? AND state = 'stored'",
              row.backend, row.remote_id, row.root, row.id,
            )
            .one().n
        : 0;
    const check: ReplicaCheck =
      others > 0 && verdict.state === "lost"
        ? { state: "at_risk", message: `copy ${row.id} lost (${verdict.reason}); ${others} other copies remain` }
        : verdict.state === "stored"
        ? { state: "stored", details: { proof: verdict.proof } }
        : verdict.state === "at_risk"
          ? { state: "at_risk", message: verdict.reason, details: { proof: verdict.proof ?? null } }
          : { state: "lost", message: verdict.reason };
    const owners = this.#sql
      .exec<{ account: string; reported: string }>("SELECT account, reported FROM copy_owners WHERE copy_id = ? ORDER BY account", row.id)
      .toArray();
    const accounts = owners.filter((o) => o.account !== "");
    // No account to report to (a deal watched without one): the sink refuses it below, logged every run.
    const targets = accounts.length === 0 ? (verdict.state === row.state ? [] : [null]) : accounts.filter((o) => o.reported !== check.state).map((o) => o.account);
    if (targets.length === 0) {
      this.#sql.exec(
        "UPDATE copies SET proof = ?, last_check_at = ?, next_check_at = ?, failures = 0, last_error = NULL WHERE id = ?",
        proof, now, now + CHECK_INTERVAL_MS, row.id,
      );
      return;
    }
    const reason = verdict.state === "stored" ? verdict.proof : verdict.reason;
    const kind = verdict.state === "stored" ? "recovered" : "renew";
    const heard: string[] = [];
    const failed: string[] = [];
    for (const account of targets) {
      try {
        await replicaSinks.forEnv(this.env).reportReplicaCheck({ account, root: row.root, backend: row.backend, remoteId: row.remote_id }, check);
        heard.push(account!);
        this.#sql.exec("UPDATE copy_owners SET reported = ? WHERE copy_id = ? AND account = ?", check.state, row.id, account);
      } catch (err) {
        failed.push(`${account ?? "(no account)"}: ${message(err)}`);
      }
    }
    const to = accounts.length > 1 ? ` (to ${heard.join(", ")})` : "";
    if (failed.length > 0) {
      counters.failed++;
      // One owner: its error as it came; several: each prefixed by its account.
      const why = accounts.length <= 1 ? failed[0]!.slice(failed[0]!.indexOf(": ") + 2) : failed.join("; ");
      this.#log(row.id, now, kind, reason, `report to the engine failed, retried next run: ${why}${heard.length > 0 ? `; reported${to}` : ""}`);
      this.#sql.exec(
        "UPDATE copies SET last_check_at = ?, next_check_at = ?, last_error = ? WHERE id = ?",
        now, now + RETRY_BASE_MS, `report failed: ${why}`, row.id,
      );
      if (heard.length === 0) return;
    }
    counters.reported++;
    this.#sql.exec(
      `UPDATE copies SET state = ?, proof = ?, last_check_at = ?, next_check_at = ?, failures = 0${failed.length > 0 ? "" : ", last_error = NULL"} WHERE id = ?`,
      verdict.state, proof, now, failed.length > 0 ? now + RETRY_BASE_MS : now + CHECK_INTERVAL_MS, row.id,
    );
    // A lost copy's provider stops being an upstream for the root (and a recovered one becomes one again).
    if (row.retrieval_url !== null) await this.#syncHolders([row.root]);
    if (failed.length > 0) return;
    this.#log(
      row.id, now, kind, reason,
      (verdict.state === "stored" ? "reported stored" : `reported ${verdict.state}: the engine makes a new copy; this one stays watched until it exists`) + to,
    );
  }

  #failed(row: CopyRow, now: number, err: unknown, counters: RunCounters): void {
    counters.failed++;
    const failures = row.failures + 1;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1));
    this.#sql.exec(
      "UPDATE copies SET failures = ?, last_error = ?, next_check_at = ? WHERE id = ?",
      failures, message(err), now + delay, row.id,
    );
    if (failures === 1) this.#log(row.id, now, "check", "check failed", `retry in ${Math.round(delay / 1000)} s: ${message(err)}`);
  }

  // ---- funding --------------------------------------------------------------

  async #fund(reader: FilecoinChainReader, cfg: WatchConfig, now: number): Promise<string> {
    const payer = cfg.payer!;
    const account = await reader.account(payer);
    // Deposits sent earlier: confirmed once the funds show them; never sent twice.
    const pending = this.#sql
      .exec<{ seq: number; amount: string; funds_before: string; at: number }>(
        "SELECT seq, amount, funds_before, at FROM funding WHERE kind = 'deposit' AND payer = ? AND state IN ('sending', 'submitted')",
        payer,
      )
      .toArray();
    let waiting = false;
    for (const p of pending) {
      if (account.funds >= BigInt(p.funds_before) + BigInt(p.amount)) {
        this.#sql.exec("UPDATE funding SET state = 'confirmed' WHERE seq = ?", p.seq);
      } else if (now - p.at > DEPOSIT_SETTLE_MS) {
        this.#sql.exec("UPDATE funding SET state = 'unconfirmed', message = 'not seen in the account funds; check the transaction' WHERE seq = ?", p.seq);
        this.#log(null, now, "funding", "deposit unconfirmed", `deposit #${p.seq} not seen in the funds after 2 h: check it, it is not sent again`);
      } else {
        waiting = true;
      }
    }
    if (waiting) return "a deposit is pending";
    const runwayDays = account.runwayInEpochs / EPOCHS_PER_DAY;
    const minEpochs = BigInt(Math.round(cfg.minRunwayDays * 2880));
    if (account.runwayInEpochs >= minEpochs) return `runway ${runwayDays} days`;
    const target = account.lockupRatePerEpoch * BigInt(Math.round(cfg.targetRunwayDays * 2880));
    const wanted = target > account.availableFunds ? target - account.availableFunds : 0n;
    const room = cfg.maxBalance > account.funds ? cfg.maxBalance - account.funds : 0n;
    const amount = wanted < room ? wanted : room;
    const shortfall = `runway ${runwayDays} days < FOC_MIN_RUNWAY_DAYS ${cfg.minRunwayDays}`;
    if (!cfg.autoFund || !cfg.fundingKey || amount <= 0n) {
      const why = !cfg.autoFund
        ? "auto-funding is off"
        : !cfg.fundingKey
          ? "FOC_FUNDING_KEY is not set"
          : `the balance is at FOC_MAX_BALANCE (${cfg.maxBalance})`;
      const last = this.#sql
        .exec<{ at: number }>("SELECT at FROM funding WHERE kind = 'alert' AND payer = ? ORDER BY seq DESC LIMIT 1", payer)
        .toArray()[0];
      if (!last || now - last.at >= ALERT_EVERY_MS) {
        this.#sql.exec(
          "INSERT INTO funding (payer, at, kind, amount, funds_before, runway_epochs, state, message) VALUES (?, ?, 'alert', ?, ?, ?, 'open', ?)",
          payer, now, amount.toString(), account.funds.toString(), account.runwayInEpochs.toString(), `${shortfall}; ${why}`,
        );
        console.warn(`filecoin watch: payer runway low (${shortfall}); ${why}`);
      }
      return `${shortfall}; alert (${why})`;
    }
    // The row first: a crash after sending leaves a 'sending' row that blocks a second deposit.
    const seq = this.#sql
      .exec<{ seq: number }>(
        "INSERT INTO funding (payer, at, kind, amount, funds_before, runway_epochs, state) VALUES (?, ?, 'deposit', ?, ?, ?, 'sending') RETURNING seq",
        payer, now, amount.toString(), account.funds.toString(), account.runwayInEpochs.toString(),
      )
      .one().seq;
    try {
      const funder = await createFunder(cfg.chain, cfg.fundingKey, cfg.rpcTimeoutMs);
      if (funder.payer.toLowerCase() !== payer.toLowerCase()) {
        throw new Error(`FOC_FUNDING_KEY is the key of ${funder.payer}, not of FOC_PAYER_ADDRESS ${payer}`);
      }
      const hash = await funder.deposit(amount);
      this.#sql.exec("UPDATE funding SET state = 'submitted', tx_hash = ? WHERE seq = ?", hash, seq);
      this.#log(null, now, "funding", shortfall, `deposit of ${amount} submitted (${hash})`);
      return `${shortfall}; deposited ${amount}`;
    } catch (err) {
      this.#sql.exec("UPDATE funding SET state = 'failed', message = ? WHERE seq = ?", message(err), seq);
      this.#log(null, now, "funding", shortfall, `deposit failed: ${message(err)}`);
      return `${shortfall}; deposit failed`;
    }
  }

  // ---- fetch-back verification ------------------------------------------------

  async #verifySample(cfg: WatchConfig, now: number, fetcher: typeof fetch, counters: RunCounters): Promise<void> {
    if (cfg.verifySample <= 0) return;
    const rows = this.#sql
      .exec<CopyRow>(
        `SELECT * FROM copies WHERE kind = 'pdp' AND state = 'stored' AND retrieval_url IS NOT NULL
         ORDER BY COALESCE(last_verified_at, 0), id LIMIT ?`,
        cfg.verifySample,
      )
      .toArray();
    for (const row of rows) {
      let verdict: { state: "lost"; reason: string } | undefined;
      try {
        const res = await fetcher(row.retrieval_url!, { signal: AbortSignal.timeout(cfg.rpcTimeoutMs * 6) });
        if (res.status === 404 || res.status === 410) {
          await res.body?.cancel();
          verdict = { state: "lost", reason: `fetch-back: ${row.retrieval_url} answered HTTP ${res.status}` };
        } else if (!res.ok || !res.body) {
          await res.body?.cancel();
          // The provider does not serve the piece now: ask its IPFS gateway for the DAG, block by block.
          const ipfs = await this.#verifyIpfs(row, cfg, counters, `HTTP ${res.status}`);
          if (ipfs.state === "lost") verdict = ipfs;
          else {
            counters.verified++;
            this.#sql.exec("UPDATE copies SET last_verified_at = ? WHERE id = ?", now, row.id);
            this.#log(row.id, now, "verify", "fetch-back sample", `${row.retrieval_url} answered HTTP ${res.status}; ${ipfs.message}`);
            continue;
          }
        } else {
          const { pieceCid } = await pieceCidOfStream(res.body);
          if (pieceCid.toString() !== row.piece_cid) {
            verdict = { state: "lost", reason: `fetch-back: the provider served bytes whose piece CID is ${pieceCid}, expected ${row.piece_cid}` };
          }
        }
        counters.verified++;
        this.#sql.exec("UPDATE copies SET last_verified_at = ? WHERE id = ?", now, row.id);
        this.#log(row.id, now, "verify", "fetch-back sample", verdict ? verdict.reason : "piece CID matches");
      } catch (err) {
        // Unreachable is not lost: proofs say whether the data is there; try another time.
        this.#sql.exec("UPDATE copies SET last_verified_at = ? WHERE id = ?", now, row.id);
        this.#log(row.id, now, "verify", "fetch-back sample", `could not fetch, not counted: ${message(err)}`);
      }
      if (verdict) await this.#apply(row, verdict, now, counters);
    }
  }

  /**
   * Fetch-back through the provider's trustless gateway (`{base}/ipfs/{root}`,
   * dag-scope=all), every block hash-checked against the CID its parent
   * names, by the gateway's own verified session and traversal: a block that
   * does not match makes the copy `lost`; a walk that completes verifies it;
   * anything else (not found, unreachable, timeout) throws: not counted.
   */
  async #verifyIpfs(row: CopyRow, cfg: WatchConfig, counters: RunCounters, pieceAnswer: string): Promise<{ state: "lost"; reason: string } | { state: "stored"; message: string }> {
    const base = trustlessBaseOf(row.retrieval_url!);
    if (base === undefined) throw new Error(pieceAnswer);
    const root = CID.parse(row.root);
    const results: string[] = [];
    const gateway = new HttpTrustlessGateway(base, "public");
    const counted: TrustlessGateway = {
      base,
      request: (rp, signal, asRaw) => {
        counters.subrequests++;
        return gateway.request(rp, signal, asRaw);
      },
    };
    const ms = cfg.rpcTimeoutMs * 6;
    const session = new VerifiedBlockSession({
      upstreams: [counted], hedgeDelayMs: ms, ttfbTimeoutMs: ms, idleTimeoutMs: ms, maxConcurrent: 1,
      sink: { report: (o) => void results.push(o.result) },
    });
    const rp: ResumePoint = { kind: "car", root, segments: [], scope: "all" };
    let blocks = 0;
    let bytes = 0;
    try {
      const first = await loadBlock(session, root, rp);
      // selectBlocks yields the root too.
      for await (const block of selectBlocks(session, { cid: root, bytes: first }, decodeNode(root, first), { scope: "all" }, rp)) {
        blocks++;
        bytes += block.bytes.length;
      }
      await session.close();
    } catch (err) {
      session.abort();
      if (results.includes("invalid_block")) {
        return { state: "lost", reason: `fetch-back: ${base}/ipfs/${row.root} served a block that does not match its CID (${pieceAnswer} on /piece)` };
      }
      throw err;
    }
    if (results.includes("invalid_block")) {
      return { state: "lost", reason: `fetch-back: ${base}/ipfs/${row.root} sent a block that does not match its CID after the DAG (${pieceAnswer} on /piece)` };
    }
    return { state: "stored", message: `${blocks} blocks (${bytes} bytes) from ${base}/ipfs/${row.root} match their CIDs` };
  }

  // ---- providers as gateway upstreams -------------------------------------------

  /**
   * Writes the `filecoin` source of each root's holder record
   * (src/replication/holder-index.ts): the trustless gateway of every
   * provider whose copy is stored or at risk, so the gateway races them for
   * the root without asking this object. Roots that are not CIDs are
   * skipped. Provider URLs come from the chain's provider registry: private
   * addresses are kept only when the chain's RPC is itself private (a local
   * or operator-run node), as IPNI answers are. Writes are serialised; a
   * failed write is logged and redone at the root's next change.
   */
  async #syncHolders(roots: string[]): Promise<void> {
    const run = this.#holderWrites.then(() => this.#writeHolders([...new Set(roots)]));
    this.#holderWrites = run.catch(() => undefined);
    return run;
  }

  #holderWrites: Promise<void> = Promise.resolve();

  async #writeHolders(roots: string[]): Promise<void> {
    let allowPrivate = false;
    try {
      const rpc = watchConfig(this.env).chain.rpcUrl;
      allowPrivate = rpc !== undefined && isPrivateUrl(rpc);
    } catch {
      // A broken FOC_* configuration: public providers only.
    }
    for (const root of roots) {
      let cid: CID;
      try {
        cid = CID.parse(root);
      } catch {
        continue;
      }
      const urls = this.#sql
        .exec<{ retrieval_url: string }>(
          `SELECT retrieval_url FROM copies WHERE root = ? AND kind = 'pdp' AND state IN ('stored', 'at_risk') AND retrieval_url IS NOT NULL
           ORDER BY state = 'at_risk', provider_id, id`,
          root,
        )
        .toArray();
      const bases: string[] = [];
      for (const { retrieval_url } of urls) {
        const base = trustlessBaseOf(retrieval_url);
        if (base !== undefined && !bases.includes(base) && (allowPrivate || !isPrivateUrl(base))) bases.push(base);
      }
      try {
        await setHolderSource(this.env.BLOCKS, cid, "filecoin", bases);
      } catch (err) {
        console.warn(`filecoin watch: holder index of ${root} not written: ${message(err)}`);
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------

  #log(copy: string | null, at: number, kind: string, reason: string, result: string): void {
    this.#sql.exec("INSERT INTO actions (copy_id, at, kind, reason, result) VALUES (?, ?, ?, ?, ?)", copy, at, kind, reason, result);
  }
}

/** The copy's id in the watch: one row per piece (a DAG split into several pieces has several). */
export function copyId(input: Pick<WatchCopyInput, "backend" | "remoteId" | "kind" | "dataSetId" | "pieceId" | "dealId">): string {
  return `${input.backend}|${input.remoteId}|${input.kind === "pdp" ? `${input.dataSetId}/${input.pieceId}` : `deal-${input.dealId}`}`;
}

/**
 * Runs `fn` on chunks of `items`; a chunk whose request failed is retried
 * item by item, so one bad item (a hanging data set, a reverting call)
 * costs only itself. Items that failed alone map to their Error.
 */
async function bisect<T, K, V>(
  items: T[],
  size: number,
  fn: (chunk: T[]) => Promise<Map<K, V | Error>>,
  key: (item: T) => K,
): Promise<Map<K, V | Error>> {
  const out = new Map<K, V | Error>();
  for (let i = 0; i < items.length; i += size) {
    const chunk = items.slice(i, i + size);
    try {
      for (const [k, v] of await fn(chunk)) out.set(k, v);
    } catch (err) {
      if (chunk.length === 1) {
        out.set(key(chunk[0]!), err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      for (const item of chunk) {
        try {
          for (const [k, v] of await fn([item])) out.set(k, v);
        } catch (e) {
          out.set(key(item), e instanceof Error ? e : new Error(String(e)));
        }
      }
    }
  }
  return out;
}

function toCopy(r: CopyRow): WatchedCopy {
  return {
    id: r.id, kind: r.kind, account: r.account, root: r.root, backend: r.backend, remoteId: r.remote_id,
    pieceCid: r.piece_cid ?? "", dataSetId: r.data_set_id ?? "", pieceId: r.piece_id ?? "", providerId: r.provider_id ?? "",
    retrievalUrl: r.retrieval_url ?? "", dealId: r.deal_id ?? "", addedEpoch: r.added_epoch, state: r.state, proof: r.proof,
    lastCheckAt: r.last_check_at, nextCheckAt: r.next_check_at, failures: r.failures, lastError: r.last_error,
    lastVerifiedAt: r.last_verified_at,
  };
}

function message(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  // viem errors are multi-line with request bodies; the first line says what failed.
  return m.split("\n")[0]!.slice(0, 300);
}
