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
  samples: number;
  intervalMs: number;
  mbPerSecond: number;
}

export async function peakMemory(worker: WranglerDev, file: SyntheticFile, warmUp: SyntheticFile, intervalMs = 50): Promise<MemoryFigure> {
  // Load the gateway's code paths once (a small CAR), then let the process settle.
  const warm = await timedGet(`${worker.url}/ipfs/${warmUp.root}?format=car`, { Accept: CAR_ACCEPT });
  if (warm.status !== 200 || warm.bytes !== warmUp.carLength) throw new Error(`${worker.name}: warm-up CAR failed (${warm.status}, ${warm.bytes} bytes)`);
  await sleep(1000);
  const idle = rssBytes(worker.workerdPid);
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
  const peak = Math.max(samples.peakBytes, idle);
  await sleep(1000);
  const after = rssBytes(worker.workerdPid);
  return {
    fileBytes: file.size,
    blockBytes: file.chunkSize,
    idleRssBytes: idle,
    peakRssBytes: peak,
    aboveIdleBytes: peak - idle,
    afterRssBytes: after,
    samples: samples.count,
    intervalMs,
    mbPerSecond: mbPerSecond(res.bytes, res.totalMs),
  };
}
