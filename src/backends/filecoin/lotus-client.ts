/**
 * Classic Filecoin storage deals over Lotus JSON-RPC (LOTUS_RPC_URL):
 * `Filecoin.StateMarketStorageDeal(dealId, null)` and `Filecoin.ChainHead`
 * (https://lotus.filecoin.io/reference/lotus/state/#statemarketstoragedeal).
 *
 * Error contract: `deal` resolves `"not_found"` when the node answers that
 * the deal does not exist (an expired deal is cleaned from state, so this
 * means gone); any other failure (network, timeout, other RPC error) throws.
 */
export interface DealState {
  dealId: bigint;
  pieceCid: string;
  provider: string;
  startEpoch: bigint;
  endEpoch: bigint;
  sectorStartEpoch: bigint;
  slashEpoch: bigint;
}

export class LotusClient {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  #id = 0;

  constructor(url: string, timeoutMs: number, fetcher: typeof fetch = fetch) {
    this.#url = url;
    this.#timeoutMs = timeoutMs;
    this.#fetch = fetcher;
  }

  async head(): Promise<bigint> {
    const result = (await this.#call("Filecoin.ChainHead", [])) as { Height?: number };
    if (typeof result?.Height !== "number") throw new Error("ChainHead: no Height in the answer");
    return BigInt(result.Height);
  }

  async deal(dealId: bigint): Promise<DealState | "not_found"> {
    let result: { Proposal?: Record<string, unknown>; State?: Record<string, unknown> };
    try {
      result = (await this.#call("Filecoin.StateMarketStorageDeal", [Number(dealId), null])) as typeof result;
    } catch (err) {
      if (err instanceof LotusRpcError && /not found/i.test(err.message)) return "not_found";
      throw err;
    }
    const p = result?.Proposal ?? {};
    const s = result?.State ?? {};
    const num = (v: unknown, name: string): bigint => {
      if (typeof v !== "number") throw new Error(`StateMarketStorageDeal: ${name} missing`);
      return BigInt(v);
    };
    const pieceCid = (p.PieceCID as { "/"?: string } | undefined)?.["/"] ?? "";
    return {
      dealId,
      pieceCid,
      provider: typeof p.Provider === "string" ? p.Provider : "",
      startEpoch: num(p.StartEpoch, "Proposal.StartEpoch"),
      endEpoch: num(p.EndEpoch, "Proposal.EndEpoch"),
      sectorStartEpoch: num(s.SectorStartEpoch, "State.SectorStartEpoch"),
      slashEpoch: num(s.SlashEpoch, "State.SlashEpoch"),
    };
  }

  async #call(method: string, params: unknown[]): Promise<unknown> {
    const res = await this.#fetch(this.#url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", method, params, id: ++this.#id }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`${method}: HTTP ${res.status}`);
    }
    const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
    if (body.error) throw new LotusRpcError(`${method}: ${String(body.error.message ?? "error")}`);
    return body.result;
  }
}

export class LotusRpcError extends Error {
  override name = "LotusRpcError";
}

/** Unix ms of an epoch: genesis + 30 s per epoch (synapse-core chains carry the genesis timestamp). */
export function epochToMs(epoch: bigint, genesisTimestampSec: number): number {
  return (genesisTimestampSec + Number(epoch) * 30) * 1000;
}
