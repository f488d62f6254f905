import { lstat, open, opendir } from "node:fs/promises";
import { basename, join } from "node:path";
import * as UnixFS from "@ipld/unixfs";

type Link = Awaited<ReturnType<ReturnType<typeof UnixFS.createFileWriter>["close"]>> | Awaited<ReturnType<ReturnType<typeof UnixFS.createDirectoryWriter>["close"]>>;
import { withMaxChunkSize } from "@ipld/unixfs/file/chunker/fixed";
import { withWidth } from "@ipld/unixfs/file/layout/balanced";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { CarInputError, describeFsError } from "./file-stream";
import { ChunkPool, packPooledRawFile } from "./pooled-file-pack";

/**
 * UnixFS import options. The defaults are `ipfs-car pack`'s (ipfs-car 3,
 * `@ipld/unixfs`): CIDv1, raw leaves, 1 MiB chunks, balanced layout of 1024
 * links per node, a directory is sharded (HAMT, fanout 256) above 1000 entries.
 */
export interface PackOptions {
  chunkSize: number;
  maxLinks: number;
  /** CIDv0: dag-pb everywhere (UnixFS leaves, no raw leaves), as `ipfs add` without --cid-version. */
  cidVersion: 0 | 1;
  /** Wrap the input in a directory (a single file becomes an entry of it). */
  wrap: boolean;
  /** Directories with more entries than this become HAMT shards. */
  shardThreshold: number;
  /** Include names starting with "." (ipfs-car --hidden). */
  hidden: boolean;
}

export const DEFAULT_PACK: PackOptions = { chunkSize: 1024 * 1024, maxLinks: 1024, cidVersion: 1, wrap: false, shardThreshold: 1000, hidden: false };

/**
 * Receives each block. `bytes` may be a pooled chunk buffer that is refilled
 * as soon as the returned promise resolves: write it out (or copy it) before
 * resolving, never keep a reference.
 */
export type EmitBlock = (cid: CID, bytes: Uint8Array) => Promise<void>;

export interface PackEvents {
  onBytes?: (n: number) => void;
  /** Something skipped (a symlink, a special file), one line. */
  onSkip?: (message: string) => void;
}

/**
 * Imports a file, a directory tree or a stream as UnixFS, giving each block
 * to `emit` as it is made (leaves first, the root last) with backpressure:
 * at most a few blocks are in flight. Returns the root.
 */
export async function packUnixfs(input: string | ReadableStream<Uint8Array>, options: PackOptions, emit: EmitBlock, events: PackEvents = {}): Promise<CID> {
  const settings = UnixFS.configure({
    fileChunkEncoder: options.cidVersion === 1 ? raw : UnixFS.UnixFSLeaf,
    smallFileEncoder: options.cidVersion === 1 ? raw : UnixFS.UnixFSLeaf,
    chunker: withMaxChunkSize(options.chunkSize),
    fileLayout: withWidth(options.maxLinks),
    ...(options.cidVersion === 0 ? { linker: { createLink: (_code: number, digest: never) => CID.createV0(digest) } } : {}),
  } as never);
  const { readable, writable } = new TransformStream<UnixFS.Block, UnixFS.Block>({}, UnixFS.withCapacity(4 * options.chunkSize + 1024 * 1024));
  const fs = UnixFS.createWriter({ writable, settings });
  // Raw-leaf files (CIDv1, the default) are chunked into these 4 buffers and
  // each goes back to the pool once its block is emitted (see pooled-file-pack.ts).
  const pool = options.cidVersion === 1 ? new ChunkPool(4, options.chunkSize) : undefined;
  const ctx: FileContext = { fs, options, pool, events };

  const build = (async () => {
    let link: Link;
    if (typeof input !== "string") {
      link = await packStream(fs, input, events);
    } else {
      const stat = await statInput(input);
      if (stat.isDirectory()) link = await packDirectory(ctx, input);
      else if (stat.isFile()) link = await packFile(ctx, input);
      else throw new CarInputError(`${input} is neither a file nor a directory`);
      if (options.wrap) {
        const dir = UnixFS.createDirectoryWriter(fs);
        dir.set(basename(input), link as never);
        link = await dir.close();
      }
    }
    await fs.close();
    return link.cid as unknown as CID;
  })();
  build.catch((err: unknown) => void Promise.resolve(fs.writer.abort(err as Error)).catch(() => undefined));

  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    await emit(CID.asCID(value.cid)!, value.bytes);
    pool?.release(value.bytes);
  }
  return build;
}

async function statInput(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    throw new CarInputError(`cannot read ${path}: ${describeFsError(err)}`);
  }
}

async function packStream(fs: UnixFS.View, stream: ReadableStream<Uint8Array>, events: PackEvents): Promise<Link> {
  const file = UnixFS.createFileWriter(fs);
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    events.onBytes?.(value.length);
    await file.write(value);
  }
  return file.close();
}

interface FileContext {
  fs: UnixFS.View;
  options: PackOptions;
  pool: ChunkPool | undefined;
  events: PackEvents;
}

/** Hands a block to the UnixFS writable as @ipld/unixfs does (file/writer.js writeBlock): waits while it is full. */
async function writeBlock(fs: UnixFS.View, block: UnixFS.Block): Promise<void> {
  if ((fs.writer.desiredSize ?? 0) <= 0) await fs.writer.ready;
  void Promise.resolve(fs.writer.write(block)).catch(() => undefined);
}

async function packFile({ fs, options, pool, events }: FileContext, path: string): Promise<Link> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    throw new CarInputError(`cannot read ${path}: ${describeFsError(err)}`);
  }
  try {
    if (pool) return (await packPooledRawFile(handle, options.chunkSize, options.maxLinks, pool, (block) => writeBlock(fs, block as never), events.onBytes)) as unknown as Link;
    const file = UnixFS.createFileWriter(fs);
    const buffer = new Uint8Array(1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      events.onBytes?.(bytesRead);
      // The writer keeps the bytes it is given until its chunk is full: give it a copy.
      await file.write(buffer.slice(0, bytesRead));
    }
    return await file.close();
  } finally {
    await handle.close();
  }
}

/** A directory: entries in name order (code unit order, as ipfs-car sorts), sharded above the threshold. */
async function packDirectory(ctx: FileContext, path: string): Promise<Link> {
  const { fs, options, events } = ctx;
  const names: string[] = [];
  try {
    for await (const entry of await opendir(path)) {
      if (!options.hidden && entry.name.startsWith(".")) continue;
      names.push(entry.name);
    }
  } catch (err) {
    throw new CarInputError(`cannot read directory ${path}: ${describeFsError(err)}`);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const links: [string, Link][] = [];
  for (const name of names) {
    const child = join(path, name);
    const stat = await statInput(child);
    if (stat.isDirectory()) links.push([name, await packDirectory(ctx, child)]);
    else if (stat.isFile()) links.push([name, await packFile(ctx, child)]);
    else events.onSkip?.(`skipped ${child}: ${stat.isSymbolicLink() ? "a symlink" : "not a regular file"}`);
  }
  const dir = links.length > options.shardThreshold ? UnixFS.createShardedDirectoryWriter(fs) : UnixFS.createDirectoryWriter(fs);
  for (const [name, link] of links) dir.set(name, link as never);
  return dir.close();
}
