import { mkdir, open, readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CID } from "multiformats/cid";
import { blockKey } from "../../gateway/blocks/block";
import { carHeader, sectionPrefix } from "../../gateway/car/car-encoder";
import { blockLinks } from "../../pinning/block-links";
import { BlockError, checkBlock } from "../../car/check-block";
import { CarSectionError, carSections } from "../../car/car-sections";
import { describeFsError } from "../../car/file-stream";
import type { OpenCar } from "../../car/open-car";
import { planSplit, writePiece, type PiecePlan } from "../../car/split-car";
import { withCar, withCarPath } from "../car-input";
import { CliFailure, UsageError } from "../cli-error";
import type { Command } from "../command";
import { parseCid, parseSize } from "../parse-values";
import { indexOf } from "./car-inspect";

/** `manifest.json` of a split (docs/cli.md): what `car merge` reads back. */
export interface SplitManifest {
  version: 1;
  source: string;
  roots: string[];
  maxSize: number;
  pieces: { file: string; roots: string[]; blocks: number; bytes: number; complete: boolean }[];
}

export const carSplit: Command = {
  name: "car split",
  summary: "cut a CAR into valid CARs under a size limit, along DAG boundaries, with a manifest",
  usage: "<car|->",
  minArgs: 1,
  maxArgs: 1,
  options: {
    "max-size": { type: "string", value: "size", description: "largest piece, e.g. 100MiB (required)" },
    output: { type: "string", short: "o", value: "dir", description: "directory for the pieces and manifest.json (default: .)" },
  },
  details:
    "Each piece is a CARv1 whose roots are the sub-DAGs it holds: whole sub-DAGs where they fit (complete: true), else a node whose children continue in the next pieces. Every block is in exactly one piece, verified as it is copied. --json: the manifest {version, source, roots, maxSize, pieces: [{file, roots, blocks, bytes, complete}]}.",
  examples: ["ipfs-kit car split big.car --max-size 100MiB -o pieces/", "ipfs-kit car merge pieces/manifest.json -o big.car"],
  async run({ args, options, out }) {
    if (options["max-size"] === undefined) throw new UsageError("--max-size is required");
    const maxSize = parseSize(String(options["max-size"]), "--max-size");
    const outDir = (options.output as string | undefined) ?? ".";
    await mkdir(outDir, { recursive: true }).catch((err: unknown) => {
      throw new CliFailure(`cannot create ${outDir}: ${describeFsError(err)}`);
    });
    // Two passes over the file: plan (links and sizes), then write the pieces through an index.
    return withCarPath(args[0]!, async (file) => {
      const plan = await withCar(file, (car) => planOrFail(car, maxSize, args[0]!));
      return withCar(file, async (car) => {
        const index = await indexOf(car);
        const stem = args[0] === "-" ? "stdin" : basename(args[0]!).replace(/\.car$/i, "");
        const manifest: SplitManifest = { version: 1, source: args[0] === "-" ? "-" : basename(args[0]!), roots: car.roots.map(String), maxSize, pieces: [] };
        const width = Math.max(3, String(plan.length).length);
        const progress = out.progress("splitting");
        for (const [i, piece] of plan.entries()) {
          const name = `${stem}-${String(i + 1).padStart(width, "0")}.car`;
          const handle = await open(join(outDir, name), "w");
          let bytes: number;
          try {
            bytes = await writePiece(index, piece, handle);
          } catch (err) {
            if (err instanceof BlockError) throw new CliFailure(`${err.message}; split stopped`, `block-${err.problem}`);
            throw err;
          } finally {
            await handle.close();
          }
          progress.add(bytes);
          manifest.pieces.push({ file: name, roots: piece.roots.map(String), blocks: piece.blocks.length, bytes, complete: piece.complete });
          out.line(`${name}\t${bytes}\t${piece.blocks.length}\t${piece.complete ? "complete" : "partial"}`);
        }
        progress.end();
        await writeJson(join(outDir, "manifest.json"), manifest);
        out.result(manifest);
        out.info(`${plan.length} piece(s) in ${outDir}, manifest ${join(outDir, "manifest.json")}`);
        return 0;
      });
    });
  },
};

async function planOrFail(car: OpenCar, maxSize: number, label: string): Promise<PiecePlan[]> {
  try {
    return await planSplit(car, maxSize);
  } catch (err) {
    if (err instanceof BlockError) throw new CliFailure(err.message, `block-${err.problem}`);
    if (err instanceof CarSectionError) throw new CliFailure(`${label}: section ${err.section}: ${err.message}`, "bad-car");
    throw err;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const handle = await open(path, "w");
  try {
    await handle.write(`${JSON.stringify(value, null, 2)}\n`);
  } finally {
    await handle.close();
  }
}

export const carMerge: Command = {
  name: "car merge",
  summary: "join CARs (or the pieces of a split manifest) into one CAR, each block once",
  usage: "<manifest.json|car...>",
  minArgs: 1,
  maxArgs: 10000,
  options: {
    output: { type: "string", short: "o", value: "out.car", description: "the merged CAR (required)" },
    root: { type: "string", multiple: true, value: "cid", description: "roots of the merged CAR (default: the manifest's, else the inputs' roots no merged block links to)" },
  },
  details: "Blocks are verified as they are copied; a repeated block is written once. --json: {output, roots, blocks, bytes, inputs}.",
  examples: ["ipfs-kit car merge pieces/manifest.json -o big.car", "ipfs-kit car merge a.car b.car -o both.car"],
  async run({ args, options, out }) {
    const output = options.output as string | undefined;
    if (!output) throw new UsageError("-o <out.car> is required");
    let inputs = args;
    let roots: CID[] | undefined = (options.root as string[] | undefined)?.map((r) => parseCid(r));
    if (args.length === 1 && args[0]!.endsWith(".json")) {
      let manifest: SplitManifest;
      try {
        manifest = JSON.parse(await readFile(args[0]!, "utf8")) as SplitManifest;
      } catch (err) {
        throw new CliFailure(`cannot read manifest ${args[0]}: ${(err as { code?: string }).code ? describeFsError(err) : "not JSON"}`, "bad-input");
      }
      if (manifest.version !== 1 || !Array.isArray(manifest.pieces)) throw new CliFailure(`${args[0]} is not an ipfs-kit split manifest (version 1)`, "bad-input");
      inputs = manifest.pieces.map((p) => resolve(dirname(args[0]!), p.file));
      roots ??= manifest.roots.map((r) => parseCid(r, "root CID in the manifest"));
    }
    if (!roots) {
      // Pass 1: the inputs' roots that no block links to.
      const candidates = new Map<string, CID>();
      const linked = new Set<string>();
      for (const input of inputs) {
        await withCar(input, async (car) => {
          for (const r of car.roots) candidates.set(blockKey(r.multihash.bytes), r);
          for await (const s of carSections(car)) for (const c of safeLinks(s.cid, s.bytes!)) linked.add(blockKey(c.multihash.bytes));
        });
      }
      roots = [...candidates].filter(([k]) => !linked.has(k)).map(([, c]) => c);
    }
    const handle = await open(output, "w").catch((err: unknown) => {
      throw new CliFailure(`cannot write ${output}: ${describeFsError(err)}`);
    });
    const seen = new Set<string>();
    let blocks = 0;
    let bytes = 0;
    try {
      const header = carHeader(roots);
      await handle.write(header, 0, header.length, 0);
      let position = header.length;
      for (const input of inputs) {
        await withCar(input, async (car) => {
          try {
            for await (const s of carSections(car)) {
              if (seen.has(s.key)) continue;
              const check = await checkBlock(s.cid, s.bytes!);
              if (check !== "ok") throw new CliFailure(`${input}: block ${s.cid} (section ${s.index}) ${check === "mismatch" ? "does not hash to its CID" : "uses a hash that cannot be verified"}; merge stopped`, `block-${check}`);
              seen.add(s.key);
              const prefix = sectionPrefix(s.cid, s.bytes!.length);
              await handle.writev([prefix, s.bytes!], position);
              position += prefix.length + s.bytes!.length;
              blocks++;
              bytes += s.bytes!.length;
            }
          } catch (err) {
            if (err instanceof CarSectionError) throw new CliFailure(`${input}: section ${err.section}: ${err.message}`, err.truncated ? "truncated-car" : "bad-car");
            throw err;
          }
        });
      }
    } finally {
      await handle.close();
    }
    out.result({ output, roots: roots.map(String), blocks, bytes, inputs: inputs.length }, roots.map(String).join("\n"));
    return 0;
  },
};

function safeLinks(cid: CID, bytes: Uint8Array): CID[] {
  try {
    return blockLinks(cid, bytes);
  } catch {
    return [];
  }
}
