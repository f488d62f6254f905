/**
 * Figure 2: time to first byte of small-file CARs when the gateway races
 * three upstreams (slow, failing, fast, in that configured order) against the
 * same gateway with only the fast upstream. Every request asks for a
 * different file (distinct CIDs), so no cache of any kind can answer it.
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
  /** Requests each upstream of the racing worker received during `racing`, and during `racingLater`. */
  upstreamRequests: { racing: Record<string, number>; racingLater: Record<string, number> };
}

async function series(worker: WranglerDev, files: SyntheticFile[]): Promise<TtfbSeries> {
  const ttfbMs: number[] = [];
  for (const file of files) {
    const res = await timedGet(`${worker.url}/ipfs/${file.root}?format=car`, { Accept: CAR_ACCEPT }, { timeoutMs: 30_000 });
    if (res.status !== 200 || res.error || res.bytes !== file.carLength) {
      throw new Error(`${worker.name}: CAR of ${file.root}: status ${res.status}, ${res.bytes} of ${file.carLength} bytes${res.error ? `, ${res.error}` : ""}`);
    }
    ttfbMs.push(res.ttfbMs);
  }
  return { ttfbMs, p50: percentile(ttfbMs, 50), p95: percentile(ttfbMs, 95), max: Math.max(...ttfbMs) };
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
  if (files.length < 3 * perSeries) throw new Error("racingTtfb: not enough distinct files");
  const alone = await series(fastAlone, files.slice(0, perSeries));
  const before = countRequests();
  const race = await series(racing, files.slice(perSeries, 2 * perSeries));
  const middle = countRequests();
  const later = await series(racing, files.slice(2 * perSeries, 3 * perSeries));
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
    upstreamRequests: { racing: diff(before, middle), racingLater: diff(middle, after) },
  };
}
