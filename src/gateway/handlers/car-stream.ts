import type { VerifiedBlock } from "../blocks/block";
import { blockKey } from "../blocks/block";
import { isIdentity } from "../blocks/verify-block";
import { carHeader, sectionPrefix } from "../car/car-encoder";
import type { GatewayRequest } from "../request/gateway-request";
import type { BlockSource, ResumePoint } from "../traversal/block-source";
import { resolvePath } from "../traversal/resolve-path";
import { selectBlocks } from "../traversal/select-blocks";
import { contentDisposition, contentHeaders, contentLocation } from "./common-headers";
import { ifNoneMatchHits, notModified, shortHash } from "./etag";

/**
 * `application/vnd.ipld.car` (trustless-gateway.md#car-responses-application-vnd-ipld-car):
 * CARv1, DFS order, the path's blocks then the terminal element per
 * dag-scope / entity-bytes (IPIP-402), duplicates per `dups` (IPIP-412),
 * identity blocks never emitted.
 *
 * The status is decided after the path and the terminal block were fetched
 * and verified (so a missing root or path is a real 404/502); from then on
 * blocks stream as they arrive, and a failure that no upstream can repair
 * errors the body instead of ending it short.
 */
export async function serveCar(req: GatewayRequest, src: BlockSource, done: (ok: boolean) => void): Promise<Response> {
  const { path, format } = req;
  const dups = format.car.dups;
  const params = [path.segments.join("/"), req.entityBytes ? "entity" : req.scope, req.entityBytes ? `${req.entityBytes.from}:${req.entityBytes.to}` : "", dups ? "y" : "n", "dfs"];
  const etag = `W/"${path.root}.car.${shortHash(params.join("\u0000"))}"`;
  if (ifNoneMatchHits(req.headers.get("If-None-Match"), etag)) {
    done(true);
    return notModified(etag, contentHeaders(path.raw, [path.root]));
  }

  const rp: ResumePoint = { kind: "car", root: path.root, segments: path.segments, scope: req.scope, entityBytes: req.entityBytes };
  const resolved = await resolvePath(src, path.root, path.segments, rp);

  const headers = contentHeaders(path.raw, resolved.roots);
  headers.set("ETag", etag);
  headers.set("Content-Type", `application/vnd.ipld.car; version=1; order=dfs; dups=${dups ? "y" : "n"}`);
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Accept-Ranges", "none");
  headers.set("Content-Disposition", contentDisposition("attachment", req.filename ?? `${path.root}.car`));
  if (format.fromAccept) {
    headers.set("Content-Location", contentLocation(req.url, { format: "car", "car-version": "1", "car-order": "dfs", "car-dups": dups ? "y" : "n" }));
  }
  if (req.method === "HEAD") {
    done(true);
    return new Response(null, { status: 200, headers });
  }

  const pathBlocks = resolved.blocks.slice(0, -1);
  const terminalBlocks = selectBlocks(src, resolved.terminal, resolved.terminalNode, { scope: req.scope, entityBytes: req.entityBytes }, rp);
  async function* all(): AsyncGenerator<VerifiedBlock> {
    yield* pathBlocks;
    yield* terminalBlocks;
  }
  return new Response(carBody(path.root, all(), dups, done), { status: 200, headers });
}

/** The CAR bytes of `blocks`, pulled one block at a time (backpressure bounds memory to the output buffer plus one block). */
export function carBody(root: VerifiedBlock["cid"], blocks: AsyncGenerator<VerifiedBlock>, dups: boolean, done: (ok: boolean) => void): ReadableStream<Uint8Array> {
  const emitted = new Set<string>();
  let finished = false;
  const end = (ok: boolean) => {
    if (finished) return;
    finished = true;
    done(ok);
  };
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(carHeader([root]));
        return;
      }
      try {
        for (;;) {
          const next = await blocks.next();
          if (next.done) {
            controller.close();
            return end(true);
          }
          const { cid, bytes } = next.value;
          if (isIdentity(cid)) continue;
          if (!dups) {
            const key = blockKey(cid.multihash.bytes);
            if (emitted.has(key)) continue;
            emitted.add(key);
          }
          controller.enqueue(sectionPrefix(cid, bytes.length));
          controller.enqueue(bytes);
          return;
        }
      } catch (err) {
        console.warn("CAR stream aborted:", err instanceof Error ? err.message : String(err));
        controller.error(err);
        end(false);
      }
    },
    async cancel() {
      end(false);
      await blocks.return(undefined);
    },
  }, OUTPUT_BUFFER);
}

/**
 * Up to ~2 MiB of verified output may wait for the client, so the next block
 * is fetched and hashed while the previous one is still being written.
 */
const OUTPUT_BUFFER = new ByteLengthQueuingStrategy({ highWaterMark: 2 * 1024 * 1024 });
