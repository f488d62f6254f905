import { resolveChain, type FilecoinChainSettings } from "./chain-config";
import { RPC_TIMEOUT_MS } from "./chain-reader";

/**
 * Filecoin Onchain Cloud's storage price, read from the chain:
 * FilecoinWarmStorageService `getServicePrice()` (the call synapse-core's
 * `warm-storage/getServicePrice` makes, with its `fwss` ABI), whose
 * `pricePerTiBPerMonthNoCDN` is the storage price in USDFC base units
 * (18 decimals) per TiB (2^40 bytes) per month. CDN egress is priced per
 * TiB served, not stored, so it is not part of a storage estimate; the
 * per-data-set `minimumPricePerMonth` is returned for the page to mention.
 *
 * Used by the cost estimate (src/dashboard/cost.ts), never on a gateway
 * request: viem and synapse-core are imported here lazily. Each price is
 * cached in the isolate for PRICE_TTL_MS (a failed read for
 * FAILED_READ_TTL_MS, so a dashboard or scrape does not ask a chain that
 * is down on every request), keyed by RPC URL and contract address.
 *
 * Error contract: `chainServicePrice` never throws; a read that failed
 * (network, timeout, revert, a malformed answer) is `{ error }` with the
 * reason and the time it was tried. No price is ever assumed.
 */
export interface ChainServicePrice {
  /** USDFC per TiB-month without CDN, as a decimal number (base units / 10^18). */
  usdfcPerTibMonth: number;
  /** The same in USDFC per GB (10^9 bytes) per month: the unit of the cost estimate. */
  usdfcPerGbMonth: number;
  /** USDFC per data set per month charged at least (`minimumPricePerMonth`). */
  minimumUsdfcPerMonth: number;
  /** The FWSS contract read, and when (ms since the epoch). */
  contract: `0x${string}`;
  readAt: number;
}

export type ChainPriceResult = ChainServicePrice | { error: string; triedAt: number };

/** How long a price read from the chain is used before it is read again. */
export const PRICE_TTL_MS = 60 * 60_000;
/** How long a failed read is remembered before the chain is asked again. */
export const FAILED_READ_TTL_MS = 60_000;
const TIB = 2 ** 40;
const USDFC_DECIMALS = 18;

const cache = new Map<string, { result: ChainPriceResult; until: number }>();

/** USDFC base units (18 decimals) as a number: exact enough for a price (a few significant digits). */
function usdfc(units: bigint): number {
  const scale = 10n ** BigInt(USDFC_DECIMALS);
  return Number(units / scale) + Number(units % scale) / 10 ** USDFC_DECIMALS;
}

/** The storage price from the chain of `settings` (cached; see above). */
export async function chainServicePrice(settings: FilecoinChainSettings, now = Date.now(), timeoutMs = RPC_TIMEOUT_MS): Promise<ChainPriceResult> {
  const chain = await resolveChain(settings);
  const rpcUrl = chain.rpcUrls.default.http[0]!;
  const fwss = chain.contracts.fwss.address;
  const key = `${rpcUrl} ${fwss.toLowerCase()}`;
  const hit = cache.get(key);
  if (hit && hit.until > now) return hit.result;
  let result: ChainPriceResult;
  try {
    const [{ createPublicClient, http }, { getServicePrice }] = await Promise.all([import("viem"), import("@filoz/synapse-core/warm-storage")]);
    const client = createPublicClient({ chain, transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
    const p = await getServicePrice(client as never);
    const perTib = usdfc(p.pricePerTiBPerMonthNoCDN);
    result = {
      usdfcPerTibMonth: perTib,
      usdfcPerGbMonth: (perTib * 1e9) / TIB,
      minimumUsdfcPerMonth: usdfc(p.minimumPricePerMonth),
      contract: fwss,
      readAt: now,
    };
  } catch (err) {
    const e = err as { shortMessage?: string; message?: string };
    result = { error: (e.shortMessage ?? e.message ?? String(err)).split("\n")[0]!.slice(0, 200), triedAt: now };
  }
  cache.set(key, { result, until: now + ("error" in result ? FAILED_READ_TTL_MS : PRICE_TTL_MS) });
  return result;
}
