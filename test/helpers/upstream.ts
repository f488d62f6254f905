/**
 * Test-side control of the local upstream gateway (runs inside workerd):
 * add blocks to it (CARs, DAGs built on the fly with the real UnixFS
 * importer, dag-cbor/dag-json nodes), read and reset its request log.
 * Also re-exports the worker-calling helpers so a test needs one import.
 */
import * as dagCbor from "@ipld/dag-cbor";
import * as dagJson from "@ipld/dag-json";
import { importer, type ImportCandidate, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced, flat, trickle } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { encodeCar, type CarBlock } from "../servers/car-encode";
import type { RequestLogEntry } from "../servers/request-log";
import { upstreamBase } from "./upstream-url";

export { upstreamBase, upstreamUrl, uniquePersonality } from "./upstream-url";
export { fetchWorker, withUpstreams, GATEWAY_ORIGIN, type WorkerWithUpstreams } from "./worker";
export { carBlocks, parseCar, type CarContents } from "./car";
export type { CarBlock } from "../servers/car-encode";
export type { RequestLogEntry } from "../servers/request-log";

/** Adds a CARv1 to the upstream's block store. */
export async function putCar(bytes: Uint8Array): Promise<void> {
  const response = await fetch(`${upstreamBase()}/__blocks`, { method: "PUT", body: bytes });
  if (!response.ok) throw new Error(`PUT /__blocks: ${response.status} ${await response.text()}`);
}

export async function putBlocks(blocks: CarBlock[]): Promise<void> {
  const first = blocks[0];
  if (!first) return;
  await putCar(encodeCar([first.cid], blocks));
}

/** Requests the upstream received for `personality` since the last reset. */
export async function requestLog(personality: string): Promise<RequestLogEntry[]> {
  const response = await fetch(`${upstreamBase()}/__log?personality=${encodeURIComponent(personality)}`);
  if (!response.ok) throw new Error(`GET /__log: ${response.status}`);
  return response.json();
}

/** Clears the request log of one personality, or all of it (blocks stay). */
export async function resetLog(personality?: string): Promise<void> {
  const query = personality === undefined ? "" : `?personality=${encodeURIComponent(personality)}`;
  const response = await fetch(`${upstreamBase()}/__reset${query}`, { method: "POST" });
  if (!response.ok) throw new Error(`POST /__reset: ${response.status}`);
  await response.arrayBuffer();
}

/** Collects the importer's blocks in the order it writes them. */
class CollectingBlockstore {
  readonly blocks: CarBlock[] = [];
  readonly #seen = new Set<string>();

  async put(cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    let data: Uint8Array;
    if (bytes instanceof Uint8Array) {
      data = bytes;
    } else {
      const parts: Uint8Array[] = [];
      for await (const part of bytes) parts.push(part);
      data = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of parts) {
        data.set(part, offset);
        offset += part.length;
      }
    }
    const key = cid.toString();
    if (!this.#seen.has(key)) {
      this.#seen.add(key);
      this.blocks.push({ cid, bytes: data });
    }
    return cid;
  }
}

export interface ImportOptions {
  /** Fixed-size chunker, bytes (default 262144 as Kubo). */
  chunkSize?: number;
  /** Leaves as raw blocks (default true, as CIDv1 imports in Kubo). */
  rawLeaves?: boolean;
  cidVersion?: 0 | 1;
  layout?: "balanced" | "trickle" | "flat";
  /** Children per internal node of the file DAG (default 174). */
  maxChildrenPerNode?: number;
  /** Directories bigger than this become HAMT shards (importer default 262144). */
  shardSplitThresholdBytes?: number;
}

function importerOptions(options: ImportOptions): ImporterOptions {
  const layoutOptions = options.maxChildrenPerNode === undefined ? {} : { maxChildrenPerNode: options.maxChildrenPerNode };
  const layout =
    options.layout === "trickle" ? trickle(layoutOptions) : options.layout === "flat" ? flat() : balanced(layoutOptions);
  return {
    chunker: fixedSize({ chunkSize: options.chunkSize ?? 262_144 }),
    rawLeaves: options.rawLeaves ?? true,
    cidVersion: options.cidVersion ?? 1,
    layout,
    ...(options.shardSplitThresholdBytes === undefined ? {} : { shardSplitThresholdBytes: options.shardSplitThresholdBytes }),
  };
}

export interface ImportedDag {
  /** Root CID. */
  cid: CID;
  /** Every block of the DAG, in the order the importer wrote them (leaves first). */
  blocks: CarBlock[];
}

/** Imports `bytes` as a UnixFS file with the real importer and uploads its blocks to the upstream. */
export async function importFile(bytes: Uint8Array, options: ImportOptions = {}): Promise<ImportedDag> {
  const store = new CollectingBlockstore();
  let root: CID | undefined;
  for await (const entry of importer([{ content: bytes }], store, importerOptions(options))) root = entry.cid;
  if (!root) throw new Error("importer produced no root");
  await putBlocks(store.blocks);
  return { cid: root, blocks: store.blocks };
}

/** A file (`content`) or an empty directory (no `content`) at `path` inside the imported directory. */
export interface DirectoryEntry {
  path: string;
  content?: Uint8Array;
}

export interface ImportedDirectory extends ImportedDag {
  /** CID of every entry by its path (directories included). */
  paths: Map<string, CID>;
}

/**
 * Imports `entries` wrapped in one directory (UnixFS; set a small
 * `shardSplitThresholdBytes` to get HAMT-sharded directories) and uploads it.
 */
export async function importDirectory(entries: DirectoryEntry[], options: ImportOptions = {}): Promise<ImportedDirectory> {
  const store = new CollectingBlockstore();
  const candidates: ImportCandidate[] = entries.map((entry) =>
    entry.content === undefined ? { path: entry.path } : { path: entry.path, content: entry.content },
  );
  const paths = new Map<string, CID>();
  let root: CID | undefined;
  for await (const entry of importer(candidates, store, { ...importerOptions(options), wrapWithDirectory: true })) {
    paths.set(entry.path ?? "", entry.cid);
    root = entry.cid;
  }
  if (!root) throw new Error("importer produced no root");
  await putBlocks(store.blocks);
  return { cid: root, blocks: store.blocks, paths };
}

async function putEncoded(code: number, bytes: Uint8Array): Promise<CarBlock> {
  const block = { cid: CID.createV1(code, await sha256.digest(bytes)), bytes };
  await putBlocks([block]);
  return block;
}

/** Encodes `value` as dag-cbor (sha2-256, CIDv1) and uploads it. */
export function putDagCbor(value: unknown): Promise<CarBlock> {
  return putEncoded(dagCbor.code, dagCbor.encode(value));
}

/** Encodes `value` as dag-json (sha2-256, CIDv1) and uploads it. */
export function putDagJson(value: unknown): Promise<CarBlock> {
  return putEncoded(dagJson.code, dagJson.encode(value));
}
