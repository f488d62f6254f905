/**
 * DAGs to replicate, built in the test (no R2): a `DagToStore` whose
 * `car(fromByte)` streams an exact CARv1 (root the only header root, blocks
 * depth-first, each once) and records every call, so tests can assert what
 * a resumed upload asked for.
 *
 * - `unixfsDagToStore`: a UnixFS file imported with the real importer (blocks in memory; small).
 * - `syntheticDagToStore`: a UnixFS file of `leaves` raw leaves of `leafSize`
 *   pseudo-random bytes each, generated on the fly (never held whole): for
 *   tens of MiB without tens of MiB in memory.
 */
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { varint } from "multiformats";
import type { DagToStore } from "../../src/backends/replication-backend";
import { pseudoRandomBytes } from "../helpers/pseudo-random";
import { unixfsDag } from "../pinning/helpers";
import { carHeader, carSection, encodeCar, type CarBlock } from "../servers/car-encode";

const RAW = 0x55;

export interface TestDag extends DagToStore {
  /** Every `fromByte` `car()` was called with, in order. */
  carCalls: number[];
  blockList?: CarBlock[];
}

/** A small UnixFS file (`size` pseudo-random bytes, 1 KiB chunks) and its exact CAR in memory. */
export async function unixfsDagToStore(size: number, seed: number): Promise<TestDag & { carBytes: Uint8Array; blockList: CarBlock[] }> {
  const { root, blocks } = await unixfsDag(pseudoRandomBytes(size, seed), 1024);
  const byCid = new Map(blocks.map((b) => [b.cid.toString(), b]));
  const ordered: CarBlock[] = [];
  const seen = new Set<string>();
  const visit = (cid: CID): void => {
    const block = byCid.get(cid.toString());
    if (block === undefined || seen.has(cid.toString())) return;
    seen.add(cid.toString());
    ordered.push(block);
    if (cid.code === dagPb.code) for (const link of dagPb.decode(block.bytes).Links) visit(link.Hash);
  };
  visit(root);
  const carBytes = encodeCar([root], ordered);
  const carCalls: number[] = [];
  return {
    root,
    blocks: ordered.length,
    dagSize: ordered.reduce((n, b) => n + b.bytes.length, 0),
    carSize: carBytes.length,
    meta: {},
    gatewayUrl: "https://edge.test", account: "test-account",
    carBytes,
    blockList: ordered,
    carCalls,
    car(fromByte = 0) {
      carCalls.push(fromByte);
      // Two chunks, so consumers see a stream, not one buffer.
      const rest = carBytes.subarray(fromByte);
      const half = Math.floor(rest.length / 2);
      return new ReadableStream({
        start(controller) {
          if (half > 0) controller.enqueue(rest.slice(0, half));
          controller.enqueue(rest.slice(half));
          controller.close();
        },
      });
    },
  };
}

/** The bytes of leaf `i` of a synthetic DAG. */
function leafBytes(seed: number, i: number, leafSize: number): Uint8Array {
  return pseudoRandomBytes(leafSize, seed * 100_003 + i + 1);
}

/** A UnixFS file of `leaves` raw leaves of `leafSize` bytes, generated while streaming. */
export async function syntheticDagToStore(leaves: number, leafSize: number, seed: number): Promise<TestDag> {
  const leafCids: CID[] = [];
  for (let i = 0; i < leaves; i++) leafCids.push(CID.createV1(RAW, await sha256.digest(leafBytes(seed, i, leafSize))));
  const file = new UnixFS({ type: "file", blockSizes: leafCids.map(() => BigInt(leafSize)) });
  const rootBytes = dagPb.encode(dagPb.prepare({ Data: file.marshal(), Links: leafCids.map((Hash) => ({ Hash, Tsize: leafSize })) }));
  const root = CID.createV1(dagPb.code, await sha256.digest(rootBytes));
  const header = carHeader([root]);
  const rootSection = carSection({ cid: root, bytes: rootBytes });
  const leafSectionLength = (cid: CID) => varint.encodingLength(cid.bytes.length + leafSize) + cid.bytes.length + leafSize;
  const sectionStarts: number[] = [];
  let offset = header.length + rootSection.length;
  for (const cid of leafCids) {
    sectionStarts.push(offset);
    offset += leafSectionLength(cid);
  }
  const carSize = offset;
  const carCalls: number[] = [];
  return {
    root,
    blocks: leaves + 1,
    dagSize: rootBytes.length + leaves * leafSize,
    carSize,
    meta: {},
    gatewayUrl: "https://edge.test", account: "test-account",
    carCalls,
    car(fromByte = 0) {
      carCalls.push(fromByte);
      const head = new Uint8Array(header.length + rootSection.length);
      head.set(header, 0);
      head.set(rootSection, header.length);
      let next = sectionStarts.findIndex((start, i) => fromByte < start + leafSectionLength(leafCids[i]!));
      let skip = fromByte;
      return new ReadableStream<Uint8Array>({
        start(controller) {
          if (fromByte < head.length) {
            controller.enqueue(head.slice(fromByte));
            skip = 0;
          } else {
            skip = fromByte - sectionStarts[next]!;
          }
        },
        pull(controller) {
          if (next === -1 || next >= leaves) return controller.close();
          const section = carSection({ cid: leafCids[next]!, bytes: leafBytes(seed, next, leafSize) });
          controller.enqueue(skip > 0 ? section.subarray(skip) : section);
          skip = 0;
          next++;
        },
      }, { highWaterMark: 0 });
    },
  };
}

/** SHA-256 (hex) of a stream, read chunk by chunk. */
export async function streamSha256(stream: ReadableStream<Uint8Array>): Promise<{ hex: string; bytes: number }> {
  const digest = new crypto.DigestStream("SHA-256");
  let bytes = 0;
  await stream.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ transform(chunk, c) { bytes += chunk.length; c.enqueue(chunk); } })).pipeTo(digest);
  return { hex: hex(new Uint8Array(await digest.digest)), bytes };
}

export function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
