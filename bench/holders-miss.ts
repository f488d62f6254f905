/**
 * A normal miss, with and without the holder index (issue 10: providers'
 * retrieval URLs as upstreams, docs/filecoin.md "Providers as upstreams").
 * Time to first byte of small-file CARs that no cache holds and nobody
 * pinned (the R2 tier reads the root block and, beside it, the absent
 * holder record), sent alternately to this tree's gateway and to the
 * gateway built from a baseline checkout (the commit before the index), so
 * both see the same machine load. Same upstream, same vars.
 *
 *   git worktree add /tmp/holders-base <commit before the index>
 *   ln -s "$PWD/node_modules" /tmp/holders-base/node_modules
 *   node --import ./bench/resolve-ts.mjs bench/holders-miss.ts --baseline /tmp/holders-base [--requests 100]
 */
import { mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { startTrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { timedGet } from "./http-get.ts";
import { percentile } from "./stats.ts";
import { buildFile, type SyntheticFile } from "./synthetic-dag.ts";
import { bundleWorker, startWranglerDev, stopAllWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/holders-miss/", import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

function log(message: string): void {
  process.stderr.write(`[holders-miss ${(performance.now() / 1000).toFixed(1)}s] ${message}\n`);
}

async function ttfb(worker: WranglerDev, file: SyntheticFile): Promise<number> {
  const res = await timedGet(`${worker.url}/ipfs/${file.root}?format=car`, { Accept: CAR_ACCEPT }, { timeoutMs: 30_000 });
  if (res.status !== 200 || res.error || res.bytes !== file.carLength) {
    throw new Error(`${worker.name}: CAR of ${file.root}: status ${res.status}, ${res.bytes} of ${file.carLength} bytes${res.error ? `, ${res.error}` : ""}`);
  }
  return res.ttfbMs;
}

async function main(): Promise<void> {
  const baseline = arg("baseline");
  if (!baseline) throw new Error("--baseline <checkout of the commit before the holder index> is required");
  const requests = Number(arg("requests") ?? "100");
  const loadStart = loadavg();
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  // 2 × requests distinct 200 KiB files (64 KiB leaves), one per request: nothing can be cached.
  const files: SyntheticFile[] = [];
  for (let i = 0; i < 2 * requests + 2; i++) files.push(buildFile({ size: 200 * 1024, chunkSize: 64 * 1024, seed: 7000 + i, keepLeaves: true }));
  const server = await startTrustlessGatewayServer({ fixturesDir: null });
  for (const f of files) server.addBlockSource(f.getter);
  const workers: WranglerDev[] = [];
  try {
    log("bundling this tree's gateway and the baseline's");
    const [current, before] = await Promise.all([
      bundleWorker("wrangler.toml", `${WORK}build/current`, `${WORK}bundle-current.log`),
      bundleWorker(`${baseline}/wrangler.toml`, `${WORK}build/baseline`, `${WORK}bundle-baseline.log`),
    ]);
    const vars = (tag: string) => ({ UPSTREAMS: `${server.base}/honest~${tag}`, ADMIN_TOKEN: `bench-${process.pid}`, PROVIDER_ROUTERS: "" });
    workers.push(
      ...(await Promise.all([
        startWranglerDev({ name: "current", config: "wrangler.toml", script: current, vars: vars("cur"), persistTo: `${WORK}state/current`, logFile: `${WORK}current.log` }),
        startWranglerDev({ name: "baseline", config: "wrangler.toml", script: before, vars: vars("base"), persistTo: `${WORK}state/baseline`, logFile: `${WORK}baseline.log` }),
      ])),
    );
    const [cur, base] = workers as [WranglerDev, WranglerDev];
    // One untimed request each (isolate start-up, first health snapshot).
    await ttfb(cur, files[0]!);
    await ttfb(base, files[1]!);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < requests; i++) {
      // Alternate which goes first, so neither always gets the quieter moment.
      const [x, y] = i % 2 === 0 ? [cur, base] : [base, cur];
      const tx = await ttfb(x, files[2 + 2 * i]!);
      const ty = await ttfb(y, files[3 + 2 * i]!);
      (x === cur ? a : b).push(tx);
      (y === cur ? a : b).push(ty);
    }
    const row = (name: string, t: number[]) => `| ${name} | ${percentile(t, 50).toFixed(1)} | ${percentile(t, 95).toFixed(1)} | ${Math.max(...t).toFixed(1)} |`;
    const logs = [server.requestLog("honest~cur").length, server.requestLog("honest~base").length];
    process.stdout.write(
      [
        `normal miss, ${requests} distinct 200 KiB CARs per gateway, alternated; load average ${loadStart.map((l) => l.toFixed(1)).join(" ")} at the start, ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end`,
        "",
        "| gateway | TTFB p50 ms | p95 ms | max ms |",
        "|---|---|---|---|",
        row("with the holder index (this tree)", a),
        row("baseline (before it)", b),
        "",
        `p50 ratio ${(percentile(a, 50) / percentile(b, 50)).toFixed(2)}, p95 ratio ${(percentile(a, 95) / percentile(b, 95)).toFixed(2)}; upstream requests: ${logs[0]} (this tree), ${logs[1]} (baseline)`,
        "",
      ].join("\n"),
    );
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await stopAllWranglerDev();
    await server.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
