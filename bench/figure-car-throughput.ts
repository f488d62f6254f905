/**
 * Figure 1: verified CAR streaming of a whole UnixFS file through the
 * gateway, against the pass-through worker returning the same upstream CAR
 * unverified, in the same run, alternating which goes first each round.
 * Timed runs use `curl` as the client (bench/curl-get.ts); figure 7 prints
 * the "upstream directly" row that bounds both.
 */
import { curlGet } from "./curl-get.ts";
import { timedGet, type TimedResponse } from "./http-get.ts";
import { cpuSeconds, mbPerSecond, median, ownCpuSeconds } from "./stats.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export const CAR_ACCEPT = "application/vnd.ipld.car; version=1; order=dfs; dups=y";

export interface StreamRun {
  mbPerSecond: number;
  ms: number;
  /** CPU used by the worker's workerd process during the run, as % of one core. */
  workerdCpuPct: number;
  /** CPU used by wrangler's proxy workerd (in front of the worker) during the run, as % of one core. */
  proxyCpuPct: number;
  /** CPU used by the bench process (the upstream server; the client is curl) during the run, as % of one core. */
  benchCpuPct: number;
}

export interface WorkerThroughput {
  runs: StreamRun[];
  medianMBps: number;
  medianWorkerdCpuPct: number;
  medianProxyCpuPct: number;
  medianBenchCpuPct: number;
}

export interface ThroughputFigure {
  blockBytes: number;
  fileBytes: number;
  carBytes: number;
  root: string;
  /** Both workers returned the same bytes (SHA-256 of an untimed first run each). */
  sameBytes: boolean;
  verified: WorkerThroughput;
  passthrough: WorkerThroughput;
  /** verified / pass-through, of the medians. */
  ratio: number;
}

function carUrl(worker: WranglerDev, file: SyntheticFile): string {
  return `${worker.url}/ipfs/${file.root}?format=car`;
}

function expectComplete(worker: WranglerDev, file: SyntheticFile, res: TimedResponse): void {
  if (res.status !== 200 || res.error || res.bytes !== file.carLength) {
    throw new Error(`${worker.name}: CAR of ${file.root}: status ${res.status}, ${res.bytes} of ${file.carLength} bytes${res.error ? `, ${res.error}` : ""}`);
  }
}

async function timedStream(worker: WranglerDev, file: SyntheticFile): Promise<StreamRun> {
  const cpu0 = cpuSeconds(worker.workerdPid);
  const proxy0 = cpuSeconds(worker.proxyPid);
  const own0 = ownCpuSeconds();
  // curl as the client: node:http in this process (which also serves the upstream) capped the pass-through at ~240 MB/s.
  const res = await curlGet(carUrl(worker, file), { Accept: CAR_ACCEPT });
  if (res.status !== 200 || res.exitCode !== 0 || res.bytes !== file.carLength) {
    throw new Error(`${worker.name}: CAR of ${file.root}: status ${res.status}, ${res.bytes} of ${file.carLength} bytes, curl exit ${res.exitCode}`);
  }
  const seconds = res.totalMs / 1000;
  return {
    mbPerSecond: mbPerSecond(res.bytes, res.totalMs),
    ms: res.totalMs,
    workerdCpuPct: (100 * (cpuSeconds(worker.workerdPid) - cpu0)) / seconds,
    proxyCpuPct: (100 * (cpuSeconds(worker.proxyPid) - proxy0)) / seconds,
    benchCpuPct: (100 * (ownCpuSeconds() - own0)) / seconds,
  };
}

function summarise(runs: StreamRun[]): WorkerThroughput {
  return {
    runs,
    medianMBps: median(runs.map((r) => r.mbPerSecond)),
    medianWorkerdCpuPct: median(runs.map((r) => r.workerdCpuPct)),
    medianProxyCpuPct: median(runs.map((r) => r.proxyCpuPct)),
    medianBenchCpuPct: median(runs.map((r) => r.benchCpuPct)),
  };
}

export async function carThroughput(file: SyntheticFile, gateway: WranglerDev, passthrough: WranglerDev, rounds: number): Promise<ThroughputFigure> {
  // Untimed first run of each: warms both isolates and checks the bytes are the same.
  const digests: string[] = [];
  for (const worker of [passthrough, gateway]) {
    const res = await timedGet(carUrl(worker, file), { Accept: CAR_ACCEPT }, { hash: true });
    expectComplete(worker, file, res);
    digests.push(res.sha256 ?? "");
  }
  const verified: StreamRun[] = [];
  const raw: StreamRun[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ([passthrough, gateway] as const) : ([gateway, passthrough] as const);
    for (const worker of order) (worker === gateway ? verified : raw).push(await timedStream(worker, file));
  }
  const v = summarise(verified);
  const p = summarise(raw);
  return {
    blockBytes: file.chunkSize,
    fileBytes: file.size,
    carBytes: file.carLength,
    root: file.root.toString(),
    sameBytes: digests[0] === digests[1],
    verified: v,
    passthrough: p,
    ratio: v.medianMBps / p.medianMBps,
  };
}
