import type { CID } from "multiformats/cid";
import { carHeader, sectionPrefix } from "../gateway/car/car-encoder";
import { encodeVarint } from "../gateway/car/varint";
import { readR2Block, walkR2Dag } from "./r2-dag-walk";

/** What one measuring pass over R2 finds: the exact CAR length and the DAG's totals. */
export type DagMeasure = { carSize: number; dagSize: number; blocks: number };

/**
 * The exact byte length of the CARv1 `dagCar` yields, by one walk over R2
 * that reads dag-pb/dag-cbor nodes (their links are needed) and only HEADs
 * raw leaves: header + Σ varint(len(cid)+len(block)) + len(cid) + len(block).
 */
export async function measureDagCar(bucket: R2Bucket, root: CID): Promise<DagMeasure> {
  let carSize = carHeader([root]).length;
  let dagSize = 0;
  let blocks = 0;
  for await (const block of walkR2Dag(bucket, root, () => false)) {
    const cid = sectionCid(block.cid, root);
    const length = cid.bytes.length + block.size;
    carSize += encodeVarint(length).length + length;
    dagSize += block.size;
    blocks++;
  }
  return { carSize, dagSize, blocks };
}

/**
 * CARv1 of the DAG under `root`, streamed from R2 (DagToStore.car):
 * header with `root` as the only root, then every distinct block once in
 * depth-first link order, each verified on read. From `fromByte` on, the
 * same bytes a full stream has there: whole sections before it are skipped
 * with HEADs only (raw leaves), the section it falls in is cut. One block
 * in hand at a time (plus the walk's look-ahead).
 */
export function dagCar(bucket: R2Bucket, root: CID, fromByte = 0): ReadableStream<Uint8Array> {
  let offset = 0;
  let walk: AsyncGenerator<ReturnType<typeof walkR2Dag> extends AsyncGenerator<infer T> ? T : never> | undefined;
  /** Emits the part of `bytes` (which starts at `offset`) at or after fromByte. */
  const cut = (bytes: Uint8Array): Uint8Array | null => {
    const start = offset;
    offset += bytes.length;
    if (offset <= fromByte) return null;
    return start >= fromByte ? bytes : bytes.subarray(fromByte - start);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (walk === undefined) {
          // Raw leaves are only HEADed while their sections lie wholly before fromByte (2 MiB: larger than any block).
          walk = walkR2Dag(bucket, root, () => offset >= fromByte - 2 * 1024 * 1024);
          const header = cut(carHeader([root]));
          if (header !== null) return controller.enqueue(header);
        }
        for (;;) {
          const next = await walk.next();
          if (next.done) return controller.close();
          const block = next.value;
          const cid = sectionCid(block.cid, root);
          const prefix = sectionPrefix(cid, block.size);
          const sectionEnd = offset + prefix.length + block.size;
          if (sectionEnd <= fromByte) {
            offset = sectionEnd;
            continue;
          }
          const bytes = block.bytes ?? (await readR2Block(bucket, block.cid));
          const section = new Uint8Array(prefix.length + block.size);
          section.set(prefix, 0);
          section.set(bytes, prefix.length);
          const out = cut(section)!;
          return controller.enqueue(out);
        }
      },
      async cancel() {
        await walk?.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The root's section carries the CID written in the header (CIDv1); others the CID as linked. */
function sectionCid(cid: CID, root: CID): CID {
  return cid.equals(root) || cid.toV1().equals(root) ? root : cid;
}
