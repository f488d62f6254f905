/**
 * Usage and cost panel and the budget alert cron (src/dashboard/usage-panel.tsx,
 * src/dashboard/cost.ts, src/cron/budget-alert.ts): numbers from the
 * registries, the alert on the page, the webhook sent once a month.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import worker from "../../src/worker";
import { accountsStub } from "../../src/durable-objects/accounts";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { BUDGET_ALERT, checkBudget } from "../../src/cron/budget-alert";
import { BYTES_PER_GB } from "../../src/dashboard/cost";
import { formatUsd } from "../../src/dashboard/layout";
import { ADMIN, call, newAccount, pseudoRandomBytes } from "../pinning/helpers";
import { COOKIE, ORIGIN, page, signIn } from "./helpers";

/** The dashboard of a worker with other vars (prices, budget, webhook). */
async function pageWith(vars: Partial<Env>, cookie: string, path: string): Promise<string> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(new Request(ORIGIN + path, { headers: { Cookie: `${COOKIE}=${cookie}` } }) as never, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(200);
  return html;
}

/** Total stored bytes of every account, through the operator API (an independent path to the same numbers). */
async function totalStored(): Promise<number> {
  let total = 0;
  for (const account of await accountsStub(env).listAccounts()) {
    const res = await call("GET", `/api/v1/accounts/${account}/limits`, { token: ADMIN });
    total += ((await res.json()) as { usage: { bytes: number } }).usage.bytes;
  }
  return total;
}

async function received(tag: string): Promise<{ method: string; contentType: string; body: string }[]> {
  return (await fetch(`${inject("alertWebhookBase")}/__received?tag=${tag}`)).json();
}

async function uploaded(token: string, size: number, seed: number): Promise<number> {
  const res = await call("POST", "/api/v1/upload", { token, body: pseudoRandomBytes(size, seed) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { dag_size: number }).dag_size;
}

describe("dashboard usage and cost", () => {
  it("account view: its pins and bytes against its quotas; the R2 estimate from PRICE_R2_GB_MONTH; what is not counted is said", async () => {
    const { token, account } = await newAccount("dash-usage");
    const bytes = await uploaded(token, 2_000_000, 51);
    expect((await call("PUT", `/api/v1/accounts/${account}/limits`, { token: ADMIN, body: { maxPins: 10, maxBytes: 8_000_000 } })).status).toBe(200);
    const html = await pageWith({ PRICE_R2_GB_MONTH: "1000" }, token, "/dashboard/usage");
    const row = html.slice(html.indexOf(`<tr data-account="${account}">`), html.indexOf("</tr>", html.indexOf(`<tr data-account="${account}">`)));
    expect(row).toContain(`<meter min="0" max="10" value="1" aria-label="pins of ${account}"></meter><div>1 of 10</div>`);
    expect(row).toContain(`<meter min="0" max="8000000" value="${bytes}"`);
    expect(row).toContain(`${(bytes / 1024 / 1024).toFixed(2)} MiB of 7.63 MiB`);
    // 1000 USD per GB-month × bytes / 10^9; everything was added in the last 30 days, so the projection doubles it.
    const monthly = (bytes / BYTES_PER_GB) * 1000;
    expect(html).toContain(`<td class="num" data-label="This month" data-fact="monthly">$${monthly.toFixed(2)}</td>`);
    expect(html).toContain(`<td class="num" data-label="Next month" data-fact="projected">$${(2 * monthly).toFixed(2)}</td>`);
    // Gateway traffic is service-wide: an account is told where it is shown, and no chart of it.
    expect(html).toContain('<p class="muted">Gateway traffic is the whole service&#39;s: the operator&#39;s view shows it.</p>');
    expect(html).not.toContain('data-fact="served"');
    // Only this account: no other account's row, no budget (the operator's).
    expect(html.match(/<tr data-account=/g)).toHaveLength(1);
    expect(html).not.toContain("Budget alert");
  });

  it("amounts: cents, four digits under a dollar, two significant digits under a cent (never a tiny cost shown as $0.0000)", () => {
    expect([0, 1234.5, 0.015, 0.0000059, 0.000000001].map(formatUsd)).toEqual(["$0.00", "$1234.50", "$0.0150", "$0.0000059", "$0.0000000010"]);
  });

  it("a malformed price is reported on the page and the default is used", async () => {
    const { token } = await newAccount("dash-price");
    const html = await pageWith({ PRICE_R2_GB_MONTH: "cheap" }, token, "/dashboard/usage");
    expect(html).toContain('Configuration: PRICE_R2_GB_MONTH must be a non-negative number of USD, got &quot;cheap&quot;');
    expect(html).toContain('<td class="num" data-label="Price/GB-mo">$0.0150</td>');
  });

  it("service view: every account, and the budget alert once the projection reaches BUDGET_MONTHLY_USD", async () => {
    const { token, account } = await newAccount("dash-budget");
    await uploaded(token, 500_000, 53);
    const cookie = await signIn(ADMIN);
    const under = await pageWith({ BUDGET_MONTHLY_USD: "1000000" }, cookie, "/dashboard/usage");
    expect(under).toContain(`<tr data-account="${account}">`);
    expect(under).toContain("Budget $1000000.00 a month: not reached.");
    expect(under).not.toContain("Budget alert");

    const over = await pageWith({ BUDGET_MONTHLY_USD: "0.000001" }, cookie, "/dashboard/usage");
    expect(over).toContain('<div class="alert" role="alert"><strong>Budget alert:</strong> the projected monthly cost');
    expect(over).toContain("No ALERT_WEBHOOK_URL is set: the alert is shown here only.");
    const hooked = await pageWith({ BUDGET_MONTHLY_USD: "0.000001", ALERT_WEBHOOK_URL: "http://127.0.0.1:9/never" }, cookie, "/dashboard/usage");
    expect(hooked).toContain("The alert webhook is sent by the next hourly check.");
  });
});

describe("budget alert cron", () => {
  it("posts the alert once per month: a failing webhook is retried by the next run, a delivered one never repeated", async () => {
    const { token } = await newAccount("dash-cron");
    await uploaded(token, 300_000, 57);
    const now = Date.UTC(2031, 4, 10, 12); // its own month: the claim is per calendar month
    const failTag = `fail-${crypto.randomUUID()}`;
    const okTag = `ok-${crypto.randomUUID()}`;
    const vars = { ...env, BUDGET_MONTHLY_USD: "0.000001", PRICE_R2_GB_MONTH: "0.015" };

    await expect(checkBudget({ ...vars, ALERT_WEBHOOK_URL: `${inject("alertWebhookBase")}/fail/${failTag}` }, now)).rejects.toThrow("the alert webhook answered 500");
    expect(await received(failTag)).toHaveLength(1);
    expect(await accountsStub(env).alertSentAt(BUDGET_ALERT, "2031-05")).toBeNull();

    const stored = await totalStored();
    const result = await checkBudget({ ...vars, ALERT_WEBHOOK_URL: `${inject("alertWebhookBase")}/ok/${okTag}` }, now);
    expect(result.outcome).toBe("sent");
    const [hook] = await received(okTag);
    expect(hook!.method).toBe("POST");
    expect(hook!.contentType).toBe("application/json");
    const body = JSON.parse(hook!.body) as Record<string, unknown>;
    const monthly = Math.round((stored / 1e9) * 0.015 * 1e6) / 1e6;
    expect(body).toMatchObject({ type: "budget.exceeded", period: "2031-05", at: "2031-05-10T12:00:00.000Z", budgetUsd: 0.000001, estimatedMonthlyUsd: monthly });
    expect(body.backends).toEqual([{ backend: "r2", storedBytes: stored, monthlyUsd: monthly, projectedMonthlyUsd: body.projectedMonthlyUsd }]);
    expect(await accountsStub(env).alertSentAt(BUDGET_ALERT, "2031-05")).not.toBeNull();

    expect((await checkBudget({ ...vars, ALERT_WEBHOOK_URL: `${inject("alertWebhookBase")}/ok/${okTag}` }, now + 3_600_000)).outcome).toBe("already_sent");
    expect(await received(okTag)).toHaveLength(1);
    // Next month: sent again.
    expect((await checkBudget({ ...vars, ALERT_WEBHOOK_URL: `${inject("alertWebhookBase")}/ok/${okTag}` }, Date.UTC(2031, 5, 1, 0, 41))).outcome).toBe("sent");
    expect(await received(okTag)).toHaveLength(2);
  });

  it("the hourly cron 41 * * * * runs the check (scheduled handler of the worker)", async () => {
    const tag = `cron-${crypto.randomUUID()}`;
    const ctx = createExecutionContext();
    await worker.scheduled!(
      createScheduledController({ cron: "41 * * * *", scheduledTime: Date.UTC(2033, 2, 1) }),
      { ...env, BUDGET_MONTHLY_USD: "0", ALERT_WEBHOOK_URL: `${inject("alertWebhookBase")}/ok/${tag}` },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const [hook] = await received(tag);
    expect(JSON.parse(hook!.body)).toMatchObject({ type: "budget.exceeded", budgetUsd: 0 });
  });

  it("no budget, or under it: nothing is sent", async () => {
    const tag = `none-${crypto.randomUUID()}`;
    const url = `${inject("alertWebhookBase")}/ok/${tag}`;
    expect((await checkBudget({ ...env, BUDGET_MONTHLY_USD: "", ALERT_WEBHOOK_URL: url }, Date.UTC(2032, 0, 1))).outcome).toBe("no_budget");
    expect((await checkBudget({ ...env, BUDGET_MONTHLY_USD: "1000000000", ALERT_WEBHOOK_URL: url }, Date.UTC(2032, 0, 1))).outcome).toBe("under_budget");
    expect(await received(tag)).toEqual([]);
  });

  it("the registry's recent growth counts roots first pinned since a time", async () => {
    const { token, account } = await newAccount("dash-growth");
    const before = Date.now();
    const size = await uploaded(token, 100_000, 59);
    expect(await registryStub(env, account).addedBytesSince(before)).toBe(size);
    expect(await registryStub(env, account).addedBytesSince(Date.now() + 1000)).toBe(0);
  });
});
