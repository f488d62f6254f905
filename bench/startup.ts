/**
 * `npm run bench:startup`: what an isolate loads before its first request,
 * the split build (wrangler.toml: scripts/build-worker.mjs, the entry and
 * its static imports) against the single file wrangler's own bundler makes
 * of the same source (the build before code splitting), in the same run.
 * Both are written by `wrangler deploy --dry-run`; each load runs in a fresh
 * Node process (bench/startup-load.mjs: compile, link, evaluate in V8, no
 * code cache), alternating, median of 9. Node's V8 stands in for workerd's:
 * workerd reports no compile times, and `wrangler check startup` profiles
 * swing by 4x on this machine.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundleWorker } from "./wrangler-dev.ts";

const WORK = resolve("bench/.work/startup") + "/";
const ROUNDS = 9;

interface Load {
  modules: number;
  bytes: number;
  compileMs: number;
  totalMs: number;
}

/** wrangler.toml as it was before the split build: wrangler bundles src/worker.ts into one file. */
function singleFileConfig(): string {
  const toml = readFileSync("wrangler.toml", "utf8")
    .replace(/^main = .*$/m, `main = ${JSON.stringify(resolve("src/worker.ts"))}`)
    .replace(/^no_bundle = .*$/m, "")
    .replace(/^find_additional_modules = .*$/m, "")
    .replace(/^rules = .*$/m, "")
    .replace(/^\[build\][\s\S]*?(?=^\[|(?![\s\S]))/m, "");
  const path = `${WORK}single.wrangler.toml`;
  writeFileSync(path, toml);
  return path;
}

function load(entry: string): Load {
  const out = execFileSync(process.execPath, ["--experimental-vm-modules", "--no-warnings", "bench/startup-load.mjs", entry], { encoding: "utf8" });
  return JSON.parse(out) as Load;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

mkdirSync(WORK, { recursive: true });
const [split, single] = await Promise.all([
  bundleWorker("wrangler.toml", join(WORK, "split"), `${WORK}bundle-split.log`),
  bundleWorker(singleFileConfig(), join(WORK, "single"), `${WORK}bundle-single.log`),
]);
const runs: Record<"split" | "single", Load[]> = { split: [], single: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, entry] of round % 2 ? ([["single", single], ["split", split]] as const) : ([["split", split], ["single", single]] as const)) {
    runs[name].push(load(entry));
  }
}
const row = (name: "split" | "single") => {
  const r = runs[name];
  return { modules: r[0]!.modules, kib: r[0]!.bytes / 1024, compile: median(r.map((x) => x.compileMs)), total: median(r.map((x) => x.totalMs)) };
};
const s = row("split");
const b = row("single");
const load1 = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
console.log(`| build | modules loaded at start | KiB | V8 compile ms (median of ${ROUNDS}) | compile + link + evaluate ms | of single file |`);
console.log("|---|---|---|---|---|---|");
console.log(`| single file (wrangler's bundler, before) | ${b.modules} | ${b.kib.toFixed(0)} | ${b.compile.toFixed(1)} | ${b.total.toFixed(1)} | 1.00 |`);
console.log(`| split build (scripts/build-worker.mjs) | ${s.modules} | ${s.kib.toFixed(0)} | ${s.compile.toFixed(1)} | ${s.total.toFixed(1)} | ${(s.total / b.total).toFixed(2)} |`);
console.log(`\nload average ${load1}; runs (total ms): split ${runs.split.map((x) => x.totalMs.toFixed(0)).join(", ")}; single ${runs.single.map((x) => x.totalMs.toFixed(0)).join(", ")}`);
writeFileSync(`${WORK}startup.json`, JSON.stringify({ runs, split: s, single: b }, null, 2));
