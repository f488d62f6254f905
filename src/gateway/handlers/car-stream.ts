import type { VerifiedBlock } from "../blocks/block";
import type { BufferPool } from "../blocks/buffer-pool";
import { blockKey } from "../blocks/block";
import { isIdentity } from "../blocks/verify-block";
import { carHeader, concat, sectionPrefix } from "../car/car-encoder";
import type { GatewayRequest } from "../request/gateway-request";
import type { BlockSource, ResumePoint } from "../traversal/block-source";
import { resolvePath } from "../traversal/resolve-path";
import { selectBlocks } from "../traversal/select-blocks";
import { HeldBody, type BodyTap } from "./body-stream";
import { contentDisposition, contentHeaders, contentLocation } from "./common-headers";
import { ifNoneMatchHits, notModified, shortHash } from "./etag";
import { ChunkStream } from "./chunk-stream";

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
export async function serveCar(req: GatewayRequest, src: BlockSource, done: (ok: boolean) => void, pool?: BufferPool): Promise<Response> {
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
  return new Response(carBody(path.root, all(), dups, done, pool), { status: 200, headers });
}

/** Block writes that may be in flight to the client at once: the next block is fetched and hashed while earlier ones are written. */
const WRITES_IN_FLIGHT = 2;
/** A block up to this size that has no room for its prefix is copied behind it (one write); a larger one is written after it. */
const COPY_MAX_BYTES = 16 * 1024;

/**
 * The CAR bytes of `blocks`, written one section at a time into a
 * ChunkStream (handlers/chunk-stream.ts) whose readable side is the
 * response body: the runtime sends each section as it is, no copy, one
 * socket write. A write settles once the reader has moved past the
 * section, which bounds memory to a few blocks and lets pooled leaf
 * buffers be reused (`pool`; not when JavaScript reads the body itself).
 *
 * One write per section: every write is a chunk the runtime moves through
 * the response (a promise, a pump step, a socket write), and a prefix of
 * ~40 bytes written on its own cost as much as its block. A pooled block
 * was read `pool.headroom` bytes into its buffer, so its prefix is written
 * into the bytes before it and both go out as one view, no copy; a small
 * block without that room is copied behind its prefix; only a large one
 * outside the pool goes out as two writes. The CAR header rides with the
 * first section.
 *
 * The first write waits for `startBody` (or the next timer tick), so the
 * route can first attach a tap (`tapBody`, handlers/body-stream.ts: the
 * edge cache's in-memory copy). The tap sees every write just before the
 * client's stream, and hears `end()` only once the stream closed after the
 * last block, `fail()` otherwise.
 */
export function carBody(
  root: VerifiedBlock["cid"],
  blocks: AsyncGenerator<VerifiedBlock>,
  dups: boolean,
  done: (ok: boolean) => void,
  pool?: BufferPool,
  /** Where the CAR is written; its readable side is returned. Tests pass a TransformStream, which keeps each write a chunk of its own. */
  through?: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
): ReadableStream<Uint8Array> {
  const chunks = through ? undefined : new ChunkStream();
  const readable = chunks ? chunks.readable : through!.readable;
  const writer: { write(bytes: Uint8Array): Promise<boolean | void>; close(): Promise<void>; abort(reason: unknown): Promise<void> } = chunks ?? through!.writable.getWriter();
  const held = new HeldBody(readable);
  let tap: BodyTap | undefined;
  const emitted = new Set<string>();
  const inFlight: Promise<void>[] = [];
  const write = async (bytes: Uint8Array, release: boolean) => {
    if (bytes.length === 0) return; // an empty block has no data to write
    while (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
    // The tap (the edge cache's copy) takes its own copy first: the client's buffer may be reused after the write.
    if (tap && !tap.chunk(bytes)) tap = undefined;
    // ChunkStream resolves false when the consumer may still hold the chunk: its buffer is then not reused.
    const written = writer.write(bytes).then((reusable: boolean | void) => (release && reusable !== false ? pool?.release(bytes) : undefined));
    written.catch(() => undefined); // awaited below; this only keeps a failed write from being reported as unhandled meanwhile
    inFlight.push(written);
  };
  void (async () => {
    try {
      await held.started;
      tap = held.tap;
      // Bytes not written yet: the CAR header until the first section goes out.
      let pending: Uint8Array | undefined = carHeader([root]);
      for await (const { cid, bytes } of blocks) {
        if (isIdentity(cid)) continue;
        if (!dups) {
          const key = blockKey(cid.multihash.bytes);
          if (emitted.has(key)) {
            pool?.release(bytes);
            continue;
          }
          emitted.add(key);
        }
        const prefix = pending ? concat([pending, sectionPrefix(cid, bytes.length)]) : sectionPrefix(cid, bytes.length);
        pending = undefined;
        const pooled = pool !== undefined && pool.owns(bytes);
        if (pooled && bytes.byteOffset >= prefix.length) {
          const section = new Uint8Array(bytes.buffer, bytes.byteOffset - prefix.length, prefix.length + bytes.length);
          section.set(prefix);
          await write(section, true);
        } else if (bytes.length <= COPY_MAX_BYTES) {
          await write(concat([prefix, bytes]), false);
          if (pooled) pool.release(bytes);
        } else {
          await write(prefix, false);
          await write(bytes, true);
        }
      }
      if (pending) await write(pending, false);
      await Promise.all(inFlight);
      // Before the body ends: done() hands background work to waitUntil while the request is still open.
      done(true);
      await writer.close();
      tap?.end();
    } catch (err) {
      console.warn("CAR stream aborted:", err instanceof Error ? err.message : String(err));
      tap?.fail();
      tap = undefined;
      done(false);
      await Promise.allSettled(inFlight);
      await blocks.return(undefined).catch(() => undefined);
      await writer.abort(err).catch(() => undefined);
    }
  })();
  return readable;
}
