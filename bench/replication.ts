/**
 * Replication figures (docs/benchmarks.md, "Replication"): one gateway
 * worker (wrangler dev, 127.0.0.1) and the local pinning service
 * (test/servers/psa-server.ts, ten tenants = ten PSA backends):
 *
 * 1. 1,000 small pins (4 KiB files uploaded first, then pinned through the
 *    PSA with `meta.replication = bench-0`) replicated to one PSA backend:
 *    time until every root's aggregate is `stored`, pins/s;
 * 2. the same roots copied to nine more backends by nine migration jobs
 *    (9,000 copies): copies/s;
 * 3. one verification cron run over every stored copy (10,000 on the PSA
 *    backends + 1,000 R2), with REPLICA_VERIFY_SAMPLE above the count and
 *    REPLICA_VERIFY_MIN_AGE_MS = 0: time until every copy was checked,
 *    checks/s, and the status reads the PSA server received.
 *
 *   npm run bench:replication
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { startPsaServer, PSA_TOKEN } from "../test/servers/psa-server.ts";
import { bundleWorker, startWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const log = (m: string) => process.stderr.write(`[bench:replication ${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);
const PINS = 1000;
const BACKENDS = 10;
const names = Array.from({ length: BACKENDS }, (_, i) => `bench-${i}`);


async function json(url: string, init: RequestInit, expected: number): Promise<unknown> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text === "" ? undefined : JSON.parse(text);
}

async function pool<T>(items: T[], concurrency: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await job(items[next++]!);
  }));
}

type Counts = { byBackend: Record<string, Record<string, number>>; total: number; checkedSince?: number };

/** The account's copies by backend and state: one GROUP BY in the registry (polling must not starve its alarm). */
async function counts(gateway: WranglerDev, token: string, checkedSince?: number): Promise<Counts> {
  const q = checkedSince === undefined ? "" : `?checkedSince=${new Date(checkedSince).toISOString()}`;
  return (await json(`${gateway.url}/api/v1/replicas${q}`, { headers: { Authorization: `Bearer ${token}` } }, 200)) as Counts;
}

const stored = (c: Counts, backends: string[]) => backends.reduce((n, b) => n + (c.byBackend[b]?.stored ?? 0), 0);

async function until(what: string, done: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await done())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not done after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return performance.now() - t0;
}

rmSync(`${WORK}state/replication`, { recursive: true, force: true });
mkdirSync(`${WORK}state`, { recursive: true });
const psa = await startPsaServer();
let gateway: WranglerDev | undefined;
try {
  const adminToken = `bench-${process.pid}-${Date.now()}`;
  const backends = Object.fromEntries(names.map((n) => [n, { type: "psa", endpoint: `${psa.base}/t/${n}`, pollMs: 100 }]));
  const secrets = Object.fromEntries(names.map((n) => [`BACKEND_${n.toUpperCase().replace(/-/g, "_")}_TOKEN`, PSA_TOKEN]));
  const script = await bundleWorker("wrangler.toml", `${WORK}bundle-replication`, `${WORK}bundle-replication.log`);
  gateway = await startWranglerDev({
    name: "gateway-replication", config: "wrangler.toml", script,
    vars: {
      ADMIN_TOKEN: adminToken, UPSTREAMS: `${psa.base}/none`, PROVIDER_ROUTERS: "", PUBLIC_URL: "https://edge.example",
      BACKENDS: JSON.stringify(backends), REPLICATION_POLICY: "", REPLICA_VERIFY_SAMPLE: "100000", REPLICA_VERIFY_MIN_AGE_MS: "0", ...secrets,
    },
    persistTo: `${WORK}state/replication`, logFile: `${WORK}gateway-replication.log`,
  });
  log(`psa ${psa.base}; gateway ${gateway.url}`);
  const { token } = (await json(`${gateway.url}/api/v1/tokens`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" }, body: JSON.stringify({ name: "bench" }) }, 201)) as { token: string };
  const auth = { Authorization: `Bearer ${token}` };

  // 1,000 distinct 4 KiB files, uploaded (R2 only: the policy is empty).
  const cids: string[] = [];
  await pool(Array.from({ length: PINS }, (_, i) => i), 8, async (i) => {
    const bytes = new Uint8Array(4096);
    new DataView(bytes.buffer).setUint32(0, i);
    bytes.fill(i % 251, 4);
    const up = (await json(`${gateway!.url}/api/v1/upload`, { method: "POST", headers: auth, body: bytes }, 201)) as { cid: string };
    cids.push(up.cid);
  });
  log(`uploaded ${cids.length} files`);

  // 1. Replicate every root to bench-0 (a PSA pin of a held CID is pinned at once; its meta names the backend).
  const t1 = performance.now();
  await pool(cids, 8, async (cid) => {
    await json(`${gateway!.url}/psa/pins`, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ cid, meta: { replication: "bench-0" } }) }, 202);
  });
  await until("phase 1", async () => stored(await counts(gateway!, token), ["r2", "bench-0"]) === 2 * PINS, 900_000);
  const oneSeconds = (performance.now() - t1) / 1000;
  log(`phase 1: ${PINS} pins to one PSA backend in ${oneSeconds.toFixed(1)} s`);

  // 2. Nine migration jobs copy every root to bench-1..9.
  const t2 = performance.now();
  for (const to of names.slice(1)) {
    await json(`${gateway.url}/api/v1/migrate`, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ from: "r2", to, filter: {} }) }, 202);
  }
  await until("phase 2", async () => stored(await counts(gateway!, token), ["r2", ...names]) === (BACKENDS + 1) * PINS, 1_800_000);
  const copySeconds = (performance.now() - t2) / 1000;
  log(`phase 2: ${PINS * (BACKENDS - 1)} copies in ${copySeconds.toFixed(1)} s`);

  // 3. One verification cron run over every stored copy.
  const reads = async () => {
    let n = 0;
    for (const name of names) {
      const entries = (await json(`${psa.base}/_control/${name}/log`, {}, 200)) as { method: string; path: string }[];
      n += entries.filter((e) => e.method === "GET" && /^\/pins\/[0-9a-f-]{36}$/.test(e.path)).length;
    }
    return n;
  };
  const readsBefore = await reads();
  const t3 = Date.now();
  // The cron's job through the operator route (wrangler's /__scheduled is absent with --no-bundle).
  await json(`${gateway.url}/api/v1/backends/verify`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}` } }, 200);
  const verifyMs = await until("phase 3", async () => (await counts(gateway!, token, t3)).checkedSince === (BACKENDS + 1) * PINS, 1_800_000);
  const checked = PINS * (BACKENDS + 1);
  const remoteReads = (await reads()) - readsBefore;
  log(`phase 3: ${checked} copies checked in ${(verifyMs / 1000).toFixed(1)} s (${remoteReads} PSA status reads)`);

  const figure = {
    date: new Date().toISOString(),
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    replicateToOne: { pins: PINS, seconds: oneSeconds, pinsPerSecond: PINS / oneSeconds },
    copyByMigration: { copies: PINS * (BACKENDS - 1), seconds: copySeconds, copiesPerSecond: (PINS * (BACKENDS - 1)) / copySeconds },
    verification: { replicas: checked, remoteReplicas: PINS * BACKENDS, seconds: verifyMs / 1000, checksPerSecond: checked / (verifyMs / 1000), remoteStatusReads: remoteReads },
  };
  writeFileSync(`${WORK}replication.json`, `${JSON.stringify(figure, null, 2)}\n`);
  process.stdout.write(`| figure | count | seconds | rate |\n|---|---|---|---|\n`
    + `| 1,000 small pins replicated to one local PSA | ${PINS} pins | ${oneSeconds.toFixed(1)} | ${figure.replicateToOne.pinsPerSecond.toFixed(1)} pins/s |\n`
    + `| copied to 9 more PSA backends by migration jobs | ${figure.copyByMigration.copies} copies | ${copySeconds.toFixed(1)} | ${figure.copyByMigration.copiesPerSecond.toFixed(1)} copies/s |\n`
    + `| one verification run over every stored copy | ${checked} replicas (${remoteReads} PSA reads) | ${(verifyMs / 1000).toFixed(1)} | ${figure.verification.checksPerSecond.toFixed(1)} checks/s |\n`
    + `\nload average ${figure.loadAverage.join(" ")}\n`);
} finally {
  await gateway?.stop();
  await psa.close();
}
