import type { Json } from "../replication-backend";

/**
 * Which Filecoin chain and contracts to talk to. Defaults are the ones
 * `@filoz/synapse-core` 0.5 ships (`chains.calibration`, `chains.mainnet`);
 * any address can be overridden for a redeployment without upgrading the
 * SDK. How to check them: docs/filecoin.md ("Contract addresses").
 *
 * Settings (`BACKENDS` entry of type "filecoin", or the FOC_* vars for the
 * watch): `chain` ("calibration" | "mainnet"), `rpcUrl`, and `contracts`
 * ({ pdp, fwss, fwssView, filecoinPay, usdfc, multicall3, ... } addresses).
 */
export interface FilecoinChainSettings {
  chain: "calibration" | "mainnet";
  /** JSON-RPC endpoint (Lotus/Forest eth_* API); the SDK's default (Glif) when absent. */
  rpcUrl?: string;
  /** Contract address overrides by synapse-core contract name. */
  contracts: Record<string, `0x${string}`>;
}

const CONTRACT_NAMES = [
  "multicall3",
  "usdfc",
  "filecoinPay",
  "fwss",
  "fwssView",
  "serviceProviderRegistry",
  "sessionKeyRegistry",
  "pdp",
  "endorsements",
] as const;

/** Parses chain settings; throws a message naming the bad field (the caller maps it to a permanent error). */
export function parseChainSettings(settings: { [key: string]: Json | undefined }): FilecoinChainSettings {
  const chain = settings.chain ?? "calibration";
  if (chain !== "calibration" && chain !== "mainnet") throw new Error(`chain must be "calibration" or "mainnet"`);
  const out: FilecoinChainSettings = { chain, contracts: {} };
  if (settings.rpcUrl !== undefined) {
    if (typeof settings.rpcUrl !== "string" || !/^https?:\/\//.test(settings.rpcUrl)) throw new Error("rpcUrl must be an http(s) URL");
    out.rpcUrl = settings.rpcUrl;
  }
  const contracts = settings.contracts;
  if (contracts !== undefined) {
    if (typeof contracts !== "object" || contracts === null || Array.isArray(contracts)) throw new Error("contracts must be an object");
    for (const [name, address] of Object.entries(contracts)) {
      if (!(CONTRACT_NAMES as readonly string[]).includes(name)) throw new Error(`contracts.${name}: unknown contract`);
      if (typeof address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`contracts.${name} must be a 0x address`);
      out.contracts[name] = address as `0x${string}`;
    }
  }
  return out;
}

type SynapseChain = import("@filoz/synapse-core/chains").Chain;

/** The synapse-core chain with overrides applied (lazily imports the SDK). */
export async function resolveChain(settings: FilecoinChainSettings): Promise<SynapseChain> {
  const chains = await import("@filoz/synapse-core/chains");
  const base = settings.chain === "mainnet" ? chains.mainnet : chains.calibration;
  const contracts = { ...base.contracts } as Record<string, { address: `0x${string}` }>;
  for (const [name, address] of Object.entries(settings.contracts)) {
    contracts[name] = { ...contracts[name]!, address };
  }
  const rpcUrls = settings.rpcUrl ? { default: { http: [settings.rpcUrl] } } : base.rpcUrls;
  return { ...base, rpcUrls, contracts: contracts as unknown as SynapseChain["contracts"] };
}
