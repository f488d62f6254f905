/**
 * Figure 4: time to first byte of a 1 MiB UnixFS file through the gateway
 * when the edge cache (Cache API) has it, against the first request for the
 * same file (a miss: R2 look-up, upstream race, verified streaming). Each
 * file is a different CID; between the two requests the bench waits until
 * the cached copy answers (`Cache-Control: only-if-cached` HEAD: 200).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { timedGet } from "./http-get.ts";
import { percentile } from "./stats.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export interface EdgeCacheFigure {
  fileBytes: number;
  blockBytes: number;
  files: number;
  missTtfbMs: number[];
  hitTtfbMs: number[];
  missP50: number;
  missP95: number;
  hitP50: number;
  hitP95: number;
  /** hitP50 / missP50 (lower is better). */
  ratioP50: number;
  /** Median time to the last byte, miss / hit. */
  missTotalP50: number;
  hitTotalP50: number;
  /** Upstream requests during the misses, and during the hits (should be 0). */
  upstreamRequests: { misses: number; hits: number };
  /** Every hit returned the bytes of its miss (SHA-256). */
  sameBytes: boolean;
  /** ms from the end of a miss until the cached copy answered, median. */
  cachedAfterMsP50: number;
}

async function waitCached(worker: WranglerDev, path: string): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${worker.url}${path}`, { method: "HEAD", headers: { "Cache-Control": "only-if-cached" } });
    if (res.status === 200) return performance.now() - start;
    await sleep(10);
  }
  throw new Error(`${worker.name}: ${path} never reached the edge cache`);
}

export async function edgeCacheTtfb(worker: WranglerDev, files: SyntheticFile[], upstreamRequests: () => number): Promise<EdgeCacheFigure> {
  const missTtfbMs: number[] = [];
  const hitTtfbMs: number[] = [];
  const missTotal: number[] = [];
  const hitTotal: number[] = [];
  const cachedAfter: number[] = [];
  let sameBytes = true;
  let missRequests = 0;
  let hitRequests = 0;
  for (const file of files) {
    const path = `/ipfs/${file.root}`;
    let before = upstreamRequests();
    const miss = await timedGet(`${worker.url}${path}`, {}, { hash: true, timeoutMs: 30_000 });
    missRequests += upstreamRequests() - before;
    if (miss.status !== 200 || miss.error || miss.bytes !== file.size) throw new Error(`${worker.name}: miss of ${path}: ${miss.status}, ${miss.bytes} bytes`);
    cachedAfter.push(await waitCached(worker, path));
    before = upstreamRequests();
    const hit = await timedGet(`${worker.url}${path}`, {}, { hash: true, timeoutMs: 30_000 });
    hitRequests += upstreamRequests() - before;
    if (hit.status !== 200 || hit.error || hit.bytes !== file.size) throw new Error(`${worker.name}: hit of ${path}: ${hit.status}, ${hit.bytes} bytes`);
    if (hit.sha256 !== miss.sha256) sameBytes = false;
    missTtfbMs.push(miss.ttfbMs);
    hitTtfbMs.push(hit.ttfbMs);
    missTotal.push(miss.totalMs);
    hitTotal.push(hit.totalMs);
  }
  const missP50 = percentile(missTtfbMs, 50);
  const hitP50 = percentile(hitTtfbMs, 50);
  return {
    fileBytes: files[0]!.size,
    blockBytes: files[0]!.chunkSize,
    files: files.length,
    missTtfbMs,
    hitTtfbMs,
    missP50,
    missP95: percentile(missTtfbMs, 95),
    hitP50,
    hitP95: percentile(hitTtfbMs, 95),
    ratioP50: hitP50 / missP50,
    missTotalP50: percentile(missTotal, 50),
    hitTotalP50: percentile(hitTotal, 50),
    upstreamRequests: { misses: missRequests, hits: hitRequests },
    sameBytes,
    cachedAfterMsP50: percentile(cachedAfter, 50),
  };
}
