/**
 * Usage and cost panel (docs/dashboard.md "Usage and cost"): stored bytes
 * and pins against each account's quotas, the estimated monthly storage cost
 * per backend (R2 and every backend holding replicas), next month's
 * projection at the last 30 days' growth, the budget alert (raised here;
 * sent by the hourly cron, src/cron/budget-alert.ts), and (operator view)
 * a region's gateway requests and bytes served over the last 24 hours, from
 * its Metrics object (`servedOverTime`, docs/operations.md).
 */
import { Hono } from "hono";
import { accountsStub } from "../durable-objects/accounts";
import { metricsObject, type ServedPoint } from "../durable-objects/metrics";
import { BUDGET_ALERT } from "../cron/budget-alert";
import { regionOf } from "../gateway/upstream/health";
import { badRequest } from "../http/errors";
import { accountUsage, backendCosts, budgetPeriod, budgetStatus, costConfig, withChainPrices, serviceUsage, type AccountUsage } from "./cost";
import { targetAccount, type DashboardEnv } from "./dashboard-env";
import { Alert, formatBytes, formatUsd, iso, Page } from "./layout";
import { Sparkline } from "./sparkline";
import type { ChainPriceResult } from "../backends/filecoin/service-price";

const REGION = /^[A-Za-z0-9_-]{1,64}$/;
/** The traffic chart: the last day, one point per hour. */
const TRAFFIC_WINDOW_MS = 24 * 3_600_000;
const TRAFFIC_STEP_MS = 3_600_000;

export const usagePanel = new Hono<DashboardEnv>();

usagePanel.get("/", async (c) => {
  const session = c.get("session");
  const now = Date.now();
  const config = costConfig(c.env);
  const service = session.view === "service";
  const requestedRegion = c.req.query("region");
  if (requestedRegion !== undefined && !REGION.test(requestedRegion)) throw badRequest("region must be 1 to 64 letters, digits, '-' or '_'");
  const region = requestedRegion ?? regionOf(c.req.raw);
  // Gateway traffic is the service's, not an account's: the operator's view shows it.
  const served = service ? await metricsObject(c.env, region).servedOverTime(now - TRAFFIC_WINDOW_MS, TRAFFIC_STEP_MS, now) : null;
  const { accounts, partial } = service ? await serviceUsage(c.env, now) : { accounts: [await accountUsage(c.env, (await targetAccount(c, undefined))!, now)], partial: false };
  const costs = backendCosts(accounts, await withChainPrices(c.env, accounts, config, now));
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
                  <th scope="row" data-label="Backend">{k.backend === "r2" ? "R2" : k.backend}</th>
                  <td class="num" data-label="Stored">{formatBytes(k.storedBytes)}</td>
                  <td class="num" data-label="Price/GB-mo">
                    {k.chainPrice !== undefined && "error" in k.chainPrice
                      ? "chain unreadable"
                      : k.pricePerGbMonth === null
                        ? "no price set"
                        : `${formatUsd(k.pricePerGbMonth)}${k.chainPrice !== undefined ? " (chain)" : ""}`}
                  </td>
                  <td class="num" data-label="This month" data-fact="monthly">{k.monthlyUsd === null ? "—" : formatUsd(k.monthlyUsd)}</td>
                  <td class="num" data-label="Next month" data-fact="projected">{k.projectedMonthlyUsd === null ? "—" : formatUsd(k.projectedMonthlyUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {costs.map((k) => (k.chainPrice === undefined ? null : <ChainPriceNote backend={k.backend} price={k.chainPrice} />))}
        <p class="muted">
          Storage only: stored GB (10⁹ bytes) × PRICE_R2_GB_MONTH for R2, × the backend's PRICES entry (by name or type) for the others (a filecoin backend without one: its chain's price), before any free
          tier; other backends hold their replicas' stored bytes. The projection adds the bytes first pinned (R2) or copied (other backends) in the last
          30 days. R2 operations and egress are not counted.
          {costs.some((k) => k.monthlyUsd === null) && " A backend with no price set is not in the total."}
          {service && budget === null && " No budget is set (BUDGET_MONTHLY_USD)."}
          {budget !== null && !budget.exceeded && ` Budget ${formatUsd(budget.budgetUsd)} a month: not reached.`}
        </p>
      </section>
      <section class="card" aria-labelledby="traffic-h">
        <h3 id="traffic-h">Requests and bytes served</h3>
        {served === null ? (
          <p class="muted">Gateway traffic is the whole service's: the operator's view shows it.</p>
        ) : (
          <Traffic region={region} points={served} now={now} />
        )}
      </section>
    </Page>,
  );
});

/** Where a filecoin backend's price came from: its chain (FWSS getServicePrice) and when, or why the chain gave none. */
function ChainPriceNote(props: { backend: string; price: ChainPriceResult }) {
  const p = props.price;
  if ("error" in p) {
    return (
      <p role="status" data-chain-price={props.backend} data-state="unreadable">
        <strong>{props.backend}</strong>: the Filecoin storage price could not be read from the chain at {iso(p.triedAt)} ({p.error}), so its cost is
        not estimated. Set its PRICES entry to price it meanwhile.
      </p>
    );
  }
  return (
    <p class="muted" data-chain-price={props.backend} data-state="read">
      <strong>{props.backend}</strong>: price read from the chain at {iso(p.readAt)}: FilecoinWarmStorageService <code>{p.contract}</code>{" "}
      <code>getServicePrice()</code> answers {p.usdfcPerTibMonth} USDFC per TiB-month without CDN, i.e. {p.usdfcPerGbMonth.toPrecision(6)} USDFC per
      GB-month, taken as USD (USDFC is a USD stablecoin). Its minimum of {p.minimumUsdfcPerMonth} USDFC per data set per month and CDN egress are not
      counted.
    </p>
  );
}

/** A region's gateway traffic over the last day: totals and hourly charts (the numbers are in the charts' text alternatives). */
function Traffic(props: { region: string; points: ServedPoint[]; now: number }) {
  const { points } = props;
  const total = points.reduce((t, p) => ({ requests: t.requests + p.requests, bytes: t.bytes + p.bytes, errors: t.errors + p.errors }), { requests: 0, bytes: 0, errors: 0 });
  const from = points[0]?.start ?? props.now - TRAFFIC_WINDOW_MS;
  return (
    <>
      <form method="get" action="/dashboard/usage" class="inline">
        <label>
          Region <input name="region" value={props.region} pattern="[A-Za-z0-9_\-]{1,64}" size={12} />
        </label>
        <button type="submit">Show</button>
      </form>
      <p data-fact="served">
        Region <code>{props.region}</code>, last 24 hours: <strong>{total.requests}</strong> gateway requests, <strong>{formatBytes(total.bytes)}</strong>{" "}
        served, {total.errors} answered 5xx.
      </p>
      <div class="charts">
        <figure>
          <Sparkline label="Requests per hour" points={points.map((p) => ({ at: p.start, value: p.requests }))} from={from} to={props.now} unit="requests" />
          <figcaption>Requests per hour</figcaption>
        </figure>
        <figure>
          <Sparkline label="Bytes served per hour" points={points.map((p) => ({ at: p.start, value: p.bytes }))} from={from} to={props.now} unit="bytes" />
          <figcaption>Bytes served per hour</figcaption>
        </figure>
      </div>
      <p class="muted">From the region's metrics object (per-minute rows kept 7 days); each colo counts its own requests.</p>
    </>
  );
}

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
