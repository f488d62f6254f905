/**
 * Plays Filecoin for the watch's tests: Node `http` on 127.0.0.1, speaking
 * the calls the worker makes, decoded and encoded with the contracts' own
 * ABIs from `@filoz/synapse-core` (the same ABIs the SDK maintainers' mocks
 * in `@filoz/synapse-core/mocks` use) and viem.
 *
 * - `POST {base}/rpc`: Ethereum JSON-RPC of a Filecoin node (single or batch):
 *   `eth_chainId` (calibration), `eth_blockNumber` (the head), `eth_call`
 *   to Multicall3 `aggregate3`, PDPVerifier (`dataSetLive`,
 *   `getDataSetLastProvenEpoch`, `getNextChallengeEpoch`,
 *   `getScheduledRemovals`, `pieceLive`), FWSS (`getServicePrice`, the
 *   storage price; set by `POST /__price`), FWSS view (`getDataSet`,
 *   `getPDPConfig`), Filecoin Pay (`accounts`, `depositWithPermit`
 *   simulation), USDFC (`balanceOf`, `name`, `nonces`, `version`); and what a
 *   signed transaction needs (`eth_getTransactionCount`, `eth_estimateGas`,
 *   fees, `eth_getBlockByNumber`, `eth_sendRawTransaction`, which decodes the
 *   transaction and applies a `depositWithPermit` to the account's funds).
 *   A call about a data set listed in `hang` is never answered (a timeout).
 * - `GET {base}/piece/{pieceCid}`: the bytes set for that piece (a PDP
 *   provider's retrieval route), 404 if none.
 * - `POST {base}/lotus`: Lotus JSON-RPC `Filecoin.ChainHead`,
 *   `Filecoin.StateMarketStorageDeal` (error "deal N not found" when unset).
 * - `POST {base}/__price`: sets FWSS `getServicePrice()`'s answer (JSON
 *   `ServicePrice`, big numbers as decimal strings; `null`: the call
 *   reverts) without touching the scenario of other tests. The default is
 *   the one synapse-core's own mocks answer (2.5 USDFC per TiB-month).
 * - `POST {base}/__terminate`: `{ dataSetId, pdpEndEpoch }` terminates a data
 *   set a local PDP provider created (filecoin-storage-chain.ts `terminate`).
 * - `POST {base}/__proving`: `{ dataSetId, lastProvenEpoch, nextChallengeEpoch }`
 *   sets such a data set's proving state (filecoin-storage-chain.ts `setProving`).
 * - `GET {base}/__scheduled-removals/{dataSetId}`: the piece ids whose
 *   deletion the chain recorded for such a data set (JSON strings).
 * - `POST {base}/__state`: replaces the scenario (JSON, big numbers as
 *   decimal strings); `GET {base}/__log`: methods and contract functions
 *   received, transactions sent (decoded).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import * as Abis from "@filoz/synapse-core/abis";
import { calibration } from "@filoz/synapse-core/chains";
import type { StorageChain } from "./filecoin-storage-chain";
import {
  decodeFunctionData,
  encodeFunctionResult,
  isAddressEqual,
  keccak256,
  multicall3Abi,
  numberToHex,
  parseTransaction,
  recoverTransactionAddress,
  type Abi,
  type Hex,
} from "viem";
import { listenLocal } from "./listen-local";

export interface ScenarioDataSet {
  live: boolean;
  pdpEndEpoch: string;
  lastProvenEpoch: string;
  nextChallengeEpoch: string;
  scheduledRemovals: string[];
  providerId: string;
  pieces: string[];
}

export interface Scenario {
  head: string;
  maxProvingPeriod: string;
  dataSets: Record<string, ScenarioDataSet>;
  /** Data set ids whose calls never get an answer. */
  hang: string[];
  accounts: Record<string, { funds: string; lockupCurrent: string; lockupRate: string; lockupLastSettledAt: string }>;
  /** Piece CID → base64 bytes served at /piece/{cid}. */
  pieces: Record<string, string>;
  lotusHead: string;
  deals: Record<string, { PieceCID: string; Provider: string; StartEpoch: number; EndEpoch: number; SectorStartEpoch: number; SlashEpoch: number }>;
}

/** FilecoinWarmStorageService.ServicePricing (USDFC base units, 18 decimals), as decimal strings. */
export interface ServicePrice {
  pricePerTiBPerMonthNoCDN: string;
  pricePerTiBCdnEgress: string;
  pricePerTiBCacheMissEgress: string;
  epochsPerMonth: string;
  minimumPricePerMonth: string;
}

/** What `@filoz/synapse-core/mocks` (jsonrpc) answers for `getServicePrice`. */
export const DEFAULT_SERVICE_PRICE: ServicePrice = {
  pricePerTiBPerMonthNoCDN: "2500000000000000000",
  pricePerTiBCdnEgress: "7000000000000000000",
  pricePerTiBCacheMissEgress: "7000000000000000000",
  epochsPerMonth: "86400",
  minimumPricePerMonth: "60000000000000000",
};

export interface ChainLog {
  methods: string[];
  calls: string[];
  transactions: Array<{ from: string; to: string; functionName: string; args: string[] }>;
  lotus: string[];
  pieces: string[];
  /** Errors the server answered (what a test did not expect the worker to ask). */
  errors: string[];
}

export interface FilecoinChainServer {
  base: string;
  close(): Promise<void>;
}

const HANG = Symbol("hang");

const emptyScenario = (): Scenario => ({
  head: "1000000",
  maxProvingPeriod: "2880",
  dataSets: {},
  hang: [],
  accounts: {},
  pieces: {},
  lotusHead: "5000000",
  deals: {},
});

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of req) chunks.push(c);
  return new TextDecoder().decode(await new Blob(chunks as unknown as ConstructorParameters<typeof Blob>[0]).arrayBuffer());
}

/**
 * `storage` (test/servers/filecoin-storage-chain.ts): providers, session
 * keys and the data sets local PDP providers create; asked first for every
 * `eth_call` (FilecoinBackend.store's tests).
 */
export async function startFilecoinChainServer(storage?: StorageChain): Promise<FilecoinChainServer> {
  let scenario = emptyScenario();
  let log: ChainLog = { methods: [], calls: [], transactions: [], lotus: [], pieces: [], errors: [] };
  const nonces = new Map<string, number>();
  const c = calibration.contracts;
  let servicePrice: ServicePrice | null = DEFAULT_SERVICE_PRICE;

  function dataSet(id: bigint): ScenarioDataSet {
    const set = scenario.dataSets[id.toString()];
    if (!set) throw new Error(`data set ${id} does not exist`);
    return set;
  }

  function call(to: Hex, data: Hex): Hex | typeof HANG {
    if (isAddressEqual(to, c.multicall3.address)) {
      const { args } = decodeFunctionData({ abi: multicall3Abi, data });
      const results: Array<{ success: boolean; returnData: Hex }> = [];
      for (const sub of args[0] as ReadonlyArray<{ target: Hex; callData: Hex; allowFailure: boolean }>) {
        try {
          const r = call(sub.target, sub.callData);
          if (r === HANG) return HANG;
          results.push({ success: true, returnData: r });
        } catch (err) {
          if (!sub.allowFailure) throw err;
          results.push({ success: false, returnData: "0x" });
        }
      }
      return encodeFunctionResult({ abi: multicall3Abi, functionName: "aggregate3", result: results });
    }
    // --- Storage side (providers, session keys, data sets created by local providers): filecoin-storage-chain.ts.
    const played = storage?.call(to, data);
    if (played !== undefined) return played;
    // --- end storage side.
    const table: Array<[Hex, Abi]> = [
      [c.pdp.address, Abis.pdp as Abi],
      [c.fwss.address, Abis.fwss as Abi],
      [c.fwssView.address, Abis.fwssView as Abi],
      [c.filecoinPay.address, Abis.filecoinPay as Abi],
      [c.usdfc.address, Abis.erc20WithPermit as Abi],
    ];
    const entry = table.find(([address]) => isAddressEqual(address, to));
    if (!entry) throw new Error(`no contract at ${to}`);
    const abi = entry[1];
    const { functionName, args = [] } = decodeFunctionData({ abi, data });
    log.calls.push(functionName);
    const a = args as readonly unknown[];
    if (["dataSetLive", "getDataSetLastProvenEpoch", "getNextChallengeEpoch", "getScheduledRemovals", "pieceLive", "getDataSet"].includes(functionName)) {
      if (scenario.hang.includes(String(a[0]))) return HANG;
    }
    const result = ((): unknown => {
      switch (functionName) {
        case "dataSetLive":
          return scenario.dataSets[String(a[0])]?.live ?? false;
        case "getDataSetLastProvenEpoch":
          return BigInt(dataSet(a[0] as bigint).lastProvenEpoch);
        case "getNextChallengeEpoch":
          return BigInt(dataSet(a[0] as bigint).nextChallengeEpoch);
        case "getScheduledRemovals":
          return dataSet(a[0] as bigint).scheduledRemovals.map(BigInt);
        case "pieceLive": {
          const set = scenario.dataSets[String(a[0])];
          return !!set && set.live && set.pieces.includes(String(a[1]));
        }
        case "getDataSet": {
          const set = dataSet(a[0] as bigint);
          const zero = "0x0000000000000000000000000000000000000000";
          return {
            pdpRailId: 1n, cacheMissRailId: 0n, cdnRailId: 0n, payer: zero, payee: zero, serviceProvider: zero,
            commissionBps: 0n, clientDataSetId: 0n, pdpEndEpoch: BigInt(set.pdpEndEpoch), providerId: BigInt(set.providerId),
            dataSetId: a[0] as bigint,
          };
        }
        case "getServicePrice": {
          if (servicePrice === null) throw new Error("getServicePrice is not available");
          const p = servicePrice;
          return {
            pricePerTiBPerMonthNoCDN: BigInt(p.pricePerTiBPerMonthNoCDN),
            pricePerTiBCdnEgress: BigInt(p.pricePerTiBCdnEgress),
            pricePerTiBCacheMissEgress: BigInt(p.pricePerTiBCacheMissEgress),
            tokenAddress: c.usdfc.address,
            epochsPerMonth: BigInt(p.epochsPerMonth),
            minimumPricePerMonth: BigInt(p.minimumPricePerMonth),
          };
        }
        case "getPDPConfig":
          return [BigInt(scenario.maxProvingPeriod), 60n, 5n, 0n];
        case "accounts": {
          const acct = scenario.accounts[String(a[1]).toLowerCase()];
          if (!acct) return [0n, 0n, 0n, 0n];
          return [BigInt(acct.funds), BigInt(acct.lockupCurrent), BigInt(acct.lockupRate), BigInt(acct.lockupLastSettledAt)];
        }
        case "depositWithPermit":
          return undefined;
        case "balanceOf":
          return 10n ** 30n;
        case "name":
          return "USD for Filecoin Community";
        case "version":
          return "1";
        case "nonces":
          return 0n;
        default:
          throw new Error(`${functionName} is not played by this server`);
      }
    })();
    if (result === undefined) return "0x"; // a function without outputs (a transaction's simulation)
    return encodeFunctionResult({ abi, functionName, result } as never);
  }

  async function sendRaw(raw: Hex): Promise<Hex> {
    const tx = parseTransaction(raw as never);
    const from = await recoverTransactionAddress({ serializedTransaction: raw as never });
    if (!tx.to || !isAddressEqual(tx.to, c.filecoinPay.address)) throw new Error(`unexpected transaction to ${tx.to}`);
    const { functionName, args = [] } = decodeFunctionData({ abi: Abis.filecoinPay as Abi, data: tx.data! });
    log.transactions.push({ from, to: tx.to, functionName, args: (args as unknown[]).map((x) => String(x)) });
    nonces.set(from.toLowerCase(), (nonces.get(from.toLowerCase()) ?? 0) + 1);
    if (functionName === "depositWithPermit") {
      const [, to, amount] = args as [Hex, Hex, bigint];
      const acct = (scenario.accounts[to.toLowerCase()] ??= { funds: "0", lockupCurrent: "0", lockupRate: "0", lockupLastSettledAt: scenario.head });
      acct.funds = (BigInt(acct.funds) + amount).toString();
    }
    return keccak256(raw);
  }

  async function rpc(req: { method: string; params?: unknown[]; id?: number }): Promise<unknown> {
    log.methods.push(req.method);
    const p = req.params ?? [];
    const ok = (result: unknown) => ({ jsonrpc: "2.0", id: req.id ?? 1, result });
    try {
      switch (req.method) {
        case "eth_chainId":
          return ok(numberToHex(calibration.id));
        case "eth_blockNumber":
          return ok(numberToHex(BigInt(scenario.head)));
        case "eth_call": {
          const { to, data } = p[0] as { to: Hex; data: Hex };
          const r = call(to, data);
          return r === HANG ? HANG : ok(r);
        }
        case "eth_getTransactionCount":
          return ok(numberToHex(nonces.get(String((p[0] as string).toLowerCase())) ?? 0));
        case "eth_estimateGas":
          return ok(numberToHex(1_000_000n));
        case "eth_gasPrice":
        case "eth_maxPriorityFeePerGas":
          return ok(numberToHex(100_000n));
        case "eth_getBlockByNumber":
          return ok({ number: numberToHex(BigInt(scenario.head)), baseFeePerGas: numberToHex(100n), hash: `0x${"11".repeat(32)}`, timestamp: "0x0", transactions: [] });
        case "eth_sendRawTransaction":
          return ok(await sendRaw(p[0] as Hex));
        default:
          // As Lotus answers a method it does not have (viem then falls back, e.g. from eth_fillTransaction).
          log.errors.push(`${req.method}: not played`);
          return { jsonrpc: "2.0", id: req.id ?? 1, error: { code: -32601, message: `the method ${req.method} does not exist/is not available` } };
      }
    } catch (err) {
      log.errors.push(`${req.method}: ${(err as Error).message}`);
      return { jsonrpc: "2.0", id: req.id ?? 1, error: { code: 3, message: `execution reverted: ${(err as Error).message}`, data: "0x" } };
    }
  }

  function lotus(req: { method: string; params?: unknown[]; id?: number }): unknown {
    log.lotus.push(req.method);
    if (req.method === "Filecoin.ChainHead") {
      return { jsonrpc: "2.0", id: req.id, result: { Cids: [], Blocks: [], Height: Number(scenario.lotusHead) } };
    }
    if (req.method === "Filecoin.StateMarketStorageDeal") {
      const id = String((req.params ?? [])[0]);
      const d = scenario.deals[id];
      if (!d) return { jsonrpc: "2.0", id: req.id, error: { code: 1, message: `deal ${id} not found` } };
      return {
        jsonrpc: "2.0",
        id: req.id,
        result: {
          Proposal: { PieceCID: { "/": d.PieceCID }, PieceSize: 34359738368, VerifiedDeal: true, Client: "f01234", Provider: d.Provider, Label: "", StartEpoch: d.StartEpoch, EndEpoch: d.EndEpoch, StoragePricePerEpoch: "0", ProviderCollateral: "0", ClientCollateral: "0" },
          State: { SectorNumber: 7, SectorStartEpoch: d.SectorStartEpoch, LastUpdatedEpoch: -1, SlashEpoch: d.SlashEpoch },
        },
      };
    }
    return { jsonrpc: "2.0", id: req.id, error: { code: -32601, message: `method '${req.method}' not found` } };
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    try {
      if (req.method === "POST" && url.pathname === "/__state") {
        scenario = { ...emptyScenario(), ...(JSON.parse(await body(req)) as Partial<Scenario>) };
        log = { methods: [], calls: [], transactions: [], lotus: [], pieces: [], errors: [] };
        nonces.clear();
        res.writeHead(204).end();
        return;
      }
      if (req.method === "POST" && url.pathname === "/__terminate" && storage) {
        const t = JSON.parse(await body(req)) as { dataSetId: string; pdpEndEpoch: string };
        storage.terminate(BigInt(t.dataSetId), BigInt(t.pdpEndEpoch));
        res.writeHead(204).end();
        return;
      }
      const removals = /^\/__scheduled-removals\/(\d+)$/.exec(url.pathname);
      if (req.method === "GET" && removals && storage) {
        const set = storage.dataSets.get(BigInt(removals[1]!));
        res.writeHead(set ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(set ? set.scheduledRemovals.map(String) : null));
        return;
      }
      if (req.method === "POST" && url.pathname === "/__proving" && storage) {
        const t = JSON.parse(await body(req)) as { dataSetId: string; lastProvenEpoch: string; nextChallengeEpoch: string };
        storage.setProving(BigInt(t.dataSetId), BigInt(t.lastProvenEpoch), BigInt(t.nextChallengeEpoch));
        res.writeHead(204).end();
        return;
      }
      if (req.method === "POST" && url.pathname === "/__price") {
        servicePrice = JSON.parse(await body(req)) as ServicePrice | null;
        res.writeHead(204).end();
        return;
      }
      if (req.method === "GET" && url.pathname === "/__log") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(log));
        return;
      }
      if (req.method === "GET" && url.pathname === "/__state") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(scenario));
        return;
      }
      if (req.method === "POST" && url.pathname === "/rpc") {
        const parsed = JSON.parse(await body(req)) as unknown;
        const batch = Array.isArray(parsed) ? parsed : [parsed];
        const answers = [];
        for (const item of batch) answers.push(await rpc(item as { method: string }));
        if (answers.includes(HANG)) return; // never answered: the client's timeout fires
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Array.isArray(parsed) ? answers : answers[0]));
        return;
      }
      if (req.method === "POST" && url.pathname === "/lotus") {
        const parsed = JSON.parse(await body(req)) as { method: string; id?: number };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(lotus(parsed)));
        return;
      }
      const piece = /^\/piece\/([a-z0-9]+)$/.exec(url.pathname);
      if (req.method === "GET" && piece) {
        log.pieces.push(piece[1]!);
        const b64 = scenario.pieces[piece[1]!];
        if (b64 === undefined) {
          res.writeHead(404, { "content-type": "text/plain" }).end("piece not found");
          return;
        }
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes.length) }).end(bytes);
        return;
      }
      res.writeHead(404).end();
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" }).end((err as Error).message);
    }
  });
  return listenLocal(server, "filecoin-chain-server");
}
