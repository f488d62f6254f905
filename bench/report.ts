/** The bench's result shape, its targets, and the table printed on stdout (Markdown, pasted into docs/benchmarks.md). */
import type { ThroughputFigure } from "./figure-car-throughput.ts";
import type { MemoryFigure } from "./figure-memory.ts";
import type { EdgeCacheFigure } from "./figure-edge-cache.ts";
import type { HamtListingFigure } from "./figure-hamt-listing.ts";
import type { RangeFigure } from "./figure-range.ts";
import type { RacingFigure } from "./figure-racing.ts";
import type { DownloadMemoryFigure } from "./figure-download-memory.ts";
import type { DownloadsFigure } from "./figure-downloads.ts";
import type { LoadFigure } from "./figure-load.ts";
import { MIB } from "./stats.ts";

export const TARGETS = {
  /** verified / pass-through MB/s, 1 MiB blocks: at least. */
  throughputRatio1MiB: 0.55,
  /** p95 TTFB racing / fast alone: at most. */
  racingP95Ratio: 1.2,
  /** workerd RSS above idle while streaming 1 GiB: below, in bytes. */
  memoryAboveIdleBytes: 128 * MIB,
  /** Blocks the upstream sends for the last MiB of a 1 GiB file named *.mp4 (no sniffing): the leaf and the path to it (root, parent, leaf). */
  rangeBlocks: 3,
};

export interface BenchResult {
  date: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; loadAvgStart: number[]; loadAvgEnd: number[] };
  versions: { node: string; wrangler: string };
  targets: typeof TARGETS;
  throughput1MiB: ThroughputFigure;
  throughput256KiB: ThroughputFigure;
  racing: RacingFigure;
  memory: MemoryFigure;
  /** The same measurement on a fresh pass-through worker: what the runtime itself holds while piping the CAR. */
  memoryPassthrough: MemoryFigure;
  edgeCache: EdgeCacheFigure;
  range: RangeFigure;
  hamtListing: HamtListingFigure;
  /** Figures 3b, 7 and 8 (issue 8), printed after the table by their own formatters. */
  downloadMemory: DownloadMemoryFigure;
  downloads: DownloadsFigure;
  load: LoadFigure;
  durationSeconds: number;
}

const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const mib = (bytes: number) => `${f1(bytes / MIB)} MiB`;
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

function throughputRow(label: string, t: ThroughputFigure, target?: number): string {
  const cells = [
    label,
    `${f1(t.verified.medianMBps)} MB/s (workerd CPU ${f0(t.verified.medianWorkerdCpuPct)} %)`,
    `${f1(t.passthrough.medianMBps)} MB/s (workerd CPU ${f0(t.passthrough.medianWorkerdCpuPct)} %)`,
    f2(t.ratio),
    target === undefined ? "—" : `≥ ${target}`,
    target === undefined ? "—" : verdict(t.ratio >= target),
  ];
  return `| ${cells.join(" | ")} |`;
}

export function formatReport(r: BenchResult): string {
  const { throughput1MiB: t1, throughput256KiB: t2, racing: race, memory: mem, memoryPassthrough: memPt, edgeCache: ec, range: rg, hamtListing: hl, targets } = r;
  const rangeBlocks = (b: { parents: number; leaves: number }) => `${b.parents + b.leaves} (${b.parents} parents + ${b.leaves} leaves)`;
  const hl1 = hl.runs[0]!;
  const lines = [
    `ipfs-kit-edge gateway bench, ${r.date}: ${r.machine.cpus} × ${r.machine.cpuModel}, ${f0(r.machine.memoryBytes / 2 ** 30)} GiB RAM,`,
    `node ${r.versions.node}, wrangler ${r.versions.wrangler}; load average ${r.machine.loadAvgStart.map(f2).join(" ")} at start, ${r.machine.loadAvgEnd.map(f2).join(" ")} at end; ${f0(r.durationSeconds)} s`,
    "",
    "| figure | gateway | baseline (same run) | ratio | target | |",
    "|---|---|---|---|---|---|",
    throughputRow(`1. CAR of a 256 MiB file, 1 MiB blocks: verified vs pass-through (median of ${t1.verified.runs.length})`, t1, targets.throughputRatio1MiB),
    throughputRow(`1b. CAR of a 256 MiB file, 256 KiB blocks: verified vs pass-through (median of ${t2.verified.runs.length})`, t2),
    `| 2. TTFB of a ${race.fileBytes / 1024} KiB file CAR, p50 / p95 over ${race.requestsPerSeries} distinct CIDs: upstreams slow-2000, status-500, honest vs honest alone | ${f1(race.racing.p50)} / ${f1(race.racing.p95)} ms | ${f1(race.fastAlone.p50)} / ${f1(race.fastAlone.p95)} ms | ${f2(race.ratioP95)} (p95) | ≤ ${targets.racingP95Ratio} | ${verdict(race.ratioP95 <= targets.racingP95Ratio)} |`,
    `| 3. workerd RSS while streaming a 1 GiB CAR (1 MiB blocks) | peak ${mib(mem.peakRssBytes)} | idle ${mib(mem.idleRssBytes)} | +${mib(mem.aboveIdleBytes)} above idle | < ${mib(targets.memoryAboveIdleBytes)} | ${verdict(mem.aboveIdleBytes < targets.memoryAboveIdleBytes)} |`,
    `| 4. TTFB of a 1 MiB file (${ec.blockBytes / 1024} KiB blocks), p50 / p95 over ${ec.files} CIDs: edge-cache hit vs miss | ${f1(ec.hitP50)} / ${f1(ec.hitP95)} ms | ${f1(ec.missP50)} / ${f1(ec.missP95)} ms | ${f2(ec.ratioP50)} (p50) | — | — |`,
    `| 5. Range for the last 1 MiB of a 1 GiB file vs the first 1 MiB: total time p50 over ${rg.rounds}; blocks the upstream sent | ${f1(rg.lastTotalP50)} ms; ${rangeBlocks(rg.lastBlocks)}, named *.mp4: ${rangeBlocks(rg.lastBlocksNamed)} | ${f1(rg.firstTotalP50)} ms | ${f2(rg.ratioTotal)} | ≤ ${targets.rangeBlocks} blocks (named) | ${verdict(rg.lastBlocksNamed.parents + rg.lastBlocksNamed.leaves <= targets.rangeBlocks)} |`,
    `| 6. HTML listing of a ${hl.entries}-entry HAMT directory (${hl.shards} shards): time to the last byte; workerd RSS above idle | ${f0(hl1.totalMs)} ms (TTFB ${f1(hl1.ttfbMs)} ms); +${mib(hl1.peakRssBytes - hl1.idleRssBytes)} | — | — | — | — |`,
    "",
    "Details:",
    `- 1: verified runs ${t1.verified.runs.map((x) => f1(x.mbPerSecond)).join(", ")} MB/s; pass-through ${t1.passthrough.runs.map((x) => f1(x.mbPerSecond)).join(", ")} MB/s; CPU % of one core, verified / pass-through: wrangler proxy workerd ${f0(t1.verified.medianProxyCpuPct)} / ${f0(t1.passthrough.medianProxyCpuPct)}, bench process (upstream + client) ${f0(t1.verified.medianBenchCpuPct)} / ${f0(t1.passthrough.medianBenchCpuPct)}; same bytes: ${t1.sameBytes ? "yes" : "NO"} (${t1.carBytes} bytes)`,
    `- 1b: verified runs ${t2.verified.runs.map((x) => f1(x.mbPerSecond)).join(", ")} MB/s; pass-through ${t2.passthrough.runs.map((x) => f1(x.mbPerSecond)).join(", ")} MB/s; CPU %: proxy ${f0(t2.verified.medianProxyCpuPct)} / ${f0(t2.passthrough.medianProxyCpuPct)}, bench ${f0(t2.verified.medianBenchCpuPct)} / ${f0(t2.passthrough.medianBenchCpuPct)}; same bytes: ${t2.sameBytes ? "yes" : "NO"} (${t2.carBytes} bytes)`,
    `- 2: racing TTFB max ${f1(race.racing.max)} ms, ${race.racing.ttfbMs.filter((ms) => ms >= 250).length} of ${race.requestsPerSeries} requests ≥ 250 ms; upstream requests ${JSON.stringify(race.upstreamRequests.racing)}`,
    `- 2, next ${race.requestsPerSeries} requests of the same racing worker: p50 / p95 ${f1(race.racingLater.p50)} / ${f1(race.racingLater.p95)} ms vs fast alone ${f1(race.fastAloneLater.p50)} / ${f1(race.fastAloneLater.p95)} ms (p95 ratio ${f2(race.racingLater.p95 / race.fastAloneLater.p95)}), ${race.racingLater.ttfbMs.filter((ms) => ms >= 250).length} ≥ 250 ms; upstream requests ${JSON.stringify(race.upstreamRequests.racingLater)}`,
    `- 4: miss = R2 look-up + upstream race + verified stream + cache write; hit = one Cache API match (a byte range). Upstream requests during misses ${ec.upstreamRequests.misses}, during hits ${ec.upstreamRequests.hits}; same bytes: ${ec.sameBytes ? "yes" : "NO"}; time to the last byte p50 miss / hit ${f1(ec.missTotalP50)} / ${f1(ec.hitTotalP50)} ms; cached copy answered ${f1(ec.cachedAfterMsP50)} ms (p50) after the miss ended`,
    `- 5: TTFB p50 last / first MiB ${f1(rg.lastTtfbP50)} / ${f1(rg.firstTtfbP50)} ms; per round last MiB ${rg.last.map((x) => f0(x.totalMs)).join(", ")} ms, first MiB ${rg.first.map((x) => f0(x.totalMs)).join(", ")} ms; upstream requests per last-MiB request ${rg.last[0]!.upstreamRequests} (the first 512 bytes for the Content-Type, then the range); first MiB: ${rangeBlocks({ parents: rg.first[0]!.blocks - rg.first[0]!.leaves, leaves: rg.first[0]!.leaves })} blocks`,
    `- 6: ${hl.rows} rows (checked), ${f0(hl1.bytes / 1024)} KiB of HTML, ${hl.upstreamRequests} upstream request(s) per listing; second run ${f0(hl.runs[1]!.totalMs)} ms, +${mib(hl.runs[1]!.peakRssBytes - hl.runs[1]!.idleRssBytes)} above idle (idle ${mib(hl1.idleRssBytes)})`,
    `- 3: ${mem.samples} VmRSS samples every ${mem.intervalMs} ms; the stream ran at ${f1(mem.mbPerSecond)} MB/s; RSS 1 s after it ended ${mib(mem.afterRssBytes)}; a second stream right after peaked at ${mib(mem.secondPeakRssBytes)} (+${mib(mem.secondPeakRssBytes - mem.idleRssBytes)} above the first idle). The pass-through worker streaming the same CAR (fresh workerd): peak ${mib(memPt.peakRssBytes)}, idle ${mib(memPt.idleRssBytes)}, +${mib(memPt.aboveIdleBytes)} above idle (second stream +${mib(memPt.secondPeakRssBytes - memPt.idleRssBytes)}), at ${f1(memPt.mbPerSecond)} MB/s`,
    "",
  ];
  return lines.join("\n");
}
