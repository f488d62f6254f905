import {
  BackendError,
  type BackendFactory,
  type BackendTestReport,
  type DagIdentity,
  type DagToStore,
  type Json,
  type ReplicaCheck,
  type ReplicaRef,
  type ReplicationBackend,
  type StoreContext,
  type StoreOutcome,
} from "../replication-backend";
import { parseChainSettings, resolveChain, type FilecoinChainSettings } from "./chain-config";
import { createChainReader, pieceKey, RPC_TIMEOUT_MS, type DataSetState, type FilecoinChainReader } from "./chain-reader";
import { MAX_PIECE_BYTES, MIN_PIECE_BYTES, pieceStream, planPieces, type PiecePlan } from "./piece-plan";
import { pdpVerdict } from "./watch-verdict";
import { uploadPiece } from "./piece-upload";
import { PIECE_BEING_DELETED } from "../../durable-objects/filecoin-watch";
import { filecoinWatch } from "../../cron/filecoin-watch";

/**
 * Filecoin Onchain Cloud (PDP warm storage through FWSS) as a replication
 * target, through `@filoz/synapse-sdk` 0.41 (imported lazily: ~2 MB the
 * gateway never loads). docs/filecoin.md says how and why.
 *
 * `BACKENDS` entry: `{ "type": "filecoin", "chain": "calibration" |
 * "mainnet", "rpcUrl"?, "contracts"?: {...address overrides}, "copies"?: 2,
 * "source"?: "ipfs-kit-edge", "maxPieceBytes"?, "rpcTimeoutMs"?: 10000 }`; secrets
 * `BACKEND_<NAME>_SESSION_KEY` (a session key's private key, allowed by the
 * payer to create data sets, add and remove pieces; it cannot move funds)
 * and `BACKEND_<NAME>_PAYER` (the payer's address).
 *
 * store(): (1) one pass over the CAR plans the pieces and computes their
 * piece CIDs with the WASM hasher (piece-plan.ts); (2) the SDK picks
 * `copies` providers (data sets with `withIPFSIndexing` metadata: the
 * provider announces the CAR's blocks to IPNI); (3) each piece is uploaded
 * once to the primary, streamed with its piece CID given (piece-upload.ts:
 * the SDK's hasher never runs, and its upload would buffer the piece in
 * workerd), secondaries pull it provider-to-provider; (4) each provider's
 * `addPieces` is signed with the session key, piece metadata
 * `ipfsRootCID` = the DAG root. Every step is checkpointed: a store cut by
 * the deadline or an eviction resumes at the next step, never re-uploads
 * a piece the primary has.
 */
export const create: BackendFactory = async ({ name, settings, secret, env }) => {
  let chain: FilecoinChainSettings;
  try {
    chain = parseChainSettings(settings);
  } catch (err) {
    throw new BackendError("permanent", `backend ${name}: ${(err as Error).message}`);
  }
  const copies = settings.copies ?? 2;
  if (typeof copies !== "number" || !Number.isInteger(copies) || copies < 1 || copies > 5) {
    throw new BackendError("permanent", `backend ${name}: copies must be an integer from 1 to 5`);
  }
  const maxPieceBytes = settings.maxPieceBytes ?? MAX_PIECE_BYTES;
  if (typeof maxPieceBytes !== "number" || maxPieceBytes < 1024 || maxPieceBytes > MAX_PIECE_BYTES) {
    throw new BackendError("permanent", `backend ${name}: maxPieceBytes must be between 1024 and ${MAX_PIECE_BYTES}`);
  }
  const source = typeof settings.source === "string" ? settings.source : "ipfs-kit-edge";
  const rpcTimeoutMs = settings.rpcTimeoutMs ?? RPC_TIMEOUT_MS;
  if (typeof rpcTimeoutMs !== "number" || rpcTimeoutMs < 100) throw new BackendError("permanent", `backend ${name}: rpcTimeoutMs must be a number >= 100`);
  const sessionKey = secret("SESSION_KEY");
  const payer = secret("PAYER");
  if (!sessionKey || !/^0x[0-9a-fA-F]{64}$/.test(sessionKey) || !payer || !/^0x[0-9a-fA-F]{40}$/.test(payer)) {
    // Never echo a secret's value, only which one is wrong.
    throw new BackendError("unauthorized", `backend ${name}: secrets BACKEND_${secretName(name)}_SESSION_KEY (0x + 64 hex) and BACKEND_${secretName(name)}_PAYER (0x address) are required`);
  }
  return new FilecoinBackend({ name, chain, copies, maxPieceBytes, source, rpcTimeoutMs, sessionKey: sessionKey as `0x${string}`, payer: payer as `0x${string}`, env });
};

function secretName(name: string): string {
  return name.toUpperCase().replace(/-/g, "_");
}

interface Options {
  name: string;
  chain: FilecoinChainSettings;
  copies: number;
  maxPieceBytes: number;
  source: string;
  rpcTimeoutMs: number;
  sessionKey: `0x${string}`;
  payer: `0x${string}`;
  env: Env;
}

/** Durable progress of one store (StoreContext.checkpoint). */
interface Progress {
  plan?: { carSize: number; header: string; pieces: Array<{ from: number; to: number; size: number; pieceCid: string }> };
  providers?: string[];
  storedOnPrimary?: number;
  pulled?: string[];
  commits?: Record<string, { dataSetId: string; pieceIds: string[]; epoch: string }>;
  /** Where the failing copies this store replaces are (DagToStore.avoid), judged once on chain. */
  avoid?: { dataSetIds: string[]; providerIds: string[] };
}

/** One provider's copy as recorded in the replica's details. */
interface CopyDetails {
  providerId: string;
  dataSetId: string;
  pieceIds: string[];
  pieceCids: string[];
  retrievalUrls: string[];
  addedEpoch: string;
}

type Synapse = import("@filoz/synapse-sdk").Synapse;
type StorageContext = import("@filoz/synapse-sdk/storage").StorageContext;

export class FilecoinBackend implements ReplicationBackend {
  readonly type = "filecoin" as const;
  readonly name: string;
  readonly #o: Options;
  #synapse?: Promise<Synapse>;

  constructor(options: Options) {
    this.name = options.name;
    this.#o = options;
  }

  async store(dag: DagToStore, ctx: StoreContext): Promise<StoreOutcome> {
    const progress: Progress = (ctx.progress as Progress | undefined) ?? {};
    const save = () => ctx.checkpoint(progress as unknown as Json);
    const pendingRef = (): ReplicaRef => ({ backend: this.name, remoteId: progress.plan?.pieces[0]?.pieceCid ?? dag.root.toString(), details: {} });
    const late = () => Date.now() >= ctx.deadline;
    try {
      // 1. Pieces and their CIDs, one pass over the CAR.
      if (!progress.plan) {
        if (dag.carSize < MIN_PIECE_BYTES) throw new BackendError("permanent", `a CAR of ${dag.carSize} bytes is below Filecoin's minimum piece (${MIN_PIECE_BYTES} bytes)`);
        const plan = await planPieces(dag.car(), this.#o.maxPieceBytes);
        if (plan.carSize !== dag.carSize) throw new BackendError("retryable", `the CAR was ${plan.carSize} bytes, expected ${dag.carSize}`);
        progress.plan = { carSize: plan.carSize, header: toBase64(plan.header), pieces: plan.pieces };
        await save();
        if (late()) return { state: "pending", replica: pendingRef(), retryAfterMs: 0, next: "store" };
      }
      const plan: PiecePlan = { ...progress.plan, header: fromBase64(progress.plan.header) };
      // A fresh client: the SDK's StorageManager keeps the contexts (provider + data set) of its first createContexts and
      // hands them back to later calls, so a cached client would add a new copy to a data set since terminated.
      const [synapse, Piece, SP] = await Promise.all([this.#newClient(), import("@filoz/synapse-core/piece"), import("@filoz/synapse-core/sp")]);
      const pieceCids = plan.pieces.map((p) => Piece.parse(p.pieceCid));

      // 2. Providers: the same ones on a resume (the primary may already hold pieces). A repair avoids the failing
      // copies' providers when enough others are available, and never reuses their data sets (DagToStore.avoid).
      if (dag.avoid && dag.avoid.length > 0 && !progress.avoid) {
        progress.avoid = await this.#failing(dag.avoid.flatMap(copiesOf));
        await save();
      }
      const metadata = { withIPFSIndexing: "" };
      let contexts: StorageContext[] = [];
      const exclude = progress.providers ? [] : (progress.avoid?.providerIds ?? []);
      if (exclude.length > 0) {
        // The SDK throws when no endorsed primary is left: then the failing providers stay candidates.
        contexts = await synapse.storage.createContexts({ copies: this.#o.copies, metadata, excludeProviderIds: exclude.map(BigInt) }).catch(() => []);
      }
      if (contexts.length < this.#o.copies) {
        contexts = await synapse.storage.createContexts({
          copies: this.#o.copies,
          metadata,
          ...(progress.providers ? { providerIds: progress.providers.map(BigInt) } : {}),
        });
      }
      if (contexts.length === 0) throw new BackendError("retryable", "no storage provider available");
      // The SDK hands back a provider's live data set holding pieces, which may be the failing one (its proofs overdue but
      // not terminated): that provider gets a context without a data set, so the commit creates a new one.
      const avoidSets = new Set(progress.avoid?.dataSetIds ?? []);
      if (contexts.some((c) => c.dataSetId !== undefined && avoidSets.has(c.dataSetId.toString()))) {
        const [{ StorageContext }, { WarmStorageService }] = await Promise.all([import("@filoz/synapse-sdk/storage"), import("@filoz/synapse-sdk/warm-storage")]);
        const warmStorageService = new WarmStorageService({ client: synapse.client });
        contexts = contexts.map((c) =>
          c.dataSetId !== undefined && avoidSets.has(c.dataSetId.toString())
            ? new StorageContext({ synapse, warmStorageService, provider: c.provider, dataSetId: undefined, options: { metadata }, dataSetMetadata: metadata })
            : c,
        );
      }
      if (!progress.providers) {
        progress.providers = contexts.map((c) => c.provider.id.toString());
        await save();
      }
      const [primary, ...secondaries] = contexts;

      // 3. Upload each piece once, to the primary, with its piece CID given.
      for (let i = progress.storedOnPrimary ?? 0; i < plan.pieces.length; i++) {
        if (late()) return { state: "pending", replica: pendingRef(), retryAfterMs: 0, next: "store" };
        // Streamed (piece-upload.ts: the SDK's own upload would buffer the piece in workerd), then confirmed by the provider.
        await uploadPiece({ serviceURL: primary!.provider.pdp.serviceURL, body: pieceStream(plan, i, (from) => dag.car(from)), size: plan.pieces[i]!.size, pieceCid: plan.pieces[i]!.pieceCid, ...(ctx.signal ? { signal: ctx.signal } : {}) });
        await SP.findPiece({ serviceURL: primary!.provider.pdp.serviceURL, pieceCid: pieceCids[i]!, retry: true, timeout: 60_000, ...(ctx.signal ? { signal: ctx.signal } : {}) });
        progress.storedOnPrimary = i + 1;
        await save();
      }
      // Secondaries fetch from the primary (SP-to-SP), not from us.
      progress.pulled ??= [];
      for (const secondary of secondaries) {
        const id = secondary.provider.id.toString();
        if (progress.pulled.includes(id)) continue;
        const pulled = await secondary.pull({ pieces: pieceCids, from: (cid) => primary!.getPieceUrl(cid), ...(ctx.signal ? { signal: ctx.signal } : {}) });
        if (pulled.status !== "complete") throw new BackendError("retryable", `provider ${id} could not pull the pieces from provider ${primary!.provider.id}`);
        progress.pulled.push(id);
        await save();
      }

      // 4. On chain: addPieces per provider, signed by the session key; IPFS root as piece metadata.
      progress.commits ??= {};
      const PDPVerifier = await import("@filoz/synapse-core/pdp-verifier");
      /** Live piece ids of each piece CID in a data set (PDPVerifier `findPieceIdsByCid`): what the chain holds, whatever a provider says. */
      const onChain = (dataSetId: bigint) =>
        Promise.all(pieceCids.map((pieceCid) => PDPVerifier.findPieceIdsByCid(synapse.client, { dataSetId, pieceCid, startPieceId: 0n, limit: 100n })));
      for (const context of contexts) {
        const id = context.provider.id.toString();
        if (progress.commits[id]) continue;
        if (late()) return { state: "pending", replica: pendingRef(), retryAfterMs: 0, next: "store" };
        // A commit that landed before an interruption (or whose answer was wrong) is not made twice.
        let dataSetId = context.dataSetId;
        // Pieces whose deletion is scheduled on chain or claimed in the watch (another account's removal) are not reused.
        let pieceIds = dataSetId === undefined ? undefined : committedIds(await onChain(dataSetId), await this.#going(dataSetId));
        if (!pieceIds) {
          const committed = await context.commit({
            pieces: pieceCids.map((pieceCid) => ({ pieceCid, pieceMetadata: { ipfsRootCID: dag.root.toString() } })),
          });
          dataSetId = committed.dataSetId;
          const held = await onChain(dataSetId);
          // The provider's answer is checked against the chain: piece i's id must hold piece i's CID.
          if (committed.pieceIds.length !== pieceCids.length || committed.pieceIds.some((p, i) => !held[i]!.includes(p))) {
            throw new BackendError("retryable", `provider ${id} answered piece ids ${committed.pieceIds.join(",")} in data set ${dataSetId}, which the chain does not hold for these pieces`);
          }
          pieceIds = committed.pieceIds;
        }
        const epoch = await synapse.client.getBlockNumber();
        progress.commits[id] = { dataSetId: dataSetId!.toString(), pieceIds: pieceIds.map(String), epoch: epoch.toString() };
        await save();
      }

      const copies: CopyDetails[] = contexts.map((context) => {
        const id = context.provider.id.toString();
        const commit = progress.commits![id]!;
        return {
          providerId: id,
          dataSetId: commit.dataSetId,
          pieceIds: commit.pieceIds,
          pieceCids: plan.pieces.map((p) => p.pieceCid),
          retrievalUrls: pieceCids.map((cid) => context.getPieceUrl(cid)),
          addedEpoch: commit.epoch,
        };
      });
      const replica: ReplicaRef = {
        backend: this.name,
        remoteId: copyRemoteId(plan.pieces[0]!.pieceCid, copies),
        // The account: remove() releases only its own ownership of copies other accounts may share (FilecoinWatch.release).
        details: { chain: this.#o.chain.chain, carSize: plan.carSize, copies: copies as unknown as Json[], account: dag.account === "" ? null : dag.account },
      };
      try {
        await this.#watch(dag.account, dag.root.toString(), replica, copies);
      } catch (err) {
        // A piece found committed is being deleted by its last owner's removal (FilecoinWatch.claimRemoval): commit again.
        if (!String((err as Error)?.message).includes(PIECE_BEING_DELETED)) throw err;
        delete progress.commits;
        await save();
        throw new BackendError("retryable", `${(err as Error).message.split("\n")[0]}; the pieces are committed again on the next attempt`);
      }
      return { state: "stored", replica, bytes: plan.carSize };
    } catch (err) {
      throw toBackendError(err);
    }
  }

  async check(replica: ReplicaRef, _dag: DagIdentity): Promise<ReplicaCheck> {
    const copies = copiesOf(replica);
    if (copies.length === 0) return { state: "lost", message: "no Filecoin copy recorded" };
    try {
      const reader = await createChainReader(this.#o.chain, this.#o.rpcTimeoutMs);
      const [head, config] = await Promise.all([reader.head(), reader.pdpConfig()]);
      const sets = await reader.dataSets([...new Set(copies.map((c) => BigInt(c.dataSetId)))]);
      const pieces = copies.flatMap((c) => c.pieceIds.map((p) => ({ dataSetId: BigInt(c.dataSetId), pieceId: BigInt(p) })));
      const live = await reader.piecesLive(pieces);
      let worst: ReplicaCheck = { state: "stored", details: {} };
      const reasons: string[] = [];
      let lost = 0;
      for (const c of copies) {
        const set = sets.get(BigInt(c.dataSetId));
        if (!set || set instanceof Error) throw new BackendError("retryable", `data set ${c.dataSetId}: ${set?.message ?? "no answer"}`);
        for (const p of c.pieceIds) {
          const l = set.live ? live.get(pieceKey(set.dataSetId, BigInt(p))) : false;
          if (l instanceof Error || l === undefined) throw new BackendError("retryable", `piece ${p}: ${l?.message ?? "no answer"}`);
          const v = pdpVerdict({
            dataSet: set, pieceId: BigInt(p), pieceLive: l, removalRequested: false, head, addedEpoch: BigInt(c.addedEpoch),
            policy: { maxProvingPeriod: config.maxProvingPeriod, atRiskPeriods: 2, lostPeriods: 6 },
          });
          if (v.state === "lost") {
            lost++;
            reasons.push(`provider ${c.providerId}: ${v.reason}`);
            break;
          }
          if (v.state === "at_risk") {
            reasons.push(`provider ${c.providerId}: ${v.reason}`);
            worst = { state: "at_risk", message: reasons.join("; ") };
          }
        }
      }
      // The replica is lost only when no provider still holds the whole DAG.
      if (lost === copies.length) return { state: "lost", message: reasons.join("; ") };
      if (lost > 0) return { state: "at_risk", message: reasons.join("; ") };
      return worst;
    } catch (err) {
      throw toBackendError(err);
    }
  }

  /**
   * Schedules the deletion of the copy's pieces (Curio `DELETE
   * /pdp/data-sets/{id}/pieces/{pieceId}`, signed `SchedulePieceRemovals`;
   * PDPVerifier drops them at the next proving period) and stops watching
   * them. Which pieces go is the watch's decision, made in one step with
   * the release of this replica's ownership (FilecoinWatch.claimRemoval):
   * never a piece another account still owns (two accounts pinning one
   * root share its pieces), another copy of this backend holds under
   * another remote id (a repair keeps a healthy provider's data set), or
   * whose owners cannot be resolved (a record stored before
   * `details.account`). Skipped besides: a piece not live or already
   * scheduled (idempotent: a retry asks only for the rest), and every piece
   * of a data set that is terminated (`pdpEndEpoch` set: it ends by itself,
   * nothing more is paid) or gone. The copies come from the replica's
   * details, else from its remote id (`copyRemoteId`); a record with
   * neither has nothing to delete. Once the deletions were sent the claimed
   * rows leave the watch (FilecoinWatch.finishRemoval).
   */
  async remove(replica: ReplicaRef): Promise<void> {
    const recorded = copiesOf(replica);
    const copies = recorded.length > 0 ? recorded : parseRemoteId(replica.remoteId).copies;
    if (copies.length === 0) return;
    try {
      const reader = await createChainReader(this.#o.chain, this.#o.rpcTimeoutMs);
      const sets = await reader.dataSets([...new Set(copies.map((c) => BigInt(c.dataSetId)))]);
      const live = await reader.piecesLive(copies.flatMap((c) => c.pieceIds.map((p) => ({ dataSetId: BigInt(c.dataSetId), pieceId: BigInt(p) }))));
      const watch = filecoinWatch(this.#o.env);
      // Whose replica this is (store() records it; undefined for records stored before: the watch resolves the owners).
      const account = typeof replica.details.account === "string" || replica.details.account === null ? replica.details.account : undefined;
      for (const c of copies) {
        const set = sets.get(BigInt(c.dataSetId));
        if (!set || set instanceof Error) throw new BackendError("retryable", `data set ${c.dataSetId}: ${set?.message ?? "no answer"}`);
        for (const p of c.pieceIds) {
          const l = live.get(pieceKey(BigInt(c.dataSetId), BigInt(p)));
          if (set.live && l instanceof Error) throw new BackendError("retryable", `piece ${p}: ${l.message}`);
        }
      }
      // Release and decide in one step of the watch: a piece goes only when no other account or copy holds it, and a
      // new owner arriving from now on commits the piece again instead of keeping this id (FilecoinWatch.claimRemoval).
      const keys = copies.flatMap((c) => c.pieceIds.map((p) => `${c.dataSetId}/${p}`));
      const reason = "removal requested by the engine";
      const { remove } = await watch.claimRemoval(this.name, replica.remoteId, keys, account, reason);
      const doomed = new Set(remove);
      let synapse: Synapse | undefined;
      /** Data set → every piece id now going (scheduled before, or asked now), of the data sets we asked deletions in. */
      const going = new Map<bigint, { providerId: string; ids: Set<bigint> }>();
      for (const c of copies) {
        const set = sets.get(BigInt(c.dataSetId)) as DataSetState;
        if (!set.live || set.pdpEndEpoch !== 0n) continue;
        const todo = c.pieceIds.filter((p) => live.get(pieceKey(BigInt(c.dataSetId), BigInt(p))) === true && !set.scheduledRemovals.includes(BigInt(p)) && doomed.has(`${c.dataSetId}/${p}`));
        if (todo.length === 0) continue;
        synapse ??= await this.#client();
        const context = await synapse.storage.createContext({ dataSetId: BigInt(c.dataSetId) });
        for (const p of todo) await context.deletePiece({ piece: BigInt(p) });
        const g = going.get(set.dataSetId) ?? { providerId: set.providerId.toString(), ids: new Set(set.scheduledRemovals) };
        for (const p of todo) g.ids.add(BigInt(p));
        going.set(set.dataSetId, g);
      }
      await watch.finishRemoval(this.name, replica.remoteId, remove, reason);
      await this.#noteEmptied(reader, watch, going);
    } catch (err) {
      throw toBackendError(err);
    }
  }

  retrievalUrls(replica: ReplicaRef): string[] {
    return copiesOf(replica).flatMap((c) => c.retrievalUrls);
  }

  async test(): Promise<BackendTestReport> {
    const started = Date.now();
    const report: BackendTestReport = { reachable: false, authorised: false, roundTrip: false, latencyMs: 0 };
    try {
      const reader = await createChainReader(this.#o.chain, this.#o.rpcTimeoutMs);
      await reader.head();
      report.reachable = true;
      const { fromSecp256k1, DefaultFwssPermissions } = await import("@filoz/synapse-core/session-key");
      const chain = await resolveChain(this.#o.chain);
      const key = fromSecp256k1({ privateKey: this.#o.sessionKey, root: this.#o.payer, chain });
      await key.syncExpirations();
      report.authorised = key.hasPermissions(DefaultFwssPermissions);
      // A round trip would pay a provider for storage: not attempted.
      report.message = report.authorised
        ? "chain reachable, session key allowed; round trip not attempted (it would pay for storage)"
        : "the session key lacks the FWSS permissions (create data set, add and remove pieces) or they expired";
    } catch (err) {
      report.message = toBackendError(err).message;
    }
    report.latencyMs = Date.now() - started;
    return report;
  }

  /** The data sets (and their providers) of the copies that are not `stored` on chain now: lost or at risk. */
  async #failing(copies: CopyDetails[]): Promise<{ dataSetIds: string[]; providerIds: string[] }> {
    const failing: CopyDetails[] = [];
    if (copies.length > 0) {
      const reader = await createChainReader(this.#o.chain, this.#o.rpcTimeoutMs);
      const [head, config] = await Promise.all([reader.head(), reader.pdpConfig()]);
      const sets = await reader.dataSets([...new Set(copies.map((c) => BigInt(c.dataSetId)))]);
      const live = await reader.piecesLive(copies.flatMap((c) => c.pieceIds.map((p) => ({ dataSetId: BigInt(c.dataSetId), pieceId: BigInt(p) }))));
      for (const c of copies) {
        const set = sets.get(BigInt(c.dataSetId));
        if (!set || set instanceof Error) throw new BackendError("retryable", `data set ${c.dataSetId}: ${set?.message ?? "no answer"}`);
        const bad = c.pieceIds.some((p) => {
          const l = set.live ? live.get(pieceKey(set.dataSetId, BigInt(p))) : false;
          if (l instanceof Error || l === undefined) throw new BackendError("retryable", `piece ${p}: ${l?.message ?? "no answer"}`);
          return pdpVerdict({
            dataSet: set, pieceId: BigInt(p), pieceLive: l, removalRequested: false, head, addedEpoch: BigInt(c.addedEpoch),
            policy: { maxProvingPeriod: config.maxProvingPeriod, atRiskPeriods: 2, lostPeriods: 6 },
          }).state !== "stored";
        });
        if (bad) failing.push(c);
      }
    }
    return { dataSetIds: [...new Set(failing.map((c) => c.dataSetId))], providerIds: [...new Set(failing.map((c) => c.providerId))] };
  }

  /** Synapse with the session key; the payer is an address only (its key never reaches us). */
  #client(): Promise<Synapse> {
    this.#synapse ??= this.#newClient();
    this.#synapse.catch(() => (this.#synapse = undefined));
    return this.#synapse;
  }

  /** A Synapse of its own (no contexts selected by earlier calls): what store() selects providers and data sets with. */
  #newClient(): Promise<Synapse> {
    return (async () => {
      const [{ Synapse }, { fromSecp256k1 }, { custom, http }, chain] = await Promise.all([
        import("@filoz/synapse-sdk"),
        import("@filoz/synapse-core/session-key"),
        import("viem"),
        resolveChain(this.#o.chain),
      ]);
      const rpc = http(chain.rpcUrls.default.http[0], { retryCount: 0, timeout: this.#o.rpcTimeoutMs });
      const sessionKey = fromSecp256k1({ privateKey: this.#o.sessionKey, root: this.#o.payer, chain, transport: rpc });
      await sessionKey.syncExpirations();
      // An address account needs a custom transport (viem json-rpc account); it never signs here.
      const transport = custom({ request: (args) => rpc({ chain }).request(args as never) });
      return Synapse.create({ account: this.#o.payer, transport, chain, sessionKey, source: this.#o.source });
    })();
  }

  /**
   * Puts every piece of every copy under the Filecoin watch (cron monitoring and renewal), all in one call: the watch
   * refuses them all if one is being deleted (PIECE_BEING_DELETED), so no row is left under a remote id never returned.
   */
  async #watch(account: string, root: string, replica: ReplicaRef, copies: CopyDetails[]): Promise<void> {
    const watch = filecoinWatch(this.#o.env);
    await watch.watchMany(copies.flatMap((c) => c.pieceCids.map((pieceCid, i) => ({
      kind: "pdp" as const, account: account === "" ? null : account, root, backend: this.name, remoteId: replica.remoteId,
      pieceCid, dataSetId: c.dataSetId, pieceId: c.pieceIds[i]!, providerId: c.providerId,
      retrievalUrl: c.retrievalUrls[i]!, addedEpoch: c.addedEpoch,
    }))));
  }

  /**
   * A data set whose every active piece is now going stays live, empty, and
   * charged FWSS's minimum rate: it is not deleted (ending it is FWSS
   * `terminateService`, a transaction from the payer's wallet, which the
   * session key cannot send; docs/filecoin.md "Not done"), but the watch
   * logs it for the operator (`FilecoinWatch.noteEmptiedDataSet`). A later
   * store reuses it. A failed read only skips the note.
   */
  async #noteEmptied(reader: FilecoinChainReader, watch: ReturnType<typeof filecoinWatch>, going: Map<bigint, { providerId: string; ids: Set<bigint> }>): Promise<void> {
    if (going.size === 0) return;
    try {
      const counts = await reader.activePieceCounts([...going.keys()]);
      for (const [dataSetId, g] of going) {
        const n = counts.get(dataSetId);
        if (typeof n === "bigint" && n <= BigInt(g.ids.size)) await watch.noteEmptiedDataSet(this.name, dataSetId.toString(), g.providerId);
      }
    } catch (err) {
      console.warn(`filecoin ${this.name}: could not tell whether the data sets emptied: ${toBackendError(err).message}`);
    }
  }

  /** Piece ids of a data set that are going: scheduled for removal on chain, or claimed for deletion in the watch. */
  async #going(dataSetId: bigint): Promise<Set<bigint>> {
    const reader = await createChainReader(this.#o.chain, this.#o.rpcTimeoutMs);
    const set = (await reader.dataSets([dataSetId])).get(dataSetId);
    if (!set || set instanceof Error) throw new BackendError("retryable", `data set ${dataSetId}: ${set?.message ?? "no answer"}`);
    const watch = filecoinWatch(this.#o.env);
    return new Set([...set.scheduledRemovals, ...(await watch.deletingPieces(dataSetId.toString())).map(BigInt)]);
  }
}

/** The first live id of every piece that is not `going`, or undefined unless the data set holds them all. */
function committedIds(found: ReadonlyArray<readonly bigint[]>, going: ReadonlySet<bigint>): bigint[] | undefined {
  const usable = found.map((ids) => ids.filter((id) => !going.has(id)));
  return usable.every((ids) => ids.length > 0) ? usable.map((ids) => ids[0]!) : undefined;
}

/**
 * The remote id of a stored replica: its first piece CID, then each
 * provider's data set and piece ids, `<pieceCid>@<dataSetId>:<pieceId>,…+…`
 * (`bafk…@9001:0+9002:0`). Every copy of a DAG has the same piece CIDs, so
 * the piece CID alone (the id of records stored before) named them all
 * alike: the engine took a repaired copy for the one it replaces and never
 * removed the old pieces. No `|` or `/`: the watch's copy ids are
 * `<backend>|<remoteId>|<dataSetId>/<pieceId>`.
 */
export function copyRemoteId(firstPieceCid: string, copies: ReadonlyArray<{ dataSetId: string; pieceIds: readonly string[] }>): string {
  return `${firstPieceCid}@${copies.map((c) => `${c.dataSetId}:${c.pieceIds.join(",")}`).join("+")}`;
}

/** `copyRemoteId` read back; an id of an older record (the piece CID alone, or anything unparsable) has no copies. */
export function parseRemoteId(remoteId: string): { pieceCid: string; copies: Array<{ dataSetId: string; pieceIds: string[] }> } {
  const at = remoteId.indexOf("@");
  if (at < 0) return { pieceCid: remoteId, copies: [] };
  const copies: Array<{ dataSetId: string; pieceIds: string[] }> = [];
  for (const part of remoteId.slice(at + 1).split("+")) {
    const m = /^(\d+):(\d+(?:,\d+)*)$/.exec(part);
    if (!m) return { pieceCid: remoteId.slice(0, at), copies: [] };
    copies.push({ dataSetId: m[1]!, pieceIds: m[2]!.split(",") });
  }
  return { pieceCid: remoteId.slice(0, at), copies };
}

function copiesOf(replica: ReplicaRef): CopyDetails[] {
  const copies = replica.details.copies;
  return Array.isArray(copies) ? (copies as unknown as CopyDetails[]) : [];
}

/** SDK and network errors → the interface's kinds; messages keep their first line (no request bodies, no keys). */
function toBackendError(err: unknown): BackendError {
  if (err instanceof BackendError) return err;
  const message = (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 300);
  if (/insufficient funds|allowance|permission|expired|unauthori[sz]ed|not approved/i.test(message)) return new BackendError("unauthorized", message);
  if (/metadata|exceeds the maximum|invalid piece|too large/i.test(message)) return new BackendError("permanent", message);
  return new BackendError("retryable", message);
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
