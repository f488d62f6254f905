/**
 * Figure 7: throughput of what clients download, with `curl` as the client
 * (bench/curl-get.ts), all in one run against the same baselines:
 *
 * - upstream directly: the local upstream's CAR, no worker (bounds everything);
 * - pass-through: a Worker returning the upstream's CAR body untouched (1.00);
 * - verified CAR: `?format=car` through the gateway;
 * - file download, edge-cache miss: `GET /ipfs/{root}` on a key never asked
 *   before (a query parameter the gateway ignores makes a fresh cache key),
 *   while the cache copy is written;
 * - file download, edge-cache hit: the same URL again once the copy is stored;
 * - `Range: bytes=0-` on a key that is not cached (handlers' 206), and on the
 *   cached key (206 cut by the Cache API).
 *
 * Rounds alternate the order of the rows. Medians of MB/s (10^6 B/s).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { curlGet, type CurlResponse } from "./curl-get.ts";
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { cpuSeconds, mbPerSecond, median } from "./stats.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export const DOWNLOAD_ROWS = ["upstream", "passthrough", "car", "fileMiss", "fileHit", "rangeMiss", "rangeHit"] as const;
export type DownloadRow = (typeof DOWNLOAD_ROWS)[number];

export interface DownloadsFigure {
  fileBytes: number;
  blockBytes: number;
  rounds: number;
  /** MB/s of every round, per row. */
  runs: Record<DownloadRow, number[]>;
  median: Record<DownloadRow, number>;
  /** Median CPU % of one core of the worker's runtime workerd, per row (upstream: none). */
  workerdCpuPct: Record<DownloadRow, number>;
}

async function waitCached(worker: WranglerDev, path: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`${worker.url}${path}`, { method: "HEAD", headers: { "Cache-Control": "only-if-cached" } });
    await res.arrayBuffer();
    if (res.status === 200) return;
    await sleep(50);
  }
  throw new Error(`${worker.name}: ${path} never reached the edge cache`);
}

function expect(row: string, res: CurlResponse, status: number, bytes: number): void {
  if (res.status !== status || res.bytes !== bytes || res.exitCode !== 0) {
    throw new Error(`${row}: status ${res.status} (want ${status}), ${res.bytes} of ${bytes} bytes, curl exit ${res.exitCode}`);
  }
}

export async function downloads(
  file: SyntheticFile,
  upstreamBase: string,
  gateway: WranglerDev,
  passthrough: WranglerDev,
  rounds: number,
  log: (m: string) => void,
): Promise<DownloadsFigure> {
  const runs = Object.fromEntries(DOWNLOAD_ROWS.map((r) => [r, [] as number[]])) as Record<DownloadRow, number[]>;
  const cpu = Object.fromEntries(DOWNLOAD_ROWS.map((r) => [r, [] as number[]])) as Record<DownloadRow, number[]>;
  const carPath = `/ipfs/${file.root}?format=car`;
  const timed = async (row: DownloadRow, worker: WranglerDev | undefined, url: string, headers: Record<string, string>, status: number, bytes: number) => {
    const cpu0 = worker ? cpuSeconds(worker.workerdPid) : 0;
    const res = await curlGet(url, headers);
    expect(row, res, status, bytes);
    runs[row].push(mbPerSecond(res.bytes, res.totalMs));
    cpu[row].push(worker ? (100 * (cpuSeconds(worker.workerdPid) - cpu0)) / (res.totalMs / 1000) : 0);
  };
  // Warm-up, untimed: each path once.
  expect("warm-up car", await curlGet(`${gateway.url}${carPath}`, { Accept: CAR_ACCEPT }), 200, file.carLength);
  expect("warm-up pass-through", await curlGet(`${passthrough.url}${carPath}`, { Accept: CAR_ACCEPT }), 200, file.carLength);
  for (let round = 0; round < rounds; round++) {
    const key = `/ipfs/${file.root}?bench=${Date.now()}-${round}`;
    const steps: (() => Promise<void>)[] = [
      () => timed("upstream", undefined, `${upstreamBase}${carPath}`, { Accept: CAR_ACCEPT }, 200, file.carLength),
      () => timed("passthrough", passthrough, `${passthrough.url}${carPath}`, { Accept: CAR_ACCEPT }, 200, file.carLength),
      () => timed("car", gateway, `${gateway.url}${carPath}`, { Accept: CAR_ACCEPT }, 200, file.carLength),
      () => timed("rangeMiss", gateway, `${gateway.url}${key}&range=1`, { Range: "bytes=0-" }, 206, file.size),
    ];
    const ordered = round % 2 === 0 ? steps : [...steps].reverse();
    for (const step of ordered) await step();
    // The miss, then (once its copy is stored) the hit and a Range on the hit.
    await timed("fileMiss", gateway, `${gateway.url}${key}`, {}, 200, file.size);
    await waitCached(gateway, key);
    await timed("fileHit", gateway, `${gateway.url}${key}`, {}, 200, file.size);
    await timed("rangeHit", gateway, `${gateway.url}${key}`, { Range: "bytes=0-" }, 206, file.size);
    log(`  round ${round + 1}: ${DOWNLOAD_ROWS.map((r) => `${r} ${runs[r].at(-1)!.toFixed(0)}`).join(", ")} MB/s`);
  }
  return {
    fileBytes: file.size,
    blockBytes: file.chunkSize,
    rounds,
    runs,
    median: Object.fromEntries(DOWNLOAD_ROWS.map((r) => [r, median(runs[r])])) as Record<DownloadRow, number>,
    workerdCpuPct: Object.fromEntries(DOWNLOAD_ROWS.map((r) => [r, median(cpu[r])])) as Record<DownloadRow, number>,
  };
}
