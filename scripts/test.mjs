/**
 * `npm test`: the workerd suite (vitest.config.ts), then the CLI's Node suite
 * (vitest.cli.config.ts), then the dashboard's browser suite
 * (vitest.browser.config.ts), with the same extra arguments for each
 * (`npm test -- <args>`). When a JSON report is asked for
 * (`--outputFile.json=<file>`, as .ci/run does), each run writes its own
 * and <file> gets both merged (counts summed, test results concatenated).
 * Exit status: non-zero if either run failed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const jsonAt = args.findIndex((a) => a.startsWith("--outputFile.json="));
const jsonFile = jsonAt >= 0 ? args[jsonAt].slice("--outputFile.json=".length) : undefined;
const runs = [
  ["workerd", []],
  ["cli", ["-c", "vitest.cli.config.ts"]],
  // The dashboard in Debian's Chromium against wrangler dev (test/browser/, docs/dashboard.md).
  ["browser", ["-c", "vitest.browser.config.ts"]],
];
/**
 * The browser suite drives Debian's Chromium (FACTS: no browser download
 * here). On a fresh Debian machine run as root (CI's case) it is installed
 * with apt-get, as .ci/run does; elsewhere the run fails with what to do.
 */
const CHROMIUM = "/usr/bin/chromium";
function ensureChromium() {
  if (existsSync(CHROMIUM)) return true;
  if (process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0) {
    console.error(`npm test: ${CHROMIUM} is missing: apt-get install -y chromium`);
    const r = spawnSync("sh", ["-c", "apt-get update && apt-get install -y chromium"], { stdio: "inherit" });
    if (r.status === 0 && existsSync(CHROMIUM)) return true;
  }
  console.error(`npm test: the dashboard's browser tests need Debian's Chromium at ${CHROMIUM} (sudo apt-get install chromium)`);
  return false;
}

let status = 0;
const reports = [];
for (const [name, config] of runs) {
  if (name === "browser" && !ensureChromium()) {
    status = 1;
    continue;
  }
  const own = jsonFile ? args.map((a, i) => (i === jsonAt ? `--outputFile.json=${jsonFile}.${name}` : a)) : args;
  const r = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", ...config, "--passWithNoTests", ...own], { stdio: "inherit" });
  if (r.status !== 0) status = r.status ?? 1;
  if (jsonFile && existsSync(`${jsonFile}.${name}`)) {
    reports.push(JSON.parse(readFileSync(`${jsonFile}.${name}`, "utf8")));
    rmSync(`${jsonFile}.${name}`);
  }
}
if (jsonFile && reports.length > 0) {
  const merged = { ...reports[0] };
  for (const key of Object.keys(merged)) {
    if (key.startsWith("num") && typeof merged[key] === "number") merged[key] = reports.reduce((n, r) => n + (r[key] ?? 0), 0);
  }
  merged.success = reports.every((r) => r.success);
  merged.testResults = reports.flatMap((r) => r.testResults ?? []);
  writeFileSync(jsonFile, JSON.stringify(merged));
}
process.exit(status);
