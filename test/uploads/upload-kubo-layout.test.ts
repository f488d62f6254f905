/**
 * A raw-file upload (POST /api/v1/upload, non-CAR body) of more than 174
 * chunks has the CID of Kubo's `ipfs add --cid-version=1 --raw-leaves
 * --chunker=size-1048576` (balanced layout, 174 links per node), which
 * ipfs-unixfs-importer computes with those parameters; and not the CID of
 * the 1024-links layout `ipfs-car pack` uses (its unixfs.js: `fileLayout:
 * withWidth(1024)`), computed the same way with 1024. The
 * upload route's chunk size is fixed (1 MiB, UPLOAD_CHUNK_BYTES), so the
 * file is 177 chunks (~176 MiB), streamed: neither side holds it whole.
 */
import * as dagPb from "@ipld/dag-pb";
import { env } from "cloudflare:workers";
import { UnixFS } from "ipfs-unixfs";
import { importer, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";
import { describe, expect, it } from "vitest";
import { blockKey } from "../../src/backends/r2-block-store";
import { UPLOAD_CHUNK_BYTES } from "../../src/uploads/routes";
import { call, newAccount, pseudoRandomBytes } from "../pinning/helpers";

const MIB = 1024 * 1024;
const FULL_CHUNKS = 176;
const TAIL = 12_345;
const LENGTH = FULL_CHUNKS * MIB + TAIL;
const BASE = pseudoRandomBytes(MIB, 174);

/** The file, 1 MiB at a time: each chunk is BASE with its index in its first 4 bytes (distinct leaves), then a short tail. */
function* fileChunks(): Generator<Uint8Array> {
  for (let i = 0; i < FULL_CHUNKS; i++) {
    const chunk = BASE.slice();
    new DataView(chunk.buffer).setUint32(0, i);
    yield chunk;
  }
  yield BASE.slice(0, TAIL);
}

function fileStream(): ReadableStream<Uint8Array> {
  const chunks = fileChunks();
  return new ReadableStream({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

async function importerCid(maxChildrenPerNode: number): Promise<string> {
  const sink = { put: async (cid: unknown) => cid };
  const options: Partial<ImporterOptions> = { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: MIB }), layout: balanced({ maxChildrenPerNode }) };
  let root = "";
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for await (const entry of importer([{ content: fileChunks() }], sink as any, options)) root = entry.cid.toString();
  return root;
}

describe("POST /api/v1/upload of a file over 174 chunks", () => {
  it("has Kubo's CID (174 links per node), not the 1024-links CID of ipfs-car", { timeout: 300_000 }, async () => {
    expect(UPLOAD_CHUNK_BYTES).toBe(MIB);
    const kubo = await importerCid(174);
    const ipfsCar = await importerCid(1024);
    expect(ipfsCar).not.toBe(kubo);

    const { token } = await newAccount();
    const res = await call("POST", "/api/v1/upload?name=big.bin", { token, body: fileStream(), headers: { "Content-Type": "application/octet-stream" } });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    const body = JSON.parse(text) as { cid: string; dag_size: number };
    expect(body.cid).toBe(kubo);
    // 177 raw leaves + 2 parents (174 and 3 links) + the root over them: the root has exactly 2 links.
    const object = await env.BLOCKS.get(blockKey(CID.parse(body.cid)));
    expect(object).not.toBeNull();
    const rootBytes = new Uint8Array(await object!.arrayBuffer());
    const node = dagPb.decode(rootBytes);
    expect(node.Links).toHaveLength(2);
    expect(UnixFS.unmarshal(node.Data!).blockSizes).toEqual([174n * BigInt(MIB), 2n * BigInt(MIB) + BigInt(TAIL)]);
    // dag_size: every block once, the root plus the Tsize of its two subtrees.
    expect(body.dag_size).toBe(rootBytes.length + node.Links.reduce((n, l) => n + l.Tsize!, 0));
  });
});
