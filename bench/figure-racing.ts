/**
 * Figure 2: time to first byte of small-file CARs when the gateway races
 * three upstreams (slow, failing, fast, in that configured order) against the
 * same gateway with only the fast upstream, requests of the two sent
 * alternately. Every request asks for a different file (distinct CIDs), so
 * no cache of any kind can answer it. The racing worker starts fresh: its
 * first series includes the request(s) it learns health from.
 */
import { CAR_ACCEPT } from "./figure-car-throughput.ts";
import { timedGet } from "./http-get.ts";
import { percentile } from "./stats.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export interface TtfbSeries {
  /** Per request, in the order sent. */
  ttfbMs: number[];
  p50: number;
  p95: number;
  max: number;
}

export interface RacingFigure {
  fileBytes: number;
  blockBytes: number;
  requestsPerSeries: number;
  fastAlone: TtfbSeries;
  /** The racing worker's first `requestsPerSeries` requests (a fresh worker: no health knowledge yet). */
  racing: TtfbSeries;
  /** racing.p95 / fastAlone.p95 */
  ratioP95: number;
  /** The next `requestsPerSeries` requests of the same racing worker (its health snapshot has learned by then). */
  racingLater: TtfbSeries;
  /** The fast-alone requests sent alternately with `racingLater`. */
  fastAloneLater: TtfbSeries;
  /** Requests each upstream of the racing worker received during `racing`, and during `racingLater`. */
  upstreamRequests: { racing: Record<string, number>; racingLater: Record<string, number> };
}

async function timedCar(worker: WranglerDev, file: SyntheticFile): Promise<number> {
  const res = await timedGet(`${worker.url}/ipfs/${file.root}?format=car`, { Accept: CAR_ACCEPT }, { timeoutMs: 30_000 });
  if (res.status !== 200 || res.error || res.bytes !== file.carLength) {
    throw new Error(`${worker.name}: CAR of ${file.root}: status ${res.status}, ${res.bytes} of ${file.carLength} bytes${res.error ? `, ${res.error}` : ""}`);
  }
  return res.ttfbMs;
}

function summary(ttfbMs: number[]): TtfbSeries {
  return { ttfbMs, p50: percentile(ttfbMs, 50), p95: percentile(ttfbMs, 95), max: Math.max(...ttfbMs) };
}

/**
 * Two series sent alternately, one request of each in turn, so both see the
 * same machine load (on 2 shared cores, load swings dominate a p95 of
 * milliseconds when the series run one after the other).
 */
async function interleaved(a: WranglerDev, filesA: SyntheticFile[], b: WranglerDev, filesB: SyntheticFile[]): Promise<[TtfbSeries, TtfbSeries]> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < filesA.length; i++) {
    ta.push(await timedCar(a, filesA[i]!));
    tb.push(await timedCar(b, filesB[i]!));
  }
  return [summary(ta), summary(tb)];
}

/**
 * `files` needs 3 × `perSeries` distinct small files. `countRequests` reads
 * the upstream server's log: requests received so far per upstream.
 */
export async function racingTtfb(
  fastAlone: WranglerDev,
  racing: WranglerDev,
  files: SyntheticFile[],
  perSeries: number,
  countRequests: () => Record<string, number>,
): Promise<RacingFigure> {
  if (files.length < 4 * perSeries) throw new Error("racingTtfb: not enough distinct files");
  const part = (k: number) => files.slice(k * perSeries, (k + 1) * perSeries);
  const before = countRequests();
  const [alone, race] = await interleaved(fastAlone, part(0), racing, part(1));
  const middle = countRequests();
  const [aloneLater, later] = await interleaved(fastAlone, part(2), racing, part(3));
  const after = countRequests();
  const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));
  return {
    fileBytes: files[0]!.size,
    blockBytes: files[0]!.chunkSize,
    requestsPerSeries: perSeries,
    fastAlone: alone,
    racing: race,
    ratioP95: race.p95 / alone.p95,
    racingLater: later,
    fastAloneLater: aloneLater,
    upstreamRequests: { racing: diff(before, middle), racingLater: diff(middle, after) },
  };
}
