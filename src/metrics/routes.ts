/**
 * `GET /metrics[?region=XXX]`: the region's totals in the Prometheus text
 * format 0.0.4 (docs/operations.md "Metrics"). Bearer token: `METRICS_TOKEN`
 * (a scrape-only secret) or the operator's `ADMIN_TOKEN`.
 *
 * Reads the region's Metrics object, pin work's counters (filed under
 * PIN_WORK_REGION), the pins and replicas of every account by state, and
 * the storage cost estimate with its budget alert (src/dashboard/cost.ts):
 * a scrape may wait on Durable Objects, a gateway request never does.
 */
import { Hono } from "hono";
import { bearerToken, timingSafeEqualString } from "../accounts/auth";
import { accountsStub } from "../durable-objects/accounts";
import { backendCosts, budgetStatus, costConfig, withChainPrices, serviceUsage } from "../dashboard/cost";
import { metricsObject, PIN_WORK_REGION, type RegionSeries } from "../durable-objects/metrics";
import { registryStub } from "../durable-objects/pin-registry";
import { regionOf } from "../gateway/upstream/health";
import { badRequest, HttpError } from "../http/errors";
import type { MetricName } from "./catalog";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus-text";
import { isolateInFlight } from "./recorder";

const REGION = /^[A-Za-z0-9_-]{1,64}$/;
/** Accounts asked for their pin counts at once. */
const FAN_OUT = 16;
const PIN_STATES = ["queued", "pinning", "pinned", "failed"] as const;

export const metricsRoutes = new Hono<{ Bindings: Env }>();

metricsRoutes.get("/", async (c) => {
  const token = bearerToken(c.req.header("Authorization"));
  // METRICS_TOKEN is an optional secret, so it is not in the generated Env (wrangler.toml [secrets] lists required ones).
  const metricsToken = (c.env as { METRICS_TOKEN?: string }).METRICS_TOKEN;
  const allowed = [metricsToken, c.env.ADMIN_TOKEN].filter((t): t is string => typeof t === "string" && t.length > 0);
  if (token === null || !allowed.some((t) => timingSafeEqualString(token, t))) {
    throw new HttpError("unauthorized", "metrics token is missing or invalid", { "WWW-Authenticate": "Bearer" });
  }
  const requested = c.req.query("region");
  if (requested !== undefined && !REGION.test(requested)) throw badRequest("region must be 1 to 64 letters, digits, '-' or '_'");
  const region = requested ?? regionOf(c.req.raw);

  const config = costConfig(c.env);
  const [own, pinWork, { pins, replicas }, usage] = await Promise.all([
    metricsObject(c.env, region).series(),
    region === PIN_WORK_REGION ? undefined : metricsObject(c.env, PIN_WORK_REGION).series(),
    registryTotals(c.env),
    serviceUsage(c.env),
  ]);
  // A filecoin backend without a PRICES entry is priced from its chain (cached); unreadable: no cost series for it.
  const costs = backendCosts(usage.accounts, await withChainPrices(c.env, usage.accounts, config));
  const budget = budgetStatus(costs, config);
  const body = renderPrometheus({
    counters: [...own.counters, ...pinCounters(pinWork)],
    histograms: own.histograms,
    gauges: [
      // The object's view plus this isolate's own requests not yet reported (this scrape is not one of them).
      { name: "ipfs_http_gw_concurrent_requests", labels: {}, value: Math.max(own.concurrentRequests, isolateInFlight()) },
      ...PIN_STATES.map((state) => ({ name: "ipfs_edge_pins" as MetricName, labels: { state }, value: pins[state] })),
      ...Object.entries(replicas).flatMap(([backend, states]) =>
        Object.entries(states).map(([state, value]) => ({ name: "ipfs_edge_replicas" as MetricName, labels: { backend, state }, value })),
      ),
      ...costs.map((k) => ({ name: "ipfs_edge_backend_stored_bytes" as MetricName, labels: { backend: k.backend }, value: k.storedBytes })),
      ...costs.flatMap((k) => (k.monthlyUsd === null ? [] : [{ name: "ipfs_edge_estimated_monthly_cost_usd" as MetricName, labels: { backend: k.backend }, value: k.monthlyUsd }])),
      ...(budget === null ? [] : [{ name: "ipfs_edge_budget_exceeded" as MetricName, labels: {}, value: budget.exceeded ? 1 : 0 }]),
    ],
  });
  return c.body(body, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" });
});

/** Service-wide pin counters recorded by pin work (under PIN_WORK_REGION). */
function pinCounters(series: RegionSeries | undefined) {
  return (series?.counters ?? []).filter((s) => s.name.startsWith("ipfs_edge_pin_"));
}

/** Pins by state and replicas by backend and state, summed over every account (FAN_OUT registries at a time). */
async function registryTotals(env: Env): Promise<{ pins: Record<(typeof PIN_STATES)[number], number>; replicas: Record<string, Record<string, number>> }> {
  const pins = { queued: 0, pinning: 0, pinned: 0, failed: 0 };
  const replicas: Record<string, Record<string, number>> = {};
  const accounts = await accountsStub(env).listAccounts();
  for (let i = 0; i < accounts.length; i += FAN_OUT) {
    const counts = await Promise.all(
      accounts.slice(i, i + FAN_OUT).map(async (a) => {
        const registry = registryStub(env, a);
        return Promise.all([registry.pinCountsByState(), registry.replicaCounts()]);
      }),
    );
    for (const [byState, copies] of counts) {
      for (const s of PIN_STATES) pins[s] += byState[s] ?? 0;
      for (const [backend, states] of Object.entries(copies.byBackend)) {
        const into = (replicas[backend] ??= {});
        for (const [state, n] of Object.entries(states)) into[state] = (into[state] ?? 0) + n;
      }
    }
  }
  return { pins, replicas };
}
