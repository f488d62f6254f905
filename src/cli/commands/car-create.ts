import { createReadStream } from "node:fs";
import { open, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { CID } from "multiformats/cid";
import { CarFileWriter, placeholderRoot } from "../../car/car-file-writer";
import { stdinByteStream, describeFsError } from "../../car/file-stream";
import { DEFAULT_PACK, packUnixfs, type PackOptions } from "../../car/unixfs-pack";
import { CliFailure, UsageError } from "../cli-error";
import type { Command, OptionValues } from "../command";
import type { Output } from "../output";
import { parseInteger, parseSize } from "../parse-values";
import { withTempDir } from "../temp-dir";

export const packOptions = {
  "chunk-size": { type: "string", value: "size", description: "chunk size of files (default 1MiB)" },
  "max-links": { type: "string", value: "n", description: "links per file node, balanced layout (default 1024, as ipfs-car; `ipfs add` uses 174)" },
  "cid-version": { type: "string", value: "0|1", description: "CIDv1 with raw leaves (default) or CIDv0 (dag-pb leaves)" },
  wrap: { type: "boolean", description: "wrap the input in a directory (a file becomes its only entry)" },
  "shard-threshold": { type: "string", value: "n", description: "directories with more entries become HAMT shards (default 1000, as ipfs-car)" },
  hidden: { type: "boolean", short: "H", description: "include names starting with \".\"" },
} as const;

export function readPackOptions(o: OptionValues): PackOptions {
  const cidVersion = o["cid-version"] === undefined ? 1 : parseInteger(String(o["cid-version"]), "--cid-version", 0, 1);
  return {
    chunkSize: o["chunk-size"] === undefined ? DEFAULT_PACK.chunkSize : checkChunk(String(o["chunk-size"])),
    maxLinks: o["max-links"] === undefined ? DEFAULT_PACK.maxLinks : parseInteger(String(o["max-links"]), "--max-links", 2, 65536),
    cidVersion: cidVersion as 0 | 1,
    wrap: o.wrap === true,
    shardThreshold: o["shard-threshold"] === undefined ? DEFAULT_PACK.shardThreshold : parseInteger(String(o["shard-threshold"]), "--shard-threshold", 1, 1e9),
    hidden: o.hidden === true,
  };
}

function checkChunk(text: string): number {
  const n = parseSize(text, "--chunk-size");
  if (n > 1024 * 1024 * 2 - 1024) throw new UsageError("--chunk-size: at most 2MiB minus 1KiB (blocks above 2 MiB are refused by gateways)");
  return n;
}

export interface CreatedCar {
  root: CID;
  blocks: number;
  bytes: number;
  carBytes: number;
}

/** Packs `input` (a path, or "-" for stdin) into a CARv1 file at `path`. */
export async function createCarFile(input: string, path: string, options: PackOptions, out: Output): Promise<CreatedCar> {
  let total: number | undefined;
  if (input !== "-") total = await sizeOf(input);
  const handle = await open(path, "w").catch((err: unknown) => {
    throw new CliFailure(`cannot write ${path}: ${describeFsError(err)}`);
  });
  const progress = out.progress("packing", total);
  try {
    const writer = await CarFileWriter.start(handle, [placeholderRoot(options.cidVersion)]);
    const root = await packUnixfs(input === "-" ? stdinByteStream() : input, options, (cid, bytes) => writer.write(cid, bytes), {
      onBytes: (n) => progress.add(n),
      onSkip: (m) => out.info(m),
    });
    await writer.finish([root]);
    progress.end();
    return { root, blocks: writer.blocks, bytes: writer.bytes, carBytes: writer.position };
  } catch (err) {
    // No half-written CAR is left behind.
    await handle.close();
    await unlink(path).catch(() => undefined);
    throw err;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Total bytes of regular files under `path` (for the progress bar); undefined if unknown. */
async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

export const carCreate: Command = {
  name: "car create",
  summary: "pack a file, a directory or stdin into a CAR (UnixFS, CIDs equal to ipfs-car pack)",
  usage: "<file|dir|->",
  minArgs: 1,
  maxArgs: 1,
  options: { output: { type: "string", short: "o", value: "out.car", description: "write the CAR there (default: stdout)" }, ...packOptions },
  details: "The root CID is printed on stderr (stdout with -o). Defaults are ipfs-car's: CIDv1, raw leaves, 1 MiB chunks, 1024 links per node, HAMT above 1000 entries. Symlinks and special files in a tree are skipped (said on stderr). --json needs -o: {root, blocks, bytes, carBytes, output}.",
  examples: ["ipfs-kit car create photo.jpg -o photo.car", "ipfs-kit car create ./site --wrap -o site.car", "tar c dir | ipfs-kit car create - > dir.tar.car", "ipfs-kit car create big.iso --chunk-size 256KiB --max-links 174 -o big.car"],
  async run({ args, options, out }) {
    const input = args[0]!;
    const pack = readPackOptions(options);
    if (input === "-" && pack.wrap) throw new UsageError("--wrap needs a named input: stdin has no name to wrap it under");
    const output = options.output as string | undefined;
    if (output === undefined && out.json) throw new UsageError("--json writes its result on stdout: give the CAR a file with -o");
    if (output === undefined && process.stdout.isTTY) throw new UsageError("refusing to write a binary CAR to a terminal: use -o out.car or a pipe");
    if (output !== undefined) {
      const made = await createCarFile(input, output, pack, out);
      out.result({ root: made.root.toString(), blocks: made.blocks, bytes: made.bytes, carBytes: made.carBytes, output }, made.root.toString());
      return 0;
    }
    // stdout cannot be rewound to fix the header's root: build the CAR in a temporary file, then copy it out.
    return withTempDir(async (dir) => {
      const file = join(dir, "out.car");
      const made = await createCarFile(input, file, pack, out);
      await pipeline(createReadStream(file), process.stdout, { end: false });
      out.info(made.root.toString());
      return 0;
    });
  },
};
