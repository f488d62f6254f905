/**
 * Figure 3: how much the workerd process grows while the gateway streams a
 * large verified CAR: peak VmRSS during the stream minus VmRSS when idle
 * just before it (the worker already warm, on a fresh workerd).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { timedGet, type TimedResponse } from "./http-get.ts";
import { rssBytes, sampleRss, type RssSamples } from "./rss-sampler.ts";
import { mbPerSecond } from "./stats.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export interface MemoryFigure {
  fileBytes: number;
  blockBytes: number;
  idleRssBytes: number;
  peakRssBytes: number;
  aboveIdleBytes: number;
  /** VmRSS 1 s after the stream ended: what the process kept. */
  afterRssBytes: number;
  /** Peak VmRSS during a second stream of the same CAR right after (compare with `idleRssBytes`). */
  secondPeakRssBytes: number;
  samples: number;
  intervalMs: number;
  mbPerSecond: number;
}

/** Streams `file` once while sampling; returns the peak VmRSS and the stream's speed. */
async function sampledStream(worker: WranglerDev, file: SyntheticFile, intervalMs: number): Promise<{ peakBytes: number; samples: number; mbPerSecond: number }> {
  const sampler = sampleRss(worker.workerdPid, intervalMs);
  let res: TimedResponse;
  let samples: RssSamples;
  try {
    res = await timedGet(`${worker.url}/ipfs/${file.root}?format=car`, { Accept: CAR_ACCEPT }, { timeoutMs: 300_000 });
  } finally {
    samples = await sampler.stop();
  }
  if (res.status !== 200 || res.error || res.bytes !== file.carLength) {
    throw new Error(`${worker.name}: CAR of ${file.root}: status ${res.status}, ${res.bytes} of ${file.carLength} bytes${res.error ? `, ${res.error}` : ""}`);
  }
  return { peakBytes: samples.peakBytes, samples: samples.count, mbPerSecond: mbPerSecond(res.bytes, res.totalMs) };
}

/**
 * The figure is the first stream after a small warm-up. A second stream on
 * the same worker follows (`secondPeakRssBytes`): the peak depends on when
 * garbage collection runs, so two streams show how much it varies.
 */
export async function peakMemory(worker: WranglerDev, file: SyntheticFile, warmUp: SyntheticFile, intervalMs = 50): Promise<MemoryFigure> {
  // Load the gateway's code paths once (a small CAR), then let the process settle.
  const warm = await timedGet(`${worker.url}/ipfs/${warmUp.root}?format=car`, { Accept: CAR_ACCEPT });
  if (warm.status !== 200 || warm.bytes !== warmUp.carLength) throw new Error(`${worker.name}: warm-up CAR failed (${warm.status}, ${warm.bytes} bytes)`);
  await sleep(1000);
  const idle = rssBytes(worker.workerdPid);
  const first = await sampledStream(worker, file, intervalMs);
  await sleep(1000);
  const after = rssBytes(worker.workerdPid);
  const second = await sampledStream(worker, file, intervalMs);
  const peak = Math.max(first.peakBytes, idle);
  return {
    fileBytes: file.size,
    blockBytes: file.chunkSize,
    idleRssBytes: idle,
    peakRssBytes: peak,
    aboveIdleBytes: peak - idle,
    afterRssBytes: after,
    secondPeakRssBytes: second.peakBytes,
    samples: first.samples,
    intervalMs,
    mbPerSecond: first.mbPerSecond,
  };
}
