/**
 * Figure 3b: workerd's RSS above idle while the gateway serves a large file
 * as a plain download (`GET /ipfs/{root}`, curl as client): the miss (its
 * edge-cache copy written meanwhile; the worker runs with
 * EDGE_CACHE_MAX_BYTES above the file's size), the hit that follows, and a
 * `Range: bytes=0-` that neither reads nor writes the cache. Compare with
 * figure 3 (the CAR of the same file) on a worker of the same kind.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { curlGet } from "./curl-get.ts";
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { rssBytes, sampleRss } from "./rss-sampler.ts";
import { mbPerSecond } from "./stats.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export interface DownloadMemoryRun {
  idleRssBytes: number;
  peakRssBytes: number;
  aboveIdleBytes: number;
  mbPerSecond: number;
}

export interface DownloadMemoryFigure {
  fileBytes: number;
  blockBytes: number;
  car: DownloadMemoryRun;
  miss: DownloadMemoryRun;
  hit: DownloadMemoryRun;
  range: DownloadMemoryRun;
}

async function sampled(worker: WranglerDev, url: string, headers: Record<string, string>, status: number, bytes: number): Promise<DownloadMemoryRun> {
  await sleep(1000);
  const idle = rssBytes(worker.workerdPid);
  const sampler = sampleRss(worker.workerdPid, 50);
  const res = await curlGet(url, headers, 600_000).finally(() => undefined);
  const rss = await sampler.stop();
  if (res.status !== status || res.bytes !== bytes || res.exitCode !== 0) {
    throw new Error(`${worker.name}: ${url}: status ${res.status}, ${res.bytes} of ${bytes} bytes, curl exit ${res.exitCode}`);
  }
  const peak = Math.max(rss.peakBytes, idle);
  return { idleRssBytes: idle, peakRssBytes: peak, aboveIdleBytes: peak - idle, mbPerSecond: mbPerSecond(res.bytes, res.totalMs) };
}

export async function downloadMemory(worker: WranglerDev, file: SyntheticFile, warmUp: SyntheticFile): Promise<DownloadMemoryFigure> {
  // Load the code paths once (a small file, a small CAR).
  for (const path of [`/ipfs/${warmUp.root}?warm=1`, `/ipfs/${warmUp.root}?format=car`]) {
    const res = await curlGet(`${worker.url}${path}`, { Accept: path.includes("car") ? CAR_ACCEPT : "*/*" });
    if (res.status !== 200 || res.exitCode !== 0) throw new Error(`${worker.name}: warm-up ${path}: ${res.status}`);
  }
  const key = `/ipfs/${file.root}?memory=${Date.now()}`;
  const car = await sampled(worker, `${worker.url}/ipfs/${file.root}?format=car`, { Accept: CAR_ACCEPT }, 200, file.carLength);
  const miss = await sampled(worker, `${worker.url}${key}`, {}, 200, file.size);
  for (let i = 0; ; i++) {
    const res = await fetch(`${worker.url}${key}`, { method: "HEAD", headers: { "Cache-Control": "only-if-cached" } });
    await res.arrayBuffer();
    if (res.status === 200) break;
    if (i > 600) throw new Error(`${worker.name}: the 1 GiB file never reached the edge cache`);
    await sleep(100);
  }
  const hit = await sampled(worker, `${worker.url}${key}`, {}, 200, file.size);
  const range = await sampled(worker, `${worker.url}${key}&range=1`, { Range: "bytes=0-" }, 206, file.size);
  return { fileBytes: file.size, blockBytes: file.chunkSize, car, miss, hit, range };
}

export function formatDownloadMemory(f: DownloadMemoryFigure): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const row = (label: string, r: DownloadMemoryRun) => `| ${label} | +${mib(r.aboveIdleBytes)} | ${mib(r.idleRssBytes)} → ${mib(r.peakRssBytes)} | ${r.mbPerSecond.toFixed(0)} MB/s | ${label === "CAR" ? "—" : `${(r.aboveIdleBytes - f.car.aboveIdleBytes) / 2 ** 20 >= 0 ? "+" : ""}${((r.aboveIdleBytes - f.car.aboveIdleBytes) / 2 ** 20).toFixed(1)} MiB`} |`;
  return [
    `3b. workerd RSS above idle while serving a ${(f.fileBytes / 2 ** 30).toFixed(0)} GiB file (${(f.blockBytes / 1024).toFixed(0)} KiB leaves), curl as client, one fresh gateway:`,
    "",
    "| request | peak above idle | idle → peak | speed | vs the CAR |",
    "|---|---|---|---|---|",
    row("CAR", f.car),
    row("file download, miss (edge-cache copy written)", f.miss),
    row("file download, edge-cache hit", f.hit),
    row("`Range: bytes=0-`, not cached", f.range),
    "",
  ].join("\n");
}
