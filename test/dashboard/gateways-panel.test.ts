/**
 * Gateways panel and the GatewayHealth history behind its charts
 * (src/dashboard/gateways-panel.tsx, GatewayHealth.history(), migration 2).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gatewayHealth, HISTORY_BUCKET_MS, HISTORY_KEEP_MS } from "../../src/durable-objects/gateway-health";
import type { UpstreamOutcome } from "../../src/gateway/upstream/outcome";
import { newAccount } from "../pinning/helpers";
import { page } from "./helpers";

const region = () => `dash-${crypto.randomUUID().slice(0, 8)}`;

function outcome(upstream: string, result: UpstreamOutcome["result"], at: number, extra: Partial<UpstreamOutcome> = {}): UpstreamOutcome {
  return { upstream, result, bytes: 0, durationMs: 0, at, ...extra };
}

describe("GatewayHealth history", () => {
  it("one sample per upstream and 5-minute bucket, the bucket's latest state; probes mark it; older than 24 h is dropped", async () => {
    const stub = gatewayHealth(env, region());
    const u = "https://h.example";
    const now = Date.now();
    const bucket = Math.floor(now / HISTORY_BUCKET_MS) * HISTORY_BUCKET_MS;
    const earlier = bucket - 2 * HISTORY_BUCKET_MS;
    await stub.report([
      outcome(u, "ok", earlier + 1, { ttfbMs: 100, bytes: 1 << 20, durationMs: 1000 }),
      outcome(u, "ok", earlier + 2, { ttfbMs: 200 }),
      outcome(u, "invalid_block", bucket + 1, { ttfbMs: 100 }),
      // Two days old: stored, then pruned at once.
      outcome(u, "ok", now - 2 * HISTORY_KEEP_MS, { ttfbMs: 5 }),
    ]);
    await stub.recordProbe([{ upstream: u, at: bucket + 2, ok: false, checks: [{ kind: "raw", ok: false, status: 500, ttfbMs: 3, error: "expected status 200, got 500" }] }]);
    const history = await stub.history();
    expect(history).toEqual([
      // The old outcome was applied first (reports are sorted by time); its row is gone.
      { upstream: u, at: earlier, successEwma: 1, ttfbEwmaMs: 5 + 0.25 * (100 - 5) + 0.25 * (200 - (5 + 0.25 * 95)), throughputEwmaBps: 1048576, invalidBlocks: 0, circuit: "closed", probeOk: null },
      { upstream: u, at: bucket, successEwma: 0.75, ttfbEwmaMs: expect.any(Number), throughputEwmaBps: 1048576, invalidBlocks: 1, circuit: "open", probeOk: false },
    ]);
  });
});

describe("dashboard gateways panel", () => {
  it("shows each upstream's TTFB, throughput, success, invalid blocks, circuit, last probe and charts", async () => {
    const { token } = await newAccount("dash-gw");
    const r = region();
    const stub = gatewayHealth(env, r);
    const configured = env.UPSTREAMS.split(",")[0]!;
    const now = Date.now();
    await stub.report([
      outcome(configured, "ok", now - 3 * HISTORY_BUCKET_MS, { ttfbMs: 120, bytes: 2 << 20, durationMs: 1000 }),
      outcome(configured, "ok", now - 2 * HISTORY_BUCKET_MS, { ttfbMs: 80, bytes: 2 << 20, durationMs: 1000 }),
      outcome("https://liar.example", "invalid_block", now - HISTORY_BUCKET_MS, { ttfbMs: 50 }),
    ]);
    await stub.recordProbe([
      {
        upstream: configured,
        at: now,
        ok: true,
        checks: [
          { kind: "raw", ok: true, status: 200, ttfbMs: 4, error: null },
          { kind: "car", ok: true, status: 200, ttfbMs: 5, error: null },
        ],
      },
    ]);
    const html = await page(token, `/dashboard/gateways?region=${r}`);
    expect(html).toContain(`Region <strong>${r}</strong>`);
    const row = (u: string) => html.slice(html.indexOf(`<tr data-upstream="${u}">`), html.indexOf("</tr>", html.indexOf(`<tr data-upstream="${u}">`)));
    const good = row(configured);
    expect(good).toContain('<span class="status status-closed">closed</span>');
    expect(good).toContain('<span data-fact="ttfb">110 ms</span>'); // 120 + (80 - 120) / 4
    expect(good).toContain('<td class="num" data-label="Throughput">2.00 MiB/s</td>');
    expect(good).toContain('<span data-fact="success">100.0 %</span>');
    expect(good).toContain("ok 2 · not found 0 · errors 0 · timeouts 0");
    expect(good).toContain(`<span class="status status-yes">passed</span> <time datetime="${new Date(now).toISOString()}">`);
    expect(good).toContain('<svg class="chart" viewBox="0 0 160 40" role="img" aria-label="TTFB: 3 samples, from 110 to 120 ms, latest 110 ms">');
    expect(good).toMatch(/<polyline points="[\d.]+,[\d.]+ [\d.]+,[\d.]+ [\d.]+,[\d.]+"><\/polyline>/);
    const liar = row("https://liar.example");
    expect(liar).toContain("not in UPSTREAMS (provider or retired)");
    // Opened by the lie 5 minutes ago; its 30 s cool-down is over: half-open, no "until".
    expect(liar).toContain('<td data-label="Circuit"><span class="status status-half_open">half-open</span></td>');
    expect(liar).toContain('<td class="num" data-label="Invalid blocks">1</td>');
    expect(liar).toContain('<span data-fact="success">75.0 %</span>');
    expect(liar).toContain('<span class="muted">never</span>');
    // The configured upstream comes first (rank order).
    expect(html.indexOf(`data-upstream="${configured}"`)).toBeLessThan(html.indexOf('data-upstream="https://liar.example"'));
    expect(await page(token, "/dashboard/gateways?region=no%20spaces", 400)).toContain("region must be");
  });
});
