/**
 * Budget alert (docs/dashboard.md "Usage and cost"): when the projected
 * monthly cost of every backend reaches `BUDGET_MONTHLY_USD`, POST a JSON
 * alert to `ALERT_WEBHOOK_URL`, at most once per calendar month (UTC). The
 * month is claimed in the Accounts object before sending and given back when
 * the webhook does not answer 2xx, so a failed delivery is retried by the
 * next run and a delivered one is never repeated.
 */
import { accountsStub } from "../durable-objects/accounts";
import { backendCosts, budgetPeriod, budgetStatus, costConfig, withChainPrices, serviceUsage, type BudgetStatus } from "../dashboard/cost";

/** Hourly, at :41: check the budget. */
export const BUDGET_CRON = "41 * * * *";
/** Alert kind in Accounts.alerts_sent. */
export const BUDGET_ALERT = "budget";
/** The webhook gets this long to answer. */
const WEBHOOK_TIMEOUT_MS = 10_000;

export type BudgetCheck =
  | { outcome: "no_budget" | "under_budget" | "no_webhook" | "already_sent"; status: BudgetStatus | null }
  | { outcome: "sent"; status: BudgetStatus; period: string };

/**
 * Checks the budget now; sends the alert when due. Throws when the webhook
 * fails (the cron invocation is then recorded as failed).
 */
export async function checkBudget(env: Env, now = Date.now()): Promise<BudgetCheck> {
  const config = costConfig(env);
  if (config.budgetUsd === null) return { outcome: "no_budget", status: null };
  const { accounts } = await serviceUsage(env, now);
  // The same estimate as the dashboard's, Filecoin's chain price included.
  const costs = backendCosts(accounts, await withChainPrices(env, accounts, config, now));
  const status = budgetStatus(costs, config)!;
  if (!status.exceeded) return { outcome: "under_budget", status };
  const url = env.ALERT_WEBHOOK_URL.trim();
  if (url === "") return { outcome: "no_webhook", status };
  const period = budgetPeriod(now);
  const registry = accountsStub(env);
  if (!(await registry.claimAlert(BUDGET_ALERT, period))) return { outcome: "already_sent", status };
  const body = {
    type: "budget.exceeded",
    period,
    at: new Date(now).toISOString(),
    budgetUsd: status.budgetUsd,
    estimatedMonthlyUsd: round(status.monthlyUsd),
    projectedMonthlyUsd: round(status.projectedMonthlyUsd),
    // Priced backends; those holding bytes without a price (PRICES) are named apart, not costed.
    backends: costs
      .filter((c) => c.monthlyUsd !== null)
      .map((c) => ({ backend: c.backend, storedBytes: c.storedBytes, monthlyUsd: round(c.monthlyUsd!), projectedMonthlyUsd: round(c.projectedMonthlyUsd!) })),
    ...(status.unpriced.length > 0 ? { unpricedBackends: status.unpriced } : {}),
  };
  let failure: string | null = null;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "ipfs-kit-edge budget alert" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok) failure = `the alert webhook answered ${res.status}`;
  } catch (err) {
    failure = `the alert webhook could not be reached: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (failure !== null) {
    await registry.releaseAlert(BUDGET_ALERT, period);
    // Never the URL: it may carry a secret.
    throw new Error(failure);
  }
  return { outcome: "sent", status, period };
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
