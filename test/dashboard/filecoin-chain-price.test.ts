/**
 * Filecoin's storage price read from the chain (src/backends/filecoin/service-price.ts,
 * `withChainPrices` in src/dashboard/cost.ts): a `filecoin` backend without a
 * PRICES entry is priced by FilecoinWarmStorageService `getServicePrice()`
 * on its RPC, here the local chain server (test/servers/filecoin-chain-server.ts,
 * which answers with the contract's own ABI encoding). The usage panel and
 * the `/metrics` cost gauge then equal stored bytes × that price; PRICES
 * still wins; a chain that cannot be read is said so, and no cost is made up.
 *
 * The Filecoin copy is the engine's own replica row, completed as
 * `FilecoinBackend.store` records it (store() cannot run against the local
 * chain: docs/filecoin.md "Not done"), as in test/filecoin/watch-engine.test.ts.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, describe, expect, inject, it } from "vitest";
import worker from "../../src/worker";
import { registryStub, type PinRegistry } from "../../src/durable-objects/pin-registry";
import { BYTES_PER_GB } from "../../src/dashboard/cost";
import { formatUsd } from "../../src/dashboard/layout";
import { DEFAULT_SERVICE_PRICE, type ServicePrice } from "../servers/filecoin-chain-server";
import { ADMIN, BASE, newAccount } from "../pinning/helpers";
import { pinInR2, replicaOf, rootStatus, runUntil } from "../replication/helpers";
import { COOKIE, ORIGIN } from "./helpers";

const base = inject("filecoinBase");
const TIB = 2 ** 40;
/** A price no default has: 3.75 USDFC per TiB-month. */
const PRICE: ServicePrice = { ...DEFAULT_SERVICE_PRICE, pricePerTiBPerMonthNoCDN: "3750000000000000000", minimumPricePerMonth: "60000000000000000" };
const FIL_BYTES = 3 * TIB;

async function setPrice(price: ServicePrice | null): Promise<void> {
  expect((await fetch(`${base}/__price`, { method: "POST", body: JSON.stringify(price) })).status).toBe(204);
}

/** BACKENDS with `fil` on another RPC URL (a distinct isolate cache entry). */
function filAt(rpcUrl: string): Partial<Env> {
  const backends = JSON.parse(env.BACKENDS) as Record<string, Record<string, unknown>>;
  return { BACKENDS: JSON.stringify({ ...backends, fil: { ...backends.fil, rpcUrl } }) };
}

async function run(request: Request, vars: Partial<Env>): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(request as never, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function usagePage(token: string, vars: Partial<Env> = {}): Promise<string> {
  const res = await run(new Request(`${ORIGIN}/dashboard/usage`, { headers: { Cookie: `${COOKIE}=${token}` } }), vars);
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(200);
  return html;
}

type Family = { name: string; metrics: { labels?: Record<string, string>; value?: string }[] };
async function scrape(vars: Partial<Env> = {}): Promise<Map<string, Family>> {
  const res = await run(new Request(`${BASE}/metrics?region=local`, { headers: { Authorization: `Bearer ${ADMIN}` } }), vars);
  const text = await res.text();
  expect(res.status, text.slice(0, 200)).toBe(200);
  return new Map((parsePrometheusTextFormat(text) as Family[]).map((f) => [f.name, f]));
}
const sample = (m: Map<string, Family>, name: string, backend: string) => {
  const s = m.get(name)?.metrics.find((x) => x.labels?.backend === backend);
  return s === undefined ? undefined : Number(s.value);
};

const row = (html: string, backend: string) => {
  const i = html.indexOf(`<tr data-backend="${backend}">`);
  expect(i, backend).toBeGreaterThanOrEqual(0);
  return html.slice(i, html.indexOf("</tr>", i));
};

/** A pin planned on R2 + fil whose fil copy is then recorded stored with FIL_BYTES. */
async function accountWithFilecoinCopy(): Promise<{ token: string; account: string }> {
  const { token, account } = await newAccount("fil-price");
  const { root } = await pinInR2(token, account, 1401, { tier: "filecoin" });
  const cid = root.toString();
  // The engine planned R2 + fil and its store attempt has ended (it cannot complete on the local chain).
  await runUntil(account, async () => {
    const fil = replicaOf(await rootStatus(token, cid), "fil");
    return fil.attempts >= 1 && fil.lastError !== null;
  }, 40_000);
  await runInDurableObject(registryStub(env, account), (_i: PinRegistry, state) => {
    const now = Date.now();
    state.storage.sql.exec(
      "UPDATE replicas SET state = 'stored', next = 'check', remote_id = 'piece', bytes = ?, progress = NULL, last_error = NULL, attempts = 0, stored_at = ?, checked_at = ?, updated = ? WHERE root = ? AND backend = 'fil'",
      FIL_BYTES, now, now, now, cid,
    );
    state.storage.sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", `${cid} fil`);
  });
  expect(replicaOf(await rootStatus(token, cid), "fil")).toMatchObject({ state: "stored", bytes: FIL_BYTES });
  return { token, account };
}

afterAll(async () => {
  await setPrice(DEFAULT_SERVICE_PRICE);
});

describe("Filecoin's storage price from the chain in the cost estimate", () => {
  it("the panel and the /metrics gauge price fil at bytes × getServicePrice; PRICES wins; a chain that cannot be read is said so, with no cost", async () => {
    await setPrice(PRICE);
    const { token } = await accountWithFilecoinCopy();
    const perGb = (3.75 * 1e9) / TIB;
    const before = Date.now();

    const html = await usagePage(token);
    const fil = row(html, "fil");
    expect(fil).toContain(`<td class="num" data-label="Price/GB-mo">${formatUsd(perGb)} (chain)</td>`);
    expect(fil).toContain(`<td class="num" data-label="This month" data-fact="monthly">${formatUsd((FIL_BYTES / BYTES_PER_GB) * perGb)}</td>`);
    expect(formatUsd((FIL_BYTES / BYTES_PER_GB) * perGb)).toBe("$11.25");
    const note = /<p class="muted" data-chain-price="fil" data-state="read"><strong>fil<\/strong>: price read from the chain at ([0-9T:Z-]+): FilecoinWarmStorageService <code>(0x[0-9a-fA-F]{40})<\/code> <code>getServicePrice\(\)<\/code> answers 3.75 USDFC per TiB-month without CDN, i.e. 0.00341061 USDFC per\s+GB-month, taken as USD/.exec(html);
    expect(note, html.slice(html.indexOf("cost-h"), html.indexOf("cost-h") + 3000)).not.toBeNull();
    expect(Date.parse(note![1]!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(note![2]!.toLowerCase()).toBe("0x02925630df557f957f70e112ba06e50965417ca0"); // calibration FWSS, synapse-core 0.5
    const log = (await (await fetch(`${base}/__log`)).json()) as { calls: string[] };
    expect(log.calls).toContain("getServicePrice");

    // /metrics: the same price; the gauge equals the stored bytes × the chain's price per GB.
    const m = await scrape();
    const stored = sample(m, "ipfs_edge_backend_stored_bytes", "fil")!;
    expect(stored).toBeGreaterThanOrEqual(FIL_BYTES);
    expect(sample(m, "ipfs_edge_estimated_monthly_cost_usd", "fil")).toBeCloseTo((stored / BYTES_PER_GB) * perGb, 9);

    // Cached in the isolate: a price changed on the chain is not read again within the hour.
    await setPrice({ ...PRICE, pricePerTiBPerMonthNoCDN: "9000000000000000000" });
    expect(row(await usagePage(token), "fil")).toContain(`${formatUsd(perGb)} (chain)`);

    // PRICES wins over the chain (by name or type), and the chain note is gone.
    const priced = await usagePage(token, { PRICES: JSON.stringify({ filecoin: 0.5 }) });
    expect(row(priced, "fil")).toContain(`<td class="num" data-label="Price/GB-mo">${formatUsd(0.5)}</td>`);
    expect(row(priced, "fil")).toContain(`data-fact="monthly">${formatUsd((FIL_BYTES / BYTES_PER_GB) * 0.5)}</td>`);
    expect(priced).not.toContain("data-chain-price");

    // A chain that cannot be read (nothing listens there): the panel says so; no cost, no invented price.
    // (workerd itself logs "Network connection lost" for the refused connection; the reader catches the error.)
    const down = filAt("http://127.0.0.1:1/rpc");
    const downHtml = await usagePage(token, down);
    const downRow = row(downHtml, "fil");
    expect(downRow).toContain('<td class="num" data-label="Price/GB-mo">chain unreadable</td>');
    expect(downRow).toContain('<td class="num" data-label="This month" data-fact="monthly">—</td>');
    expect(downHtml).toMatch(
      /<p role="status" data-chain-price="fil" data-state="unreadable"><strong>fil<\/strong>: the Filecoin storage price could not be read from the chain at [0-9T:Z-]+ \([^)]+\), so its cost is\s+not estimated\./,
    );
    const downMetrics = await scrape(down);
    expect(sample(downMetrics, "ipfs_edge_backend_stored_bytes", "fil")).toBe(stored);
    expect(sample(downMetrics, "ipfs_edge_estimated_monthly_cost_usd", "fil")).toBeUndefined();
    expect(sample(downMetrics, "ipfs_edge_estimated_monthly_cost_usd", "r2")).toBeGreaterThan(0);

    // A contract call that reverts (the chain answers, without a price): the same.
    await setPrice(null);
    const revertHtml = await usagePage(token, filAt(`${base}/rpc?case=revert`));
    expect(row(revertHtml, "fil")).toContain('<td class="num" data-label="Price/GB-mo">chain unreadable</td>');
    expect(revertHtml).toMatch(/data-state="unreadable"><strong>fil<\/strong>: the Filecoin storage price could not be read from the chain at [0-9T:Z-]+ \([^)]*revert[^)]*\)/);
  });
});
