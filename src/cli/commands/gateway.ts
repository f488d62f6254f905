import { CliFailure } from "../cli-error";
import type { Command, OptionValues } from "../command";
import { carPath } from "../fetch-car";
import { parseInteger } from "../parse-values";
import { ServiceClient } from "../service-client";
import { resolveService, serviceOptions, type Service } from "../service-config";
import { parseContentPath } from "./get";
import { verifyRemote } from "./verify";

interface TargetResult {
  url: string;
  role: "service" | "upstream" | "gateway";
  reachable: boolean;
  status: number | null;
  ttfbMs: number | null;
  seconds: number | null;
  bytes: number;
  blocks: number;
  mbPerSecond: number | null;
  verified: boolean;
  error: string | null;
}

/** The service itself, its configured upstreams (GET /api/v1/health/gateways), and any --gateway. */
async function targets(options: OptionValues): Promise<{ url: string; role: TargetResult["role"] }[]> {
  const list: { url: string; role: TargetResult["role"] }[] = [];
  const extra = ((options.gateway as string[] | undefined) ?? []).map((g) => ({ url: g.replace(/\/+$/, ""), role: "gateway" as const }));
  if (options["no-service"]) return extra;
  const service = await resolveService(options, false);
  list.push({ url: service.endpoint, role: "service" });
  const health = await new ServiceClient(service).json<{ upstreams: { url: string; configured: boolean }[] }>("/api/v1/health/gateways", { auth: false });
  for (const u of health.upstreams) if (u.configured) list.push({ url: u.url.replace(/\/+$/, ""), role: "upstream" });
  return [...list, ...extra];
}

async function probe(url: string, role: TargetResult["role"], path: string): Promise<TargetResult> {
  // An upstream is the service's choice (its UPSTREAMS), a gateway the user's --gateway: the hint says which.
  const endpointSource = role === "upstream" ? "the service's UPSTREAMS" : role === "gateway" ? "--gateway" : undefined;
  const client = new ServiceClient({ endpoint: url, endpointSource } satisfies Service);
  const start = performance.now();
  try {
    const { report, status, ttfbMs } = await verifyRemote(client, path);
    const seconds = (performance.now() - start) / 1000;
    const problems = report.problems.map((p) => p.message);
    return { url, role, reachable: true, status, ttfbMs: round(ttfbMs), seconds: round(seconds, 3), bytes: report.bytes, blocks: report.blocks, mbPerSecond: round(report.bytes / 1e6 / seconds), verified: problems.length === 0, error: problems[0] ?? null };
  } catch (err) {
    if (!(err instanceof CliFailure)) throw err;
    return { url, role, reachable: err.kind !== "unreachable", status: null, ttfbMs: null, seconds: null, bytes: 0, blocks: 0, mbPerSecond: null, verified: false, error: err.message };
  }
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const gatewayOptions = {
  gateway: { type: "string", multiple: true, value: "url", description: "also test this trustless gateway (repeatable)" },
  "no-service": { type: "boolean", description: "test only the --gateway URLs" },
  ...serviceOptions,
} as const;

export const gatewayTest: Command = {
  name: "gateway test",
  summary: "fetch a CID as a verified CAR from the service and each of its upstreams: reachable, blocks verify, TTFB, throughput",
  usage: "<cid>[/path]",
  minArgs: 1,
  maxArgs: 1,
  options: gatewayOptions,
  details: "One line per target: `<url>\\t<role>\\t<ok|FAIL>\\t<ttfb ms>\\t<MB/s>\\t<blocks>\\t<error>`. Exit 1 if any target is unreachable or sends a bad or incomplete DAG. --json: {cid, targets: [{url, role, reachable, status, ttfbMs, seconds, bytes, blocks, mbPerSecond, verified, error}]}.",
  examples: ["ipfs-kit gateway test bafy...", "ipfs-kit gateway test bafy... --gateway https://trustless-gateway.link --json"],
  async run({ args, options, out }) {
    const { cid, segments } = parseContentPath(args[0]!);
    const list = await targets(options);
    if (list.length === 0) throw new CliFailure("nothing to test: give --gateway or drop --no-service", "usage");
    const results: TargetResult[] = [];
    for (const t of list) {
      const r = await probe(t.url, t.role, carPath(cid, segments));
      results.push(r);
      out.line(`${r.url}\t${r.role}\t${r.verified ? "ok" : "FAIL"}\t${r.ttfbMs ?? "-"}\t${r.mbPerSecond ?? "-"}\t${r.blocks}\t${r.error ?? ""}`);
    }
    out.result({ cid: cid.toString(), targets: results });
    return results.every((r) => r.verified) ? 0 : 1;
  },
};

export const gatewayBench: Command = {
  name: "gateway bench",
  summary: "time repeated verified fetches of a CID from the service: TTFB and throughput percentiles",
  usage: "<cid>[/path]",
  minArgs: 1,
  maxArgs: 1,
  options: {
    requests: { type: "string", value: "n", description: "number of fetches (default 10)" },
    concurrency: { type: "string", value: "n", description: "fetches in flight (default 1)" },
    ...serviceOptions,
  },
  details: "Each fetch is a full verified CAR (dag-scope=all). --json: {cid, url, requests, failures, ttfbMs: {p50, p95, max}, seconds: {p50, p95, max}, mbPerSecond: {p50, aggregate}, bytes}.",
  examples: ["ipfs-kit gateway bench bafy... --requests 50 --concurrency 4"],
  async run({ args, options, out }) {
    const { cid, segments } = parseContentPath(args[0]!);
    const service = await resolveService(options, false);
    const n = options.requests === undefined ? 10 : parseInteger(String(options.requests), "--requests", 1, 100000);
    const c = options.concurrency === undefined ? 1 : parseInteger(String(options.concurrency), "--concurrency", 1, 256);
    const results: TargetResult[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(c, n) }, async () => {
        while (next < n) {
          next++;
          results.push(await probe(service.endpoint, "service", carPath(cid, segments)));
        }
      }),
    );
    const wall = (performance.now() - start) / 1000;
    const ok = results.filter((r) => r.verified);
    const pct = (xs: number[], p: number) => (xs.length === 0 ? null : xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!);
    const ttfb = ok.map((r) => r.ttfbMs!);
    const secs = ok.map((r) => r.seconds!);
    const bytes = ok.reduce((s, r) => s + r.bytes, 0);
    const summary = {
      cid: cid.toString(),
      url: service.endpoint,
      requests: n,
      failures: n - ok.length,
      ttfbMs: { p50: pct(ttfb, 50), p95: pct(ttfb, 95), max: pct(ttfb, 100) },
      seconds: { p50: pct(secs, 50), p95: pct(secs, 95), max: pct(secs, 100) },
      mbPerSecond: { p50: pct(ok.map((r) => r.mbPerSecond!), 50), aggregate: round(bytes / 1e6 / wall) },
      bytes,
    };
    out.result(summary, `requests ${n} (failed ${summary.failures}), TTFB p50 ${summary.ttfbMs.p50} ms p95 ${summary.ttfbMs.p95} ms, per request p50 ${summary.mbPerSecond.p50} MB/s, aggregate ${summary.mbPerSecond.aggregate} MB/s`);
    if (ok.length < n) out.info(`first failure: ${results.find((r) => !r.verified)?.error}`);
    return ok.length === n ? 0 : 1;
  },
};
