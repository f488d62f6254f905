/** Rows of figure 7 (bench/figure-downloads.ts) as Markdown, each a ratio to the pass-through of the same run. */
import type { DownloadRow, DownloadsFigure } from "./figure-downloads.ts";
import { MIB } from "./stats.ts";

export const DOWNLOAD_TARGETS: Partial<Record<DownloadRow, number>> = { car: 0.55, fileMiss: 0.45, fileHit: 0.85 };

const LABELS: Record<DownloadRow, string> = {
  upstream: "upstream directly (no worker)",
  passthrough: "pass-through Worker (`new Response(upstream.body)`)",
  car: "verified CAR (`?format=car`)",
  fileMiss: "file download, edge-cache miss (copy stored meanwhile)",
  fileHit: "file download, edge-cache hit",
  rangeMiss: "`Range: bytes=0-`, not cached",
  rangeHit: "`Range: bytes=0-`, cached",
};

export function formatDownloads(f: DownloadsFigure): string {
  const pt = f.median.passthrough;
  const lines = [
    `7. Downloads of a ${(f.fileBytes / MIB).toFixed(0)} MiB file (${(f.blockBytes / 1024).toFixed(0)} KiB raw leaves), curl as client, median of ${f.rounds}:`,
    "",
    "| request | MB/s | workerd CPU | of pass-through | target | |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of Object.keys(LABELS) as DownloadRow[]) {
    const target = DOWNLOAD_TARGETS[row];
    const ratio = row === "upstream" ? "—" : (f.median[row] / pt).toFixed(2);
    const verdict = target === undefined ? "—" : f.median[row] / pt >= target ? "met" : "**missed**";
    lines.push(
      `| ${LABELS[row]} | ${f.median[row].toFixed(0)} (${f.runs[row].map((x) => x.toFixed(0)).join(", ")}) | ${row === "upstream" ? "—" : `${f.workerdCpuPct[row].toFixed(0)} %`} | ${ratio} | ${target === undefined ? "—" : `≥ ${target}`} | ${verdict} |`,
    );
  }
  lines.push("");
  return lines.join("\n");
}
