import type { FilecoinChainSettings } from "./chain-config";
import { resolveChain } from "./chain-config";

/**
 * Read-only view of Filecoin Onchain Cloud state that the watch needs: the
 * chain head, the PDP proving configuration, data sets (PDPVerifier +
 * FWSS view), piece liveness, and the payer's account in Filecoin Pay.
 *
 * Every read of many items is batched into Multicall3 `aggregate3` calls
 * (one HTTP subrequest per `MULTICALL_CHUNK` contract calls, each call
 * allowed to fail alone), so 10,000 watched copies cost a few dozen
 * subrequests, not tens of thousands.
 *
 * Error contract: `head`, `pdpConfig` and `account` throw when the RPC
 * fails (network, timeout, JSON-RPC error); the batch reads resolve with an
 * `Error` in place of each item whose call reverted, and throw only when a
 * whole subrequest failed (the caller marks that batch for retry).
 */
export interface FilecoinChainReader {
  head(): Promise<bigint>;
  pdpConfig(): Promise<{ maxProvingPeriod: bigint; challengeWindowSize: bigint }>;
  dataSets(ids: bigint[]): Promise<Map<bigint, DataSetState | Error>>;
  piecesLive(pieces: Array<{ dataSetId: bigint; pieceId: bigint }>): Promise<Map<string, boolean | Error>>;
  /** PDPVerifier `getActivePieceCount` per data set (pieces scheduled for removal still count until removed). */
  activePieceCounts(ids: bigint[]): Promise<Map<bigint, bigint | Error>>;
  /** Filecoin Pay account of `payer` in USDFC, runway as synapse-core's `getAccountSummary` computes it. */
  account(payer: `0x${string}`): Promise<AccountState>;
}

export interface DataSetState {
  dataSetId: bigint;
  /** PDPVerifier `dataSetLive`: false once deleted. */
  live: boolean;
  /** FWSS `pdpEndEpoch`: non-zero once the service was terminated (the data set ends at that epoch). */
  pdpEndEpoch: bigint;
  /** PDPVerifier `getDataSetLastProvenEpoch` (0 before the first proof). */
  lastProvenEpoch: bigint;
  /** PDPVerifier `getNextChallengeEpoch` (0 before proving started). */
  nextChallengeEpoch: bigint;
  /** PDPVerifier `getScheduledRemovals`: piece ids about to be removed. */
  scheduledRemovals: bigint[];
  providerId: bigint;
}

export interface AccountState {
  funds: bigint;
  availableFunds: bigint;
  lockupRatePerEpoch: bigint;
  /** Epochs until the account is in deficit; 2^256-1 when nothing is being spent. */
  runwayInEpochs: bigint;
  epoch: bigint;
}

/** Contract calls per Multicall3 request: well under RPC providers' response limits. */
export const MULTICALL_CHUNK = 200;
/** One RPC request may take this long before it counts as failed (the watch retries it next run). */
export const RPC_TIMEOUT_MS = 10_000;

/** Key of a piece in `piecesLive` results. */
export function pieceKey(dataSetId: bigint, pieceId: bigint): string {
  return `${dataSetId}:${pieceId}`;
}

/** The real reader over JSON-RPC (viem + synapse-core ABIs), imported lazily by the watch. */
export async function createChainReader(
  settings: FilecoinChainSettings,
  timeoutMs = RPC_TIMEOUT_MS,
  fetcher: typeof fetch = fetch,
): Promise<FilecoinChainReader> {
  const [{ createPublicClient, http }, { multicall, getBlockNumber, readContract }, pay, chain] = await Promise.all([
    import("viem"),
    import("viem/actions"),
    import("@filoz/synapse-core/pay"),
    resolveChain(settings),
  ]);
  // retryCount 0: the watch owns retries (next run); batch: false, Multicall3 is explicit below.
  const client = createPublicClient({ chain, transport: http(chain.rpcUrls.default.http[0], { timeout: timeoutMs, retryCount: 0, fetchFn: fetcher }) });
  const pdp = chain.contracts.pdp;
  const view = chain.contracts.fwssView;

  type Call = { address: `0x${string}`; abi: readonly unknown[]; functionName: string; args?: readonly unknown[] };
  async function aggregate(calls: Call[]): Promise<Array<{ status: "success"; result: unknown } | { status: "failure"; error: Error }>> {
    const out: Array<{ status: "success"; result: unknown } | { status: "failure"; error: Error }> = [];
    for (let i = 0; i < calls.length; i += MULTICALL_CHUNK) {
      const chunk = calls.slice(i, i + MULTICALL_CHUNK);
      // biome-ignore lint: viem's multicall typing needs literal ABIs; these come from synapse-core.
      const results = (await multicall(client, { contracts: chunk as never, allowFailure: true, batchSize: 0 })) as Array<
        { status: "success"; result: unknown } | { status: "failure"; error: Error }
      >;
      // viem answers a failed request (timeout, HTTP error) with a failure per call under allowFailure:
      // a whole chunk failing with something other than a revert is a failed request, thrown for the caller to retry.
      const first = results[0];
      if (first?.status === "failure" && results.every((r) => r.status === "failure") && !isRevert(first.error)) throw first.error;
      out.push(...results);
    }
    return out;
  }

  return {
    head: () => getBlockNumber(client, { cacheTime: 0 }),

    async pdpConfig() {
      const [maxProvingPeriod, challengeWindowSize] = (await readContract(client, {
        address: view.address,
        abi: view.abi,
        functionName: "getPDPConfig",
      })) as readonly [bigint, bigint, bigint, bigint];
      return { maxProvingPeriod, challengeWindowSize };
    },

    async dataSets(ids) {
      const perSet = 5;
      const calls: Call[] = ids.flatMap((id) => [
        { address: pdp.address, abi: pdp.abi, functionName: "dataSetLive", args: [id] },
        { address: pdp.address, abi: pdp.abi, functionName: "getDataSetLastProvenEpoch", args: [id] },
        { address: pdp.address, abi: pdp.abi, functionName: "getNextChallengeEpoch", args: [id] },
        { address: pdp.address, abi: pdp.abi, functionName: "getScheduledRemovals", args: [id] },
        { address: view.address, abi: view.abi, functionName: "getDataSet", args: [id] },
      ]);
      const results = await aggregate(calls);
      const out = new Map<bigint, DataSetState | Error>();
      ids.forEach((id, i) => {
        const [live, lastProven, nextChallenge, removals, info] = results.slice(i * perSet, i * perSet + perSet);
        // A deleted data set reverts the proving getters: live=false is the answer then.
        if (live?.status === "success" && live.result === false) {
          out.set(id, { dataSetId: id, live: false, pdpEndEpoch: 0n, lastProvenEpoch: 0n, nextChallengeEpoch: 0n, scheduledRemovals: [], providerId: 0n });
          return;
        }
        const failed = [live, lastProven, nextChallenge, removals, info].find((r) => r?.status !== "success");
        if (failed) {
          out.set(id, failed?.status === "failure" ? failed.error : new Error("missing multicall result"));
          return;
        }
        const dataSet = (info as { result: { pdpEndEpoch: bigint; providerId: bigint } }).result;
        out.set(id, {
          dataSetId: id,
          live: true,
          pdpEndEpoch: dataSet.pdpEndEpoch,
          lastProvenEpoch: (lastProven as { result: bigint }).result,
          nextChallengeEpoch: (nextChallenge as { result: bigint }).result,
          scheduledRemovals: [...((removals as { result: readonly bigint[] }).result)],
          providerId: dataSet.providerId,
        });
      });
      return out;
    },

    async piecesLive(pieces) {
      const results = await aggregate(
        pieces.map(({ dataSetId, pieceId }) => ({ address: pdp.address, abi: pdp.abi, functionName: "pieceLive", args: [dataSetId, pieceId] })),
      );
      const out = new Map<string, boolean | Error>();
      pieces.forEach(({ dataSetId, pieceId }, i) => {
        const r = results[i];
        out.set(pieceKey(dataSetId, pieceId), r?.status === "success" ? r.result === true : (r?.error ?? new Error("missing multicall result")));
      });
      return out;
    },

    async activePieceCounts(ids) {
      const results = await aggregate(ids.map((id) => ({ address: pdp.address, abi: pdp.abi, functionName: "getActivePieceCount", args: [id] })));
      const out = new Map<bigint, bigint | Error>();
      ids.forEach((id, i) => {
        const r = results[i];
        out.set(id, r?.status === "success" ? BigInt(r.result as bigint) : (r?.error ?? new Error("missing multicall result")));
      });
      return out;
    },

    async account(payer) {
      const [info, epoch] = await Promise.all([pay.accounts(client, { address: payer }), getBlockNumber(client, { cacheTime: 0 })]);
      const state = pay.resolveAccountState({
        funds: info.funds,
        lockupCurrent: info.lockupCurrent,
        lockupRate: info.lockupRate,
        lockupLastSettledAt: info.lockupLastSettledAt,
        currentEpoch: epoch,
      });
      return { funds: info.funds, availableFunds: state.availableFunds, lockupRatePerEpoch: info.lockupRate, runwayInEpochs: state.runwayInEpochs, epoch };
    },
  };
}

/** A contract call that reverted (an answer), as opposed to a request that failed (no answer). */
function isRevert(error: Error): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (/revert/i.test(e.name) || /revert/i.test((e as { shortMessage?: string }).shortMessage ?? "")) return true;
  }
  return false;
}
