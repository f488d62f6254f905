/**
 * Replication and cost in `/metrics` (src/metrics/routes.ts): copies by
 * backend and state summed over the registries (as GET /api/v1/replicas
 * counts them), bytes per backend, the monthly cost estimate of priced
 * backends (PRICE_R2_GB_MONTH, PRICES) and the budget alert gauge. Copies
 * are made by the real engine on the local pinning service
 * (test/servers/psa-server.ts), as in test/replication/engine.test.ts.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
// A real Prometheus text parser (a port of the Prometheus Python client's), output as prom2json's.
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import worker from "../../src/worker";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { ADMIN, BASE, newAccount } from "../pinning/helpers";
import { pinInR2, replicaOf, rootStatus, runUntil } from "../replication/helpers";

type Family = { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string }[] };

/** A scrape of a worker with `vars` over the test env. */
async function scrape(vars: Partial<Env> = {}): Promise<Map<string, Family>> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(new Request(`${BASE}/metrics?region=local`, { headers: { Authorization: `Bearer ${ADMIN}` } }) as never, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  expect(res.status, text.slice(0, 200)).toBe(200);
  return new Map((parsePrometheusTextFormat(text) as Family[]).map((f) => [f.name, f]));
}

/** The sample with exactly `labels`, or undefined. */
function sample(m: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  const key = JSON.stringify(Object.entries(labels).sort());
  const s = m.get(name)?.metrics.find((x) => JSON.stringify(Object.entries(x.labels ?? {}).sort()) === key);
  return s === undefined ? undefined : Number(s.value);
}

const allStored = (token: string, cid: { toString(): string }) => async () => (await rootStatus(token, cid.toString())).aggregate === "stored";

describe("/metrics: replication by backend and state, cost and budget", () => {
  it("copies by backend and state move when a pin is replicated; bytes, cost per priced backend and the budget gauge follow", async () => {
    const before = await scrape();
    expect(before.get("ipfs_edge_replicas")?.type ?? "GAUGE").toBe("GAUGE");
    const storedBefore = (backend: string) => sample(before, "ipfs_edge_replicas", { backend, state: "stored" }) ?? 0;
    const bytesBefore = (backend: string) => sample(before, "ipfs_edge_backend_stored_bytes", { backend }) ?? 0;

    // meta.tier = archive: R2 + remote + backup (the test policy in vitest.config.ts).
    const { token, account } = await newAccount("metrics-replicas");
    const { root } = await pinInR2(token, account, 1201, { tier: "archive" }, 40_000);
    await runUntil(account, allStored(token, root), 15_000);
    const status = await rootStatus(token, root);
    const remoteBytes = replicaOf(status, "remote").bytes!;
    expect(remoteBytes).toBeGreaterThan(40_000);
    // What the account's registry counts, exactly (the series sums these over every account).
    expect(await registryStub(env, account).replicaCounts()).toEqual({ byBackend: { backup: { stored: 1 }, r2: { stored: 1 }, remote: { stored: 1 } }, total: 3 });

    // PRICES by name (remote) and by type would both apply to psa backends: the name wins; backup gets the type's price.
    const after = await scrape({ PRICES: JSON.stringify({ remote: 1000, psa: 10 }), PRICE_R2_GB_MONTH: "0.015", BUDGET_MONTHLY_USD: "0.000001" });
    expect(after.get("ipfs_edge_replicas")?.type).toBe("GAUGE");
    // Other test files replicate at the same time: this pin's copies are a lower bound.
    for (const backend of ["remote", "backup", "r2"]) expect(sample(after, "ipfs_edge_replicas", { backend, state: "stored" })! - storedBefore(backend)).toBeGreaterThanOrEqual(1);
    for (const backend of ["remote", "backup"]) expect(sample(after, "ipfs_edge_backend_stored_bytes", { backend })! - bytesBefore(backend)).toBeGreaterThanOrEqual(remoteBytes);
    // Cost = stored GB (10^9) × price, from the same scrape's bytes.
    const cost = (backend: string, price: number) => (sample(after, "ipfs_edge_backend_stored_bytes", { backend })! / 1e9) * price;
    expect(sample(after, "ipfs_edge_estimated_monthly_cost_usd", { backend: "remote" })).toBeCloseTo(cost("remote", 1000), 9);
    expect(sample(after, "ipfs_edge_estimated_monthly_cost_usd", { backend: "backup" })).toBeCloseTo(cost("backup", 10), 9);
    expect(sample(after, "ipfs_edge_estimated_monthly_cost_usd", { backend: "r2" })).toBeCloseTo(cost("r2", 0.015), 12);
    expect(sample(after, "ipfs_edge_budget_exceeded", {})).toBe(1);

    // Without a price for a backend, no cost series for it (never a guessed price); a budget not reached reads 0.
    const unpriced = await scrape({ PRICES: "", BUDGET_MONTHLY_USD: "1000000000" });
    expect(sample(unpriced, "ipfs_edge_backend_stored_bytes", { backend: "remote" })).toBeGreaterThanOrEqual(remoteBytes);
    expect(sample(unpriced, "ipfs_edge_estimated_monthly_cost_usd", { backend: "remote" })).toBeUndefined();
    expect(sample(unpriced, "ipfs_edge_estimated_monthly_cost_usd", { backend: "r2" })).toBeGreaterThan(0);
    expect(sample(unpriced, "ipfs_edge_budget_exceeded", {})).toBe(0);
  });
});
