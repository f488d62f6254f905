import { parseChainSettings, type FilecoinChainSettings } from "./chain-config";

/**
 * The watch's configuration from vars and secrets (README "Filecoin"):
 * FOC_CHAIN, FOC_RPC_URL, FOC_CONTRACTS (JSON of address overrides),
 * FOC_RPC_TIMEOUT_MS, FOC_PROOF_AT_RISK_PERIODS, FOC_PROOF_LOST_PERIODS,
 * FOC_MIN_RUNWAY_DAYS, FOC_TARGET_RUNWAY_DAYS, FOC_MAX_BALANCE (USDFC),
 * FOC_AUTO_FUND ("on"/"off"), RENEW_WINDOW_DAYS, VERIFY_SAMPLE,
 * LOTUS_RPC_URL, FOC_WATCH_SUBREQUESTS; secrets FOC_PAYER_ADDRESS and FOC_FUNDING_KEY.
 */
export interface WatchConfig {
  chain: FilecoinChainSettings;
  rpcTimeoutMs: number;
  atRiskPeriods: number;
  lostPeriods: number;
  minRunwayDays: number;
  targetRunwayDays: number;
  /** USDFC base units (18 decimals). */
  maxBalance: bigint;
  autoFund: boolean;
  renewWindowDays: number;
  verifySample: number;
  lotusRpcUrl: string | null;
  payer: `0x${string}` | null;
  fundingKey: string | null;
  /**
   * Subrequests one run may spend before it stops and leaves the rest to the
   * object's alarm (FOC_WATCH_SUBREQUESTS, default 800: the paid plan allows
   * 1,000 per invocation, the free plan 50).
   */
  runSubrequests: number;
}

type WatchEnv = Partial<Record<string, string | undefined>>;

function num(env: WatchEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
}

/** USDFC decimal string ("12.5") to base units (18 decimals). */
export function parseUsdfc(value: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,18}))?$/.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not a USDFC amount`);
  return BigInt(m[1]!) * 10n ** 18n + BigInt((m[2] ?? "").padEnd(18, "0") || "0");
}

export function watchConfig(env: Env): WatchConfig {
  const e = env as unknown as WatchEnv;
  const contracts = e.FOC_CONTRACTS ? (JSON.parse(e.FOC_CONTRACTS) as Record<string, string>) : undefined;
  const chain = parseChainSettings({
    chain: e.FOC_CHAIN || "calibration",
    ...(e.FOC_RPC_URL ? { rpcUrl: e.FOC_RPC_URL } : {}),
    ...(contracts ? { contracts } : {}),
  });
  const payer = e.FOC_PAYER_ADDRESS?.trim() || null;
  if (payer !== null && !/^0x[0-9a-fA-F]{40}$/.test(payer)) throw new Error("FOC_PAYER_ADDRESS must be a 0x address");
  const atRiskPeriods = num(e, "FOC_PROOF_AT_RISK_PERIODS", 2);
  const lostPeriods = Math.max(atRiskPeriods + 1, num(e, "FOC_PROOF_LOST_PERIODS", 6));
  const minRunwayDays = num(e, "FOC_MIN_RUNWAY_DAYS", 30);
  return {
    chain,
    rpcTimeoutMs: num(e, "FOC_RPC_TIMEOUT_MS", 10_000),
    atRiskPeriods,
    lostPeriods,
    minRunwayDays,
    targetRunwayDays: Math.max(minRunwayDays, num(e, "FOC_TARGET_RUNWAY_DAYS", 60)),
    maxBalance: parseUsdfc(e.FOC_MAX_BALANCE || "0"),
    autoFund: e.FOC_AUTO_FUND === "on",
    renewWindowDays: num(e, "RENEW_WINDOW_DAYS", 30),
    verifySample: Math.floor(num(e, "VERIFY_SAMPLE", 3)),
    lotusRpcUrl: e.LOTUS_RPC_URL || null,
    payer: payer as `0x${string}` | null,
    fundingKey: e.FOC_FUNDING_KEY || null,
    runSubrequests: Math.max(10, Math.floor(num(e, "FOC_WATCH_SUBREQUESTS", 800))),
  };
}
