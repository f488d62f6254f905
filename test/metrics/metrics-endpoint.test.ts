import { env, exports } from "cloudflare:workers";
// A real Prometheus text parser (a port of the Prometheus Python client's), output as prom2json's.
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { metricsObject } from "../../src/durable-objects/metrics";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { DURATION_BUCKETS } from "../../src/metrics/catalog";
import { call, ADMIN, newAccount, settle, identityCid } from "../pinning/helpers";
import { importDirectory, importFile, parseCar, uniquePersonality, upstreamUrl, withUpstreams } from "../helpers/upstream";
import { pseudoRandomBytes } from "../helpers/pseudo-random";

type Family = {
  name: string;
  help: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[];
};

/** A scrape: families as the parser gives them, and the text (for histograms, see `histogram`). */
type Scrape = Map<string, Family> & { text: string };

async function scrape(region: string, token = ADMIN): Promise<Scrape> {
  const res = await call("GET", `/metrics?region=${region}`, { token });
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  // Throws on any line that is not valid exposition text.
  const families = parsePrometheusTextFormat(text) as Family[];
  return Object.assign(new Map<string, Family>(families.map((f) => [f.name, f])), { text });
}

/** The value of a counter/gauge sample whose labels are exactly `labels` (0 when absent). */
function value(m: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = m.get(name);
  expect(family, name).toBeDefined();
  const sample = family!.metrics.find((s) => JSON.stringify(sorted(s.labels ?? {})) === JSON.stringify(sorted(labels)));
  return sample ? Number(sample.value) : 0;
}

/**
 * One labelled series of a histogram. parse-prometheus-text-format folds a
 * histogram family into one unlabelled series (it follows prom2json's
 * output for label-less histograms), so the series' own lines are picked
 * out of the text (by their exact label set) and given to the parser with
 * those labels removed: it still checks their syntax and reads the
 * cumulative buckets, sum and count.
 */
function histogram(m: Scrape, name: string, labels: Record<string, string>) {
  const set = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
  const lines = m.text.split("\n").filter((l) => l.startsWith(`${name}_`) && (l.includes(`{${set},le=`) || l.includes(`{${set}} `)));
  if (lines.length === 0) return { count: 0, buckets: {} as Record<string, string>, sum: 0 };
  const stripped = lines.map((l) => l.replace(`{${set},le=`, "{le=").replace(`{${set}} `, " "));
  const [family] = parsePrometheusTextFormat(`# TYPE ${name} histogram\n${stripped.join("\n")}\n`) as Family[];
  const series = family!.metrics[0]!;
  return { count: Number(series.count), buckets: series.buckets ?? {}, sum: Number(series.sum) };
}

/**
 * Test files run at the same time share Durable Object storage, so each test
 * sends its gateway requests from a region of its own (request.cf.colo, what
 * regionOf() reads) and scrapes that region: its counters see that test's
 * traffic only. Upstream timeouts are long: the machine may be loaded.
 */
const newRegion = () => `T${crypto.randomUUID().slice(0, 8)}`;
const from = (region: string, init: RequestInit = {}): RequestInit => ({ ...init, cf: { colo: region } } as RequestInit);
const PATIENT = { TTFB_TIMEOUT_MS: "15000", IDLE_TIMEOUT_MS: "15000" };

const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

describe("GET /metrics", () => {
  it("answers 401 without the operator or metrics token, and never echoes it", async () => {
    for (const token of [undefined, "wrong-token", "test-admin-token-but-longer"]) {
      const res = await call("GET", "/metrics", token === undefined ? {} : { token });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
      expect(await res.text()).toBe("metrics token is missing or invalid\n");
    }
    expect((await call("GET", "/metrics?region=no%20spaces", { token: ADMIN })).status).toBe(400);
  });

  it("is Prometheus text 0.0.4 with HELP and TYPE for every family and the fixed duration buckets", async () => {
    const region = newRegion();
    const m = await scrape(region);
    expect(m.get("ipfs_http_gw_responses_total")?.type).toBe("COUNTER");
    expect(m.get("ipfs_http_gw_concurrent_requests")?.type).toBe("GAUGE");
    expect(m.get("ipfs_http_gw_get_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(m.get("ipfs_edge_upstream_ttfb_seconds")?.type).toBe("HISTOGRAM");
    expect(m.get("ipfs_edge_pins")?.metrics.map((s) => s.labels?.state).sort()).toEqual(["failed", "pinned", "pinning", "queued"]);
    expect(m.get("ipfs_edge_served_bytes_total")?.metrics).toHaveLength(1);
  });

  it("counters move with gateway traffic: responses by code, durations, bytes, upstream wins and TTFB, sources", async () => {
    const region = newRegion();
    const bytes = pseudoRandomBytes(300_000, 7);
    const file = await importFile(bytes, { chunkSize: 65536 });
    const honest = uniquePersonality("honest");
    const w = withUpstreams([honest], PATIENT);
    const before = await scrape(region);

    const car = await w.fetch(`/ipfs/${file.cid}`, from(region, { headers: { Accept: "application/vnd.ipld.car" } }));
    expect(car.status).toBe(200);
    const carBytes = new Uint8Array(await car.arrayBuffer());
    expect((await parseCar(carBytes)).blocks).toHaveLength(file.blocks.length);
    const raw = await w.fetch(`/ipfs/${file.blocks[1]!.cid}?format=raw`, from(region));
    expect(raw.status).toBe(200);
    const rawLength = (await raw.arrayBuffer()).byteLength;
    const missing = await w.fetch(`/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy?format=raw`, from(region));
    expect(missing.status).toBe(404);
    await missing.text();
    await w.settle();

    const after = await scrape(region);
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(delta("ipfs_http_gw_responses_total", { code: "200" })).toBe(2);
    expect(delta("ipfs_http_gw_responses_total", { code: "404" })).toBe(1);
    const ok = (l: Record<string, string>) => histogram(after, "ipfs_http_gw_get_duration_seconds", l).count - histogram(before, "ipfs_http_gw_get_duration_seconds", l).count;
    expect(ok({ gateway: "ipfs", status: "200" })).toBe(2);
    expect(ok({ gateway: "ipfs", status: "404" })).toBe(1);
    const carHist = histogram(after, "ipfs_http_gw_car_stream_get_duration_seconds", { gateway: "ipfs" });
    expect(carHist.count - histogram(before, "ipfs_http_gw_car_stream_get_duration_seconds", { gateway: "ipfs" }).count).toBe(1);
    expect(new Set(Object.keys(carHist.buckets))).toEqual(new Set([...DURATION_BUCKETS.map(String), "+Inf"]));
    expect(Number(carHist.buckets["+Inf"])).toBe(carHist.count);
    // Cumulative: never decreasing along the bounds.
    const cumulative = DURATION_BUCKETS.map((le) => Number(carHist.buckets[String(le)]));
    expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
    expect(histogram(after, "ipfs_http_gw_raw_block_get_duration_seconds", { gateway: "ipfs" }).count).toBeGreaterThanOrEqual(1);
    // The CAR has no Content-Length: its size is the verified block bytes; the raw block has one.
    const blockBytes = file.blocks.reduce((n, b) => n + b.bytes.length, 0);
    expect(delta("ipfs_edge_served_bytes_total")).toBe(blockBytes + rawLength);
    expect(delta("ipfs_edge_gateway_source_total", { source: "upstream" })).toBe(2);

    const up = { upstream: upstreamUrl(honest) };
    expect(value(after, "ipfs_edge_upstream_wins_total", up)).toBe(2);
    expect(value(after, "ipfs_edge_upstream_outcomes_total", { ...up, result: "ok" })).toBe(2);
    expect(value(after, "ipfs_edge_upstream_outcomes_total", { ...up, result: "not_found" })).toBe(1);
    expect(value(after, "ipfs_edge_upstream_verified_bytes_total", up)).toBe(blockBytes + rawLength);
    expect(histogram(after, "ipfs_edge_upstream_ttfb_seconds", up).count).toBe(2);

    // The dashboard's view of the same traffic (typed RPC, docs/operations.md).
    const stats = (await metricsObject(env, region).upstreamStats()).find((s) => s.upstream === up.upstream);
    expect(stats).toMatchObject({ wins: 2, resumes: 0, invalidBlocks: 0, verifiedBytes: blockBytes + rawLength, outcomes: { ok: 2, not_found: 1 } });
    expect(stats!.ttfb.count).toBe(2);
    const minutes = await metricsObject(env, region).servedOverTime(Date.now() - 120_000);
    expect(minutes.reduce((n, p) => n + p.requests, 0)).toBe(3);
    expect(minutes.reduce((n, p) => n + p.bytes, 0)).toBe(blockBytes + rawLength);
  });

  it("per-format histograms of deserialized responses, and a retrieval timeout (504)", async () => {
    const region = newRegion();
    const dir = await importDirectory([{ path: "a.txt", content: new TextEncoder().encode("a\n") }, { path: "b.txt", content: new TextEncoder().encode("b\n") }]);
    const w = withUpstreams([uniquePersonality("honest")], PATIENT);
    const before = await scrape(region);
    const listing = await w.fetch(`/ipfs/${dir.cid}/`, from(region));
    expect(listing.status).toBe(200);
    expect(listing.headers.get("ETag")).toMatch(/^"DirIndex-/);
    await listing.text();
    const file = await w.fetch(`/ipfs/${dir.cid}/a.txt`, from(region));
    expect(await file.text()).toBe("a\n");
    await w.settle();
    // Every upstream slower than TTFB_TIMEOUT_MS: 504.
    const slow = withUpstreams([uniquePersonality("slow-3000")], { TTFB_TIMEOUT_MS: "200", HEDGE_DELAY_MS: "50" });
    const timedOut = await slow.fetch(`/ipfs/bafkreiejz6qyf2r2qxkvlzwg3zzpe4cvgqgdnrwaakbflnbyq6wwnhnidu?format=raw`, from(region));
    expect(timedOut.status).toBe(504);
    await timedOut.text();
    await slow.settle();
    const after = await scrape(region);
    const count = (name: string) => histogram(after, name, { gateway: "ipfs" }).count - histogram(before, name, { gateway: "ipfs" }).count;
    expect(count("ipfs_http_gw_unixfs_gen_dir_listing_get_duration_seconds")).toBe(1);
    expect(count("ipfs_http_gw_unixfs_file_get_duration_seconds")).toBe(1);
    const timeouts = (m: Scrape) => value(m, "ipfs_http_gw_retrieval_timeouts_total", { code: "504", truncated: "false" });
    expect(timeouts(after) - timeouts(before)).toBe(1);
    expect(value(after, "ipfs_http_gw_responses_total", { code: "504" }) - value(before, "ipfs_http_gw_responses_total", { code: "504" })).toBe(1);
    expect(value(after, "ipfs_edge_upstream_outcomes_total", { upstream: slow.upstreams, result: "timeout" })).toBe(1);
  });

  it("HEAD and 304 responses are counted with no served bytes", async () => {
    const region = newRegion();
    const file = await importFile(pseudoRandomBytes(2000, 13), { chunkSize: 1024 });
    const w = withUpstreams([uniquePersonality("honest")], PATIENT);
    const first = await w.fetch(`/ipfs/${file.cid}?format=raw`, from(region));
    const etag = first.headers.get("ETag")!;
    await first.arrayBuffer();
    await w.settle();
    const before = await scrape(region);
    const head = await w.fetch(`/ipfs/${file.cid}?format=raw`, from(region, { method: "HEAD" }));
    expect(head.status).toBe(200);
    const notModified = await w.fetch(`/ipfs/${file.cid}?format=raw`, from(region, { headers: { "If-None-Match": etag } }));
    expect(notModified.status).toBe(304);
    await w.settle();
    const after = await scrape(region);
    expect(value(after, "ipfs_http_gw_responses_total", { code: "200" }) - value(before, "ipfs_http_gw_responses_total", { code: "200" })).toBe(1);
    expect(value(after, "ipfs_http_gw_responses_total", { code: "304" }) - value(before, "ipfs_http_gw_responses_total", { code: "304" })).toBe(1);
    expect(value(after, "ipfs_edge_served_bytes_total") - value(before, "ipfs_edge_served_bytes_total")).toBe(0);
  });

  it("a lying upstream: its invalid block is counted and the honest upstream's resume too", async () => {
    const region = newRegion();
    const file = await importFile(pseudoRandomBytes(5 * 65536, 8), { chunkSize: 65536 });
    const liar = uniquePersonality("flip-byte-2");
    const honest = uniquePersonality("honest");
    const w = withUpstreams([liar, honest], PATIENT);
    const res = await w.fetch(`/ipfs/${file.cid}`, from(region, { headers: { Accept: "application/vnd.ipld.car" } }));
    expect(res.status).toBe(200);
    expect((await parseCar(new Uint8Array(await res.arrayBuffer()))).blocks).toHaveLength(file.blocks.length);
    await w.settle();
    const m = await scrape(region);
    expect(value(m, "ipfs_edge_upstream_invalid_blocks_total", { upstream: upstreamUrl(liar) })).toBe(1);
    expect(value(m, "ipfs_edge_upstream_wins_total", { upstream: upstreamUrl(liar) })).toBe(1);
    expect(value(m, "ipfs_edge_upstream_wins_total", { upstream: upstreamUrl(honest) })).toBe(1);
    expect(value(m, "ipfs_edge_upstream_resumes_total", { upstream: upstreamUrl(honest) })).toBe(1);
    expect(value(m, "ipfs_edge_upstream_resumes_total", { upstream: upstreamUrl(liar) })).toBe(0);
  });

  it("R2 and edge cache hits are counted by source", async () => {
    const region = newRegion();
    const { token } = await newAccount("metrics-r2");
    const body = pseudoRandomBytes(5000, 9);
    const up = await call("POST", "/api/v1/upload", { token, body, headers: { "Content-Type": "application/octet-stream" } });
    expect(up.status).toBe(201);
    const cid = ((await up.json()) as { cid: string }).cid;
    const w = withUpstreams([uniquePersonality("not-found")], PATIENT);
    const before = await scrape(region);
    const first = await w.fetch(`/ipfs/${cid}`, from(region));
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(body);
    await w.settle();
    const second = await w.fetch(`/ipfs/${cid}`, from(region));
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(body);
    await w.settle();
    const after = await scrape(region);
    const delta = (source: string) => value(after, "ipfs_edge_gateway_source_total", { source }) - value(before, "ipfs_edge_gateway_source_total", { source });
    expect(delta("r2")).toBe(1);
    expect(delta("edge_cache")).toBe(1);
    expect(value(after, "ipfs_edge_served_bytes_total") - value(before, "ipfs_edge_served_bytes_total")).toBe(2 * body.length);
  });

  it("pins by state, pin step failures and webhook deliveries", async () => {
    const region = newRegion();
    const { account, token } = await newAccount("metrics-pins");
    const before = await scrape(region);
    const pinned = await call("POST", "/psa/pins", { token, body: { cid: identityCid("metrics-pinned").toString() } });
    expect(pinned.status).toBe(202);
    // A CID no upstream has: its step fails and is retried (queued again).
    const absent = await call("POST", "/psa/pins", { token, body: { cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" } });
    expect(absent.status).toBe(202);
    await settle(account, 3);
    const unsigned = await exports.default.fetch(
      new Request(`http://edge.test/webhooks/pin?account=${account}`, from(region, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } })),
    );
    expect(unsigned.status).toBe(401);
    // The webhook's count leaves after its response (waitUntil of a request the test did not create): poll.
    let after = await scrape(region);
    for (let i = 0; i < 20 && value(after, "ipfs_edge_webhook_deliveries_total", { outcome: "bad_signature" }) === value(before, "ipfs_edge_webhook_deliveries_total", { outcome: "bad_signature" }); i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scrape(region);
    }
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(delta("ipfs_edge_webhook_deliveries_total", { outcome: "bad_signature" })).toBe(1);
    // Pins and pin work are service-wide (every account; region "pins"), and other test files pin at the same
    // time: this test's own pins are a lower bound, checked exactly against the registries right after.
    expect(delta("ipfs_edge_pins", { state: "pinned" })).toBeGreaterThanOrEqual(1);
    expect(delta("ipfs_edge_pins", { state: "queued" })).toBeGreaterThanOrEqual(1);
    expect(delta("ipfs_edge_pin_step_failures_total", { outcome: "retry" })).toBeGreaterThanOrEqual(1);
    expect(await registryStub(env, account).pinCountsByState()).toEqual({ pinned: 1, queued: 1 });
  });
});
