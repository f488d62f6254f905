/**
 * What the dashboard shows of replication and traffic (src/dashboard/):
 * the pins table's replicas cell from the unified status (src/replication/),
 * the cost of every backend holding replicas with PRICES, and the operator's
 * requests and bytes served over time from a region's Metrics object.
 * Copies are made by the real engine on the local pinning service
 * (test/servers/psa-server.ts); traffic is real gateway requests.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/worker";
import { metricsObject } from "../../src/durable-objects/metrics";
import { BYTES_PER_GB } from "../../src/dashboard/cost";
import { formatBytes, formatUsd } from "../../src/dashboard/layout";
import { ADMIN, identityCid, newAccount } from "../pinning/helpers";
import { pinInR2, replicaOf, rootStatus, runUntil } from "../replication/helpers";
import { COOKIE, ORIGIN, page } from "./helpers";

async function pageWith(vars: Partial<Env>, cookie: string, path: string): Promise<string> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(new Request(ORIGIN + path, { headers: { Cookie: `${COOKIE}=${cookie}` } }) as never, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(200);
  return html;
}

const between = (html: string, start: string, end: string) => {
  const i = html.indexOf(start);
  expect(i, start).toBeGreaterThanOrEqual(0);
  return html.slice(i, html.indexOf(end, i) + end.length);
};

describe("dashboard: replicas, cost per backend, traffic", () => {
  it("the pins table shows each pin's copies (backend=state) and their details from the unified status", async () => {
    const { token, account } = await newAccount("dash-replicas");
    const { root, requestid } = await pinInR2(token, account, 1301, { tier: "archive" }, 30_000);
    await runUntil(account, async () => (await rootStatus(token, root)).aggregate === "stored", 15_000);
    const status = await rootStatus(token, root);
    const remote = replicaOf(status, "remote");

    const html = await page(token, "/dashboard/pins");
    expect(html).toContain('<th scope="col">Replicas</th>');
    expect(html).not.toContain('class="missing"');
    const row = between(html, `<tr data-requestid="${requestid}"`, "</tr>");
    const cell = between(row, '<td data-label="Replicas">', "</td>");
    expect(cell).toContain(
      '<details class="replicas" data-aggregate="stored"><summary><span class="status status-stored">stored</span> backup=stored r2=stored remote=stored</summary>',
    );
    expect(cell).toContain(`<li data-backend="remote" data-state="stored"><strong>remote</strong> <span class="status status-stored">stored</span><span> · ${formatBytes(remote.bytes!)}</span>`);
    expect(cell).toContain('<div class="muted">plan: r2, remote, backup (at least 3 copies, rules[0])</div>');

    // A pin that is not replicated (the default policy: R2 only) shows its R2 copy.
    const plain = await pinInR2(token, account, 1302, {}, 2_000);
    const again = await page(token, "/dashboard/pins");
    const plainCell = between(between(again, `<tr data-requestid="${plain.requestid}"`, "</tr>"), '<td data-label="Replicas">', "</td>");
    expect(plainCell).toContain('<li data-backend="r2" data-state="stored"><strong>r2</strong> <span class="status status-stored">stored</span>');
  });

  it("the cost table lists backends holding replicas: priced by PRICES (name over type), unpriced ones without a cost; a malformed PRICES is reported", async () => {
    const { token, account } = await newAccount("dash-cost");
    const { root } = await pinInR2(token, account, 1303, { tier: "archive" }, 30_000);
    await runUntil(account, async () => (await rootStatus(token, root)).aggregate === "stored", 15_000);
    const bytes = replicaOf(await rootStatus(token, root), "remote").bytes!;

    // An account's view: its own copies only, so the numbers are exact.
    const html = await pageWith({ PRICES: JSON.stringify({ remote: 1000 }) }, token, "/dashboard/usage");
    const remoteRow = between(html, '<tr data-backend="remote">', "</tr>");
    expect(remoteRow).toContain(`<td class="num" data-label="Stored">${formatBytes(bytes)}</td>`);
    expect(remoteRow).toContain('<td class="num" data-label="Price/GB-mo">$1000.00</td>');
    // Stored just now: the projection adds the same bytes again.
    expect(remoteRow).toContain(`<td class="num" data-label="This month" data-fact="monthly">${formatUsd((bytes / BYTES_PER_GB) * 1000)}</td>`);
    expect(remoteRow).toContain(`<td class="num" data-label="Next month" data-fact="projected">${formatUsd((2 * bytes / BYTES_PER_GB) * 1000)}</td>`);
    const backupRow = between(html, '<tr data-backend="backup">', "</tr>");
    expect(backupRow).toContain('<td class="num" data-label="Price/GB-mo">no price set</td>');
    expect(backupRow).toContain('<td class="num" data-label="This month" data-fact="monthly">—</td>');
    expect(html).toContain("A backend with no price set is not in the total.");
    // The r2 row of the replicas table is not a second R2 line.
    expect(html.match(/<tr data-backend="r2">/g)).toHaveLength(1);

    const byType = await pageWith({ PRICES: JSON.stringify({ psa: 2, remote: 1000 }) }, token, "/dashboard/usage");
    expect(between(byType, '<tr data-backend="backup">', "</tr>")).toContain('<td class="num" data-label="Price/GB-mo">$2.00</td>');
    expect(between(byType, '<tr data-backend="remote">', "</tr>")).toContain('<td class="num" data-label="Price/GB-mo">$1000.00</td>');

    const bad = await pageWith({ PRICES: '{"remote":"cheap","r2":1}' }, token, "/dashboard/usage");
    expect(bad).toContain("Configuration: PRICES.remote must be a non-negative number of USD");
    expect(bad).toContain("Configuration: PRICES: R2&#39;s price is PRICE_R2_GB_MONTH");
    expect(between(bad, '<tr data-backend="remote">', "</tr>")).toContain("no price set");
    expect(await pageWith({ PRICES: "{" }, token, "/dashboard/usage")).toContain("Configuration: PRICES is not valid JSON");
  });

  it("the operator sees a region's requests and bytes served over the last day, from its Metrics object", async () => {
    const region = `D${crypto.randomUUID().slice(0, 8)}`;
    let served = 0;
    for (const text of ["dashboard traffic one", "dashboard traffic two!"]) {
      const res = await exports.default.fetch(new Request(`${ORIGIN}/ipfs/${identityCid(text)}?format=raw`, { cf: { colo: region } } as RequestInit));
      expect(res.status).toBe(200);
      served += (await res.arrayBuffer()).byteLength;
    }
    expect(served).toBe("dashboard traffic one".length + "dashboard traffic two!".length);
    // The isolate reports its batch after the responses: wait until the region's object has both.
    const until = Date.now() + 10_000;
    while ((await metricsObject(env, region).servedOverTime(Date.now() - 3_600_000, 60_000)).reduce((n, p) => n + p.requests, 0) < 2 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }

    const html = await page(ADMIN, `/dashboard/usage?region=${region}`);
    expect(html).toContain(
      `<p data-fact="served">Region <code>${region}</code>, last 24 hours: <strong>2</strong> gateway requests, <strong>${formatBytes(served)}</strong> served, 0 answered 5xx.</p>`,
    );
    expect(html).toMatch(/<svg class="chart" viewBox="0 0 160 40" role="img" aria-label="Requests per hour: 2[45] samples, from 0\.00 to 2\.0 requests, latest /);
    expect(html).toMatch(new RegExp(`aria-label="Bytes served per hour: 2[45] samples, from 0\\.00 to ${served}\\.0 bytes, latest `));
    // (latest: the current hour's step, which an hour boundary between the requests and the page would make 0.)
    expect(html).not.toContain('class="missing"');
    // A region with no traffic: zeros, not an error; a malformed region is refused.
    const quiet = await page(ADMIN, `/dashboard/usage?region=Q${crypto.randomUUID().slice(0, 8)}`);
    expect(quiet).toMatch(/last 24 hours: <strong>0<\/strong> gateway requests, <strong>0 B<\/strong> served, 0 answered 5xx\./);
    await page(ADMIN, "/dashboard/usage?region=no%20spaces", 400);
  });
});
