/**
 * Usage and estimated cost (docs/dashboard.md "Usage and cost").
 *
 * Stored bytes come from each account's PinRegistry: R2 from `usage().bytes`
 * (the distinct complete roots it holds, all in R2), every other backend
 * from its replicas' stored bytes (`replicaStorage`: copies stored,
 * at risk or being removed). Growth: bytes of roots first pinned (R2) or
 * copies stored (other backends) in the last 30 days. The estimate is
 * storage only: stored GB × the configured price per GB-month
 * (`PRICE_R2_GB_MONTH` for R2, `PRICES` for the others); a `filecoin`
 * backend without a PRICES entry is priced from its chain (FWSS
 * `getServicePrice`, src/backends/filecoin/service-price.ts: USDFC taken as
 * USD); a backend with no price is listed with its bytes and no cost, never
 * a guessed one.
 */
import { backendConfigs, R2_BACKEND } from "../backends/backend-config";
import { accountsStub } from "../durable-objects/accounts";
import { registryStub } from "../durable-objects/pin-registry";
import type { AccountLimits } from "../pinning/pin-types";
import type { ChainPriceResult } from "../backends/filecoin/service-price";

/** Cloudflare's published R2 Standard storage price, USD per GB-month (developers.cloudflare.com/r2/pricing). */
export const DEFAULT_PRICE_R2_GB_MONTH = 0.015;
/** Bytes in the GB that prices are quoted per (decimal: 10^9). */
export const BYTES_PER_GB = 1e9;
/** Growth window of the projection. */
export const GROWTH_WINDOW_MS = 30 * 24 * 60 * 60_000;
/** Accounts read per service view (one RPC each); beyond this the view says it is partial. */
export const MAX_ACCOUNTS = 1000;

export interface AccountUsage {
  account: string;
  limits: AccountLimits;
  pins: number;
  bytes: number;
  /** Bytes of roots first pinned within GROWTH_WINDOW_MS. */
  addedBytes: number;
  /** Copies on each replication backend (r2's own row included; its cost comes from `bytes`). */
  replicas: Record<string, { copies: number; bytes: number; addedBytes: number }>;
}

export interface BackendCost {
  backend: string;
  storedBytes: number;
  /** null: no price configured for this backend (PRICES): its cost is not estimated. */
  pricePerGbMonth: number | null;
  monthlyUsd: number | null;
  /** Next month at the last 30 days' growth: (stored + added) × price. */
  projectedMonthlyUsd: number | null;
  /** A filecoin backend without a PRICES entry: what its chain answered (the price, or why there is none). */
  chainPrice?: ChainPriceResult;
}

export interface CostConfig {
  priceR2GbMonth: number;
  /** USD per GB-month of the other backends, by backend name (from PRICES, whose keys are names or types). */
  prices: Map<string, number>;
  /** USD per month; null when BUDGET_MONTHLY_USD is unset. */
  budgetUsd: number | null;
  /** Configuration mistakes, shown on the page (the default is used meanwhile). */
  problems: string[];
  /** Filecoin backends without a PRICES entry: the price their chain answered (filled by `withChainPrices`). */
  chainPrices: Map<string, ChainPriceResult>;
}

/** Prices and budget from the vars; a malformed value is reported, not silently taken. */
export function costConfig(env: Env): CostConfig {
  const problems: string[] = [];
  const number = (name: string, raw: string | undefined): number | null => {
    if (raw === undefined || raw.trim() === "") return null;
    const n = Number(raw);
    if (Number.isFinite(n) && n >= 0) return n;
    problems.push(`${name} must be a non-negative number of USD, got ${JSON.stringify(raw.slice(0, 40))}`);
    return null;
  };
  return {
    priceR2GbMonth: number("PRICE_R2_GB_MONTH", env.PRICE_R2_GB_MONTH) ?? DEFAULT_PRICE_R2_GB_MONTH,
    prices: backendPrices(env, problems),
    budgetUsd: number("BUDGET_MONTHLY_USD", env.BUDGET_MONTHLY_USD),
    problems,
    chainPrices: new Map(),
  };
}

/**
 * `PRICES`: JSON `{ "<backend name or type>": USD per GB-month }`, e.g.
 * `{"s3": 0.023, "archive-kubo": 0}`; a name wins over its type. R2's price
 * is PRICE_R2_GB_MONTH. Resolved against BACKENDS to a price per backend name.
 */
function backendPrices(env: Env, problems: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const raw = (env.PRICES ?? "").trim();
  if (raw === "") return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push("PRICES is not valid JSON");
    return out;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.push('PRICES must be a JSON object {"<backend name or type>": USD per GB-month}');
    return out;
  }
  const given = new Map<string, number>();
  for (const [key, value] of Object.entries(parsed)) {
    if (key === R2_BACKEND) problems.push("PRICES: R2's price is PRICE_R2_GB_MONTH");
    else if (typeof value !== "number" || !Number.isFinite(value) || value < 0) problems.push(`PRICES.${key.slice(0, 40)} must be a non-negative number of USD`);
    else given.set(key, value);
  }
  let backends;
  try {
    backends = backendConfigs(env);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return out;
  }
  for (const b of backends.values()) {
    if (b.name === R2_BACKEND) continue;
    const price = given.get(b.name) ?? given.get(b.type);
    if (price !== undefined) out.set(b.name, price);
  }
  return out;
}

/**
 * Reads the chain's storage price for each `filecoin` backend holding
 * copies that PRICES does not price (PRICES wins), in parallel and cached
 * per isolate (service-price.ts; the SDK is imported only when there is
 * one). The price, USDFC per GB-month taken as USD, joins `config.prices`;
 * a chain that cannot be read leaves the backend unpriced, with the reason
 * in `config.chainPrices`.
 */
export async function withChainPrices(env: Env, accounts: AccountUsage[], config: CostConfig, now = Date.now()): Promise<CostConfig> {
  let backends;
  try {
    backends = backendConfigs(env);
  } catch {
    return config; // already reported by costConfig
  }
  const holding = new Set(accounts.flatMap((a) => Object.keys(a.replicas)));
  const wanted = [...backends.values()].filter((b) => b.type === "filecoin" && holding.has(b.name) && !config.prices.has(b.name));
  if (wanted.length === 0) return config;
  const [{ parseChainSettings }, { chainServicePrice }] = await Promise.all([import("../backends/filecoin/chain-config"), import("../backends/filecoin/service-price")]);
  const prices = new Map(config.prices);
  const chainPrices = new Map(config.chainPrices);
  await Promise.all(
    wanted.map(async (b) => {
      let result: ChainPriceResult;
      try {
        const timeout = typeof b.settings.rpcTimeoutMs === "number" ? b.settings.rpcTimeoutMs : undefined;
        result = await chainServicePrice(parseChainSettings(b.settings), now, timeout);
      } catch (err) {
        result = { error: err instanceof Error ? err.message : String(err), triedAt: now };
      }
      chainPrices.set(b.name, result);
      if (!("error" in result)) prices.set(b.name, result.usdfcPerGbMonth);
    }),
  );
  return { ...config, prices, chainPrices };
}

/** One account's usage against its quotas. */
export async function accountUsage(env: Env, account: string, now = Date.now()): Promise<AccountUsage> {
  const registry = registryStub(env, account);
  const [limits, usage, addedBytes, replicas] = await Promise.all([
    registry.limits(),
    registry.usage(),
    registry.addedBytesSince(now - GROWTH_WINDOW_MS),
    registry.replicaStorage(now - GROWTH_WINDOW_MS),
  ]);
  return { account, limits, pins: usage.pins, bytes: usage.bytes, addedBytes, replicas };
}

/** Every account's usage (at most MAX_ACCOUNTS; `partial` says when there are more). */
export async function serviceUsage(env: Env, now = Date.now()): Promise<{ accounts: AccountUsage[]; partial: boolean }> {
  const all = await accountsStub(env).listAccounts();
  const accounts = await Promise.all(all.slice(0, MAX_ACCOUNTS).map((a) => accountUsage(env, a, now)));
  return { accounts, partial: all.length > MAX_ACCOUNTS };
}

/** The cost of each backend holding the accounts' bytes: R2 first, then every backend holding replicas, by name. */
export function backendCosts(accounts: AccountUsage[], config: CostConfig): BackendCost[] {
  const cost = (backend: string, stored: number, added: number, price: number | null): BackendCost => {
    const chainPrice = config.chainPrices.get(backend);
    return {
      backend,
      storedBytes: stored,
      pricePerGbMonth: price,
      monthlyUsd: price === null ? null : (stored / BYTES_PER_GB) * price,
      projectedMonthlyUsd: price === null ? null : ((stored + added) / BYTES_PER_GB) * price,
      ...(chainPrice === undefined ? {} : { chainPrice }),
    };
  };
  const r2 = cost(R2_BACKEND, accounts.reduce((n, a) => n + a.bytes, 0), accounts.reduce((n, a) => n + a.addedBytes, 0), config.priceR2GbMonth);
  const others = new Map<string, { bytes: number; added: number }>();
  for (const a of accounts) {
    for (const [backend, r] of Object.entries(a.replicas)) {
      if (backend === R2_BACKEND) continue;
      const t = others.get(backend) ?? { bytes: 0, added: 0 };
      others.set(backend, { bytes: t.bytes + r.bytes, added: t.added + r.addedBytes });
    }
  }
  return [r2, ...[...others.keys()].sort().map((b) => cost(b, others.get(b)!.bytes, others.get(b)!.added, config.prices.get(b) ?? null))];
}

export interface BudgetStatus {
  budgetUsd: number;
  monthlyUsd: number;
  projectedMonthlyUsd: number;
  /** The projection reached the budget: the alert is raised. */
  exceeded: boolean;
  /** Backends holding bytes with no configured price: not in the totals. */
  unpriced: string[];
}

/** The budget against the total of every backend, or null without a budget. */
export function budgetStatus(costs: BackendCost[], config: CostConfig): BudgetStatus | null {
  if (config.budgetUsd === null) return null;
  const monthlyUsd = costs.reduce((n, c) => n + (c.monthlyUsd ?? 0), 0);
  const projectedMonthlyUsd = costs.reduce((n, c) => n + (c.projectedMonthlyUsd ?? 0), 0);
  const unpriced = costs.filter((c) => c.monthlyUsd === null && c.storedBytes > 0).map((c) => c.backend);
  return { budgetUsd: config.budgetUsd, monthlyUsd, projectedMonthlyUsd, exceeded: projectedMonthlyUsd >= config.budgetUsd, unpriced };
}

/** The alert period of `now`: the calendar month, UTC (`2026-11`). */
export function budgetPeriod(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}
