/**
 * Usage and estimated cost (docs/dashboard.md "Usage and cost").
 *
 * Stored bytes come from each account's PinRegistry (`usage().bytes`: the
 * distinct complete roots it holds, all in R2); growth from the bytes of
 * roots first pinned in the last 30 days. The estimate is storage only:
 * stored GB × the configured price per GB-month. What is not counted is
 * said, never guessed: R2 operations and egress (no served-traffic metrics
 * on this branch yet) and replicas on other backends (replication is not
 * built yet: their costs appear here once pins have replicas).
 */
import { accountsStub } from "../durable-objects/accounts";
import { registryStub } from "../durable-objects/pin-registry";
import type { AccountLimits } from "../pinning/pin-types";

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
}

export interface BackendCost {
  backend: string;
  storedBytes: number;
  pricePerGbMonth: number;
  monthlyUsd: number;
  /** Next month at the last 30 days' growth: (stored + added) × price. */
  projectedMonthlyUsd: number;
}

export interface CostConfig {
  priceR2GbMonth: number;
  /** USD per month; null when BUDGET_MONTHLY_USD is unset. */
  budgetUsd: number | null;
  /** Configuration mistakes, shown on the page (the default is used meanwhile). */
  problems: string[];
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
    budgetUsd: number("BUDGET_MONTHLY_USD", env.BUDGET_MONTHLY_USD),
    problems,
  };
}

/** One account's usage against its quotas. */
export async function accountUsage(env: Env, account: string, now = Date.now()): Promise<AccountUsage> {
  const registry = registryStub(env, account);
  const [limits, usage, addedBytes] = await Promise.all([registry.limits(), registry.usage(), registry.addedBytesSince(now - GROWTH_WINDOW_MS)]);
  return { account, limits, pins: usage.pins, bytes: usage.bytes, addedBytes };
}

/** Every account's usage (at most MAX_ACCOUNTS; `partial` says when there are more). */
export async function serviceUsage(env: Env, now = Date.now()): Promise<{ accounts: AccountUsage[]; partial: boolean }> {
  const all = await accountsStub(env).listAccounts();
  const accounts = await Promise.all(all.slice(0, MAX_ACCOUNTS).map((a) => accountUsage(env, a, now)));
  return { accounts, partial: all.length > MAX_ACCOUNTS };
}

/** The cost of each backend holding the accounts' bytes: R2 only, until replicas exist. */
export function backendCosts(accounts: AccountUsage[], config: CostConfig): BackendCost[] {
  const stored = accounts.reduce((n, a) => n + a.bytes, 0);
  const added = accounts.reduce((n, a) => n + a.addedBytes, 0);
  const price = config.priceR2GbMonth;
  return [
    {
      backend: "r2",
      storedBytes: stored,
      pricePerGbMonth: price,
      monthlyUsd: (stored / BYTES_PER_GB) * price,
      projectedMonthlyUsd: ((stored + added) / BYTES_PER_GB) * price,
    },
  ];
}

export interface BudgetStatus {
  budgetUsd: number;
  monthlyUsd: number;
  projectedMonthlyUsd: number;
  /** The projection reached the budget: the alert is raised. */
  exceeded: boolean;
}

/** The budget against the total of every backend, or null without a budget. */
export function budgetStatus(costs: BackendCost[], config: CostConfig): BudgetStatus | null {
  if (config.budgetUsd === null) return null;
  const monthlyUsd = costs.reduce((n, c) => n + c.monthlyUsd, 0);
  const projectedMonthlyUsd = costs.reduce((n, c) => n + c.projectedMonthlyUsd, 0);
  return { budgetUsd: config.budgetUsd, monthlyUsd, projectedMonthlyUsd, exceeded: projectedMonthlyUsd >= config.budgetUsd };
}

/** The alert period of `now`: the calendar month, UTC (`2026-11`). */
export function budgetPeriod(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}
