/**
 * Figure 6: the generated HTML listing of a 10,000-entry HAMT-sharded
 * directory (`GET /ipfs/{dir}/`): time to first byte, time to the end, and
 * how much the workerd process grows meanwhile (peak VmRSS minus VmRSS just
 * before). The listing is streamed shard by shard from the upstream's CAR
 * and never enters the edge cache (unknown length), so every run is a
 * full fetch.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { timedGet, type TimedResponse } from "./http-get.ts";
import type { HamtDirectory } from "./hamt-directory.ts";
import { rssBytes, sampleRss, type RssSamples } from "./rss-sampler.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export interface HamtListingRun {
  ttfbMs: number;
  totalMs: number;
  bytes: number;
  idleRssBytes: number;
  peakRssBytes: number;
}

export interface HamtListingFigure {
  entries: number;
  shards: number;
  /** Entry rows found in the (untimed) verification run: must equal `entries`. */
  rows: number;
  upstreamRequests: number;
  runs: HamtListingRun[];
}

export async function hamtListing(worker: WranglerDev, dir: HamtDirectory, upstreamRequests: () => number, intervalMs = 20): Promise<HamtListingFigure> {
  const url = `${worker.url}/ipfs/${dir.root}/`;
  const accept = { Accept: "text/html" };
  // Untimed: check the listing is whole (one row per entry, each with its ?filename= link).
  const check = await fetch(url, { headers: accept });
  const html = await check.text();
  if (check.status !== 200) throw new Error(`${worker.name}: listing: ${check.status} ${html.slice(0, 200)}`);
  const rows = html.split("?filename=file-").length - 1;
  if (rows !== dir.entries) throw new Error(`${worker.name}: listing has ${rows} rows, expected ${dir.entries}`);

  const runs: HamtListingRun[] = [];
  let requests = 0;
  for (let i = 0; i < 2; i++) {
    await sleep(1000);
    const idle = rssBytes(worker.workerdPid);
    const before = upstreamRequests();
    const sampler = sampleRss(worker.workerdPid, intervalMs);
    let res: TimedResponse;
    let samples: RssSamples;
    try {
      res = await timedGet(url, accept, { timeoutMs: 120_000 });
    } finally {
      samples = await sampler.stop();
    }
    requests = upstreamRequests() - before;
    if (res.status !== 200 || res.error) throw new Error(`${worker.name}: listing run: ${res.status}${res.error ? `, ${res.error}` : ""}`);
    runs.push({ ttfbMs: res.ttfbMs, totalMs: res.totalMs, bytes: res.bytes, idleRssBytes: idle, peakRssBytes: Math.max(samples.peakBytes, idle) });
  }
  return { entries: dir.entries, shards: dir.shards, rows, upstreamRequests: requests, runs };
}
