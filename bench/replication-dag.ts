/**
 * A synthetic UnixFS file for the replication bench, generated inside the
 * worker while streaming (never held whole): `leaves` raw leaves of
 * `leafSize` bytes (each distinct: its index in its first 8 bytes, a fill
 * byte after), one dag-pb root linking them. `car()` yields the exact CARv1
 * (root first) the engine's `DagToStore` would, section by section.
 */
import * as dagPb from "@ipld/dag-pb";
import * as dagCbor from "@ipld/dag-cbor";
import { UnixFS } from "ipfs-unixfs";
import { varint } from "multiformats";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import type { DagToStore } from "../src/backends/replication-backend";

function leafBytes(i: number, leafSize: number): Uint8Array {
  const bytes = new Uint8Array(leafSize).fill((i * 31 + 7) & 0xff);
  new DataView(bytes.buffer).setFloat64(0, i);
  return bytes;
}

function section(cid: CID, bytes: Uint8Array): Uint8Array {
  const length = cid.bytes.length + bytes.length;
  const out = new Uint8Array(varint.encodingLength(length) + length);
  varint.encodeTo(length, out, 0);
  out.set(cid.bytes, varint.encodingLength(length));
  out.set(bytes, varint.encodingLength(length) + cid.bytes.length);
  return out;
}

export async function syntheticDag(leaves: number, leafSize: number): Promise<DagToStore> {
  const leafCids: CID[] = [];
  for (let i = 0; i < leaves; i++) leafCids.push(CID.createV1(0x55, await sha256.digest(leafBytes(i, leafSize))));
  const file = new UnixFS({ type: "file", blockSizes: leafCids.map(() => BigInt(leafSize)) });
  const rootBytes = dagPb.encode(dagPb.prepare({ Data: file.marshal(), Links: leafCids.map((Hash) => ({ Hash, Tsize: leafSize })) }));
  const root = CID.createV1(dagPb.code, await sha256.digest(rootBytes));
  const headerBody = dagCbor.encode({ version: 1, roots: [root] });
  const header = new Uint8Array(varint.encodingLength(headerBody.length) + headerBody.length);
  varint.encodeTo(headerBody.length, header, 0);
  header.set(headerBody, varint.encodingLength(headerBody.length));
  const head = new Uint8Array([...header, ...section(root, rootBytes)]);
  const leafSection = varint.encodingLength(leafCids[0]!.bytes.length + leafSize) + leafCids[0]!.bytes.length + leafSize;
  const carSize = head.length + leaves * leafSection;
  return {
    root,
    blocks: leaves + 1,
    dagSize: rootBytes.length + leaves * leafSize,
    carSize,
    meta: {},
    gatewayUrl: "http://127.0.0.1", account: "test-account",
    car(fromByte = 0) {
      let next = fromByte < head.length ? 0 : Math.floor((fromByte - head.length) / leafSection);
      let skip = fromByte < head.length ? 0 : fromByte - head.length - next * leafSection;
      return new ReadableStream<Uint8Array>(
        {
          start(controller) {
            if (fromByte < head.length) controller.enqueue(head.slice(fromByte));
          },
          pull(controller) {
            if (next >= leaves) return controller.close();
            const bytes = section(leafCids[next]!, leafBytes(next, leafSize));
            controller.enqueue(skip > 0 ? bytes.subarray(skip) : bytes);
            skip = 0;
            next++;
          },
        },
        { highWaterMark: 0 },
      );
    },
  };
}
