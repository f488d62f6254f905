/**
 * Figure 5: a Range request for the last 1 MiB of a 1 GiB UnixFS file
 * (1 MiB leaves, balanced, 174 links per node: root → 6 parents → 1024
 * leaves) against a Range request for its first 1 MiB, on the same gateway:
 * time, and which blocks the upstream had to send. The upstream server reads
 * a block only to send it, so counting the reads of the file's block getter
 * counts the blocks sent. Target: the leaves covering the range plus the
 * path to them (root, one parent, one leaf). Without a file name whose
 * extension gives the Content-Type, the gateway first sniffs the first 512
 * bytes (handlers/unixfs-file.ts), a request of its own for root, first
 * parent and first leaf: the figure shows both.
 */
import { CID } from "multiformats/cid";
import { timedGet } from "./http-get.ts";
import { median } from "./stats.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export interface BlockCounter {
  reset(): void;
  /** CIDs read since the last reset, in order (repeats included). */
  read(): string[];
}

export interface RangeRun {
  ttfbMs: number;
  totalMs: number;
  /** Blocks the upstream sent for this request (repeats included), and how many of them were leaves. */
  blocks: number;
  leaves: number;
  upstreamRequests: number;
}

export interface RangeFigure {
  fileBytes: number;
  blockBytes: number;
  rangeBytes: number;
  rounds: number;
  last: RangeRun[];
  first: RangeRun[];
  lastTtfbP50: number;
  lastTotalP50: number;
  firstTtfbP50: number;
  firstTotalP50: number;
  /** lastTotalP50 / firstTotalP50. */
  ratioTotal: number;
  /** Blocks sent for one last-MiB request (first round), parents and leaves. */
  lastBlocks: { parents: number; leaves: number };
  /** The same with `?filename=big.mp4` (the type comes from the extension: no sniffing). */
  lastBlocksNamed: { parents: number; leaves: number };
}

const isLeaf = (cid: string) => CID.parse(cid).code === 0x55;

async function run(worker: WranglerDev, file: SyntheticFile, from: number, to: number, counter: BlockCounter, requests: () => number, query = ""): Promise<RangeRun> {
  counter.reset();
  const before = requests();
  const res = await timedGet(`${worker.url}/ipfs/${file.root}${query}`, { Range: `bytes=${from}-${to}` }, { timeoutMs: 60_000 });
  if (res.status !== 206 || res.error || res.bytes !== to - from + 1) throw new Error(`${worker.name}: Range ${from}-${to}: ${res.status}, ${res.bytes} bytes${res.error ? `, ${res.error}` : ""}`);
  const read = counter.read();
  return { ttfbMs: res.ttfbMs, totalMs: res.totalMs, blocks: read.length, leaves: read.filter(isLeaf).length, upstreamRequests: requests() - before };
}

export async function rangeAtTheEnd(worker: WranglerDev, file: SyntheticFile, counter: BlockCounter, requests: () => number, rounds: number): Promise<RangeFigure> {
  const size = 1024 * 1024;
  const lastFrom = file.size - size;
  const last: RangeRun[] = [];
  const first: RangeRun[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so neither always runs on a warmer worker.
    if (i % 2 === 0) {
      last.push(await run(worker, file, lastFrom, file.size - 1, counter, requests));
      first.push(await run(worker, file, 0, size - 1, counter, requests));
    } else {
      first.push(await run(worker, file, 0, size - 1, counter, requests));
      last.push(await run(worker, file, lastFrom, file.size - 1, counter, requests));
    }
  }
  const named = await run(worker, file, lastFrom, file.size - 1, counter, requests, "?filename=big.mp4");
  const lastTotalP50 = median(last.map((r) => r.totalMs));
  const firstTotalP50 = median(first.map((r) => r.totalMs));
  return {
    fileBytes: file.size,
    blockBytes: file.chunkSize,
    rangeBytes: size,
    rounds,
    last,
    first,
    lastTtfbP50: median(last.map((r) => r.ttfbMs)),
    lastTotalP50,
    firstTtfbP50: median(first.map((r) => r.ttfbMs)),
    firstTotalP50,
    ratioTotal: lastTotalP50 / firstTotalP50,
    lastBlocks: { parents: last[0]!.blocks - last[0]!.leaves, leaves: last[0]!.leaves },
    lastBlocksNamed: { parents: named.blocks - named.leaves, leaves: named.leaves },
  };
}
