/**
 * Usage and cost panel (docs/dashboard.md "Usage and cost"): stored bytes
 * and pins against each account's quotas, the estimated monthly storage cost
 * per backend, next month's projection at the last 30 days' growth, and
 * the budget alert (raised here; sent by the hourly cron, src/cron/budget-alert.ts).
 */
import { Hono } from "hono";
import { accountsStub } from "../durable-objects/accounts";
import { BUDGET_ALERT } from "../cron/budget-alert";
import { accountUsage, backendCosts, budgetPeriod, budgetStatus, costConfig, serviceUsage, type AccountUsage } from "./cost";
import { targetAccount, type DashboardEnv } from "./dashboard-env";
import { Alert, formatBytes, formatUsd, iso, Missing, Page } from "./layout";

export const usagePanel = new Hono<DashboardEnv>();

usagePanel.get("/", async (c) => {
  const session = c.get("session");
  const now = Date.now();
  const config = costConfig(c.env);
  const service = session.view === "service";
  const { accounts, partial } = service ? await serviceUsage(c.env, now) : { accounts: [await accountUsage(c.env, (await targetAccount(c, undefined))!, now)], partial: false };
  const costs = backendCosts(accounts, config);
  // The budget is the operator's: only the service view compares against it.
  const budget = service ? budgetStatus(costs, config) : null;
  const period = budgetPeriod(now);
  const sentAt = budget?.exceeded ? await accountsStub(c.env).alertSentAt(BUDGET_ALERT, period) : null;
  return c.html(
    <Page title="Usage and cost" session={session} current="usage" account={service ? c.req.query("account") : undefined}>
      <h2>Usage and cost</h2>
      {config.problems.map((p) => (
        <Alert>Configuration: {p}</Alert>
      ))}
      {budget?.exceeded && (
        <Alert>
          <strong>Budget alert:</strong> the projected monthly cost {formatUsd(budget.projectedMonthlyUsd)} reaches the budget of {formatUsd(budget.budgetUsd)}{" "}
          (BUDGET_MONTHLY_USD).{" "}
          {c.env.ALERT_WEBHOOK_URL.trim() === ""
            ? "No ALERT_WEBHOOK_URL is set: the alert is shown here only."
            : sentAt === null
              ? "The alert webhook is sent by the next hourly check."
              : `The alert webhook was sent for ${period} at ${iso(sentAt)}.`}
        </Alert>
      )}
      <section class="card" aria-labelledby="quota-h">
        <h3 id="quota-h">Storage and pins against quotas</h3>
        {partial && <p class="muted">Only the first accounts are shown.</p>}
        <div class="table-wrap">
          <table class="stack">
            <caption class="sr-only">Usage per account</caption>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Pins</th>
                <th scope="col">Stored</th>
                <th scope="col" class="num">Added, 30 days</th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((a) => (
                <UsageRow a={a} />
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="card" aria-labelledby="cost-h">
        <h3 id="cost-h">Estimated monthly cost</h3>
        <div class="table-wrap">
          <table class="stack">
            <caption class="sr-only">Estimated monthly storage cost per backend</caption>
            <thead>
              <tr>
                <th scope="col">Backend</th>
                <th scope="col" class="num">Stored</th>
                <th scope="col" class="num">Price per GB-month</th>
                <th scope="col" class="num">This month</th>
                <th scope="col" class="num">Projected next month</th>
              </tr>
            </thead>
            <tbody>
              {costs.map((k) => (
                <tr data-backend={k.backend}>
                  <th scope="row" data-label="Backend">{k.backend.toUpperCase()}</th>
                  <td class="num" data-label="Stored">{formatBytes(k.storedBytes)}</td>
                  <td class="num" data-label="Price/GB-mo">{formatUsd(k.pricePerGbMonth)}</td>
                  <td class="num" data-label="This month" data-fact="monthly">{formatUsd(k.monthlyUsd)}</td>
                  <td class="num" data-label="Next month" data-fact="projected">{formatUsd(k.projectedMonthlyUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted">
          Storage only: stored GB (10⁹ bytes) × PRICE_R2_GB_MONTH, before any free tier. The projection adds the bytes first pinned in the last 30 days.
          {service && budget === null && " No budget is set (BUDGET_MONTHLY_USD)."}
          {budget !== null && !budget.exceeded && ` Budget ${formatUsd(budget.budgetUsd)} a month: not reached.`}
        </p>
        <Missing>
          Not counted yet: R2 operations and bytes served (served-traffic metrics are collected by the metrics object, not on this deployment yet), and
          replicas on other backends (their costs appear here once pins have replicas).
        </Missing>
      </section>
      <section class="card" aria-labelledby="traffic-h">
        <h3 id="traffic-h">Requests and bytes served</h3>
        <Missing>Requests and bytes served over time appear here once the per-region metrics (GET /metrics) are deployed; none are recorded yet.</Missing>
      </section>
    </Page>,
  );
});

function UsageRow(props: { a: AccountUsage }) {
  const { a } = props;
  return (
    <tr data-account={a.account}>
      <th scope="row" class="cid" data-label="Account">
        {a.account}
      </th>
      <td data-label="Pins">
        <meter min={0} max={Math.max(1, a.limits.maxPins)} value={a.pins} aria-label={`pins of ${a.account}`}></meter>
        <div>
          {a.pins} of {a.limits.maxPins}
        </div>
      </td>
      <td data-label="Stored">
        <meter min={0} max={Math.max(1, a.limits.maxBytes)} value={a.bytes} aria-label={`stored bytes of ${a.account}`}></meter>
        <div>
          {formatBytes(a.bytes)} of {formatBytes(a.limits.maxBytes)}
        </div>
      </td>
      <td class="num" data-label="Added, 30 d">{formatBytes(a.addedBytes)}</td>
    </tr>
  );
}
