import type { CID } from "multiformats/cid";
import type { VerifiedBlock } from "../blocks/block";
import type { BufferPool } from "../blocks/buffer-pool";
import { concat } from "../car/car-encoder";
import type { DecodedNode } from "../dag/decode-node";
import { resolveEntityBytes } from "../request/dag-scope";
import type { GatewayRequest } from "../request/gateway-request";
import type { ByteRange } from "../request/range";
import type { BlockSource, ResumePoint } from "../traversal/block-source";
import { pullBody } from "./body-stream";
import { rangedBody, readFromBytes, requestedRanges } from "./byte-ranges";
import { contentDisposition, contentHeaders } from "./common-headers";
import { SNIFF_BYTES, sniffContentType, typeByExtension } from "./content-type";
import { fileBytes, unixfsFileSize } from "./file-bytes";

/** The session as handlers use it: blocks, and letting go of the upstream stream in use when the walk changes course. */
export interface SessionSource extends BlockSource {
  /** Drops the current upstream stream as "aborted" (neutral for its health); the next get() starts a new race. */
  abort(): void;
}

/** A UnixFS file (or a raw block served as one) that a handler decided to serve. */
export interface FileTarget {
  block: VerifiedBlock;
  node: DecodedNode;
  /** X-Ipfs-Roots. */
  roots: CID[];
  etag: string;
  /** Name for the type (extension) and Content-Disposition: `?filename=`, else the last path segment. */
  name?: string;
  /** A type decided by the request (`?format=json` on a UnixFS file), beating extension and sniffing. */
  contentType?: string;
  /** The request the session's current upstream stream was opened with (what it will send next). */
  opened: ResumePoint;
}

/**
 * A deserialized UnixFS file (path-gateway.md "Response Payload"): its bytes
 * in order, streamed one block at a time, `Content-Length` from the UnixFS
 * file size, `Range` as 206 / multipart 206 / 416, fetching only the blocks
 * a range needs (entity-bytes upstream). The type comes from the name's
 * extension, else from sniffing the first bytes (at most the first
 * SNIFF_BYTES, so a range at the end of a file needs only its first leaf).
 */
export async function serveUnixfsFile(
  req: GatewayRequest,
  src: SessionSource,
  f: FileTarget,
  done: (complete: boolean) => void,
  pool?: BufferPool,
): Promise<Response> {
  const size = unixfsFileSize(f.block, f.node) ?? 0;
  const headers = fileHeaders(req, f);
  const ranges = requestedRanges(req, size, f.etag);
  const stream = new StreamPosition(src, openedRange(f.opened, size));
  const walk = (range: ByteRange, whole = false) => stream.walk(range, () => fileBytes(src, f.block, f.node, range, whole));
  let contentType = f.contentType ?? typeByExtension(f.name);

  // A plain GET: one walk over the file; the type is sniffed from its first chunks.
  if (!ranges && req.method === "GET") {
    const chunks = walk([0, size - 1], true);
    const head: Uint8Array[] = [];
    if (!contentType) {
      let have = 0;
      let complete = false;
      while (have < SNIFF_BYTES) {
        const next = await chunks.next();
        if (next.done) {
          complete = true;
          break;
        }
        head.push(next.value);
        have += next.value.length;
      }
      contentType = sniffHead(head, complete);
    }
    rangedBody(undefined, size, contentType).apply(headers);
    async function* all(): AsyncGenerator<Uint8Array> {
      yield* head;
      yield* chunks;
    }
    // Each leaf is yielded once (the sniffed head included): its pooled buffer can go back once written.
    return new Response(pullBody(all(), (ok) => done(ok && stream.consumed), "file", size, pool), { status: 200, headers });
  }

  // HEAD or Range: the type needs at most the first SNIFF_BYTES, read on their own.
  if (!contentType) {
    const head = await collect(walk([0, Math.min(SNIFF_BYTES, size) - 1]));
    contentType = sniffHead(head, size <= SNIFF_BYTES);
  }
  const body = rangedBody(ranges, size, contentType);
  body.apply(headers);
  if (req.method === "HEAD") {
    done(stream.consumed);
    return new Response(null, { status: body.status, headers });
  }
  const chunks = body.stream((range) => walk(range));
  // Several ranges may read the same block (a raw root, a shared leaf): only a single walk may give buffers back.
  const reuse = ranges && ranges.length > 1 ? undefined : pool;
  return new Response(pullBody(chunks, (ok) => done(ok && stream.consumed), "file", body.length, reuse), { status: body.status, headers });
}

/**
 * What the session's current upstream stream still carries of this file
 * (bytes [from, to], in DFS order). A walk that starts where that stream
 * is continues on it; any other walk first lets it go (src.abort(), neutral
 * for the upstream's health), since the stream would send blocks the walk
 * does not ask for, which the session must treat as a lie. `consumed` tells
 * whether the response read all of it (else the session must not check it
 * for trailing blocks).
 */
class StreamPosition {
  #pending: ByteRange | undefined;
  readonly #src: SessionSource;

  constructor(src: SessionSource, opened: ByteRange | undefined) {
    this.#src = src;
    this.#pending = opened;
  }

  get consumed(): boolean {
    return this.#pending === undefined;
  }

  async *walk(range: ByteRange, chunks: () => AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
    const p = this.#pending;
    if (p && p[0] !== range[0]) {
      this.#src.abort();
      this.#pending = undefined;
    }
    yield* chunks();
    const q = this.#pending;
    if (q) this.#pending = q[1] > range[1] ? [range[1] + 1, q[1]] : undefined;
  }
}

/**
 * A UnixFS symlink is served as its target text, not followed (a gateway
 * cannot know what the target means outside the DAG); `inode/symlink` as
 * boxo does.
 */
export function serveSymlink(req: GatewayRequest, f: Omit<FileTarget, "opened">, target: Uint8Array): Response {
  const headers = fileHeaders(req, f);
  const body = rangedBody(requestedRanges(req, target.length, f.etag), target.length, "inode/symlink");
  body.apply(headers);
  if (req.method === "HEAD") return new Response(null, { status: body.status, headers });
  return new Response(pullBody(body.stream(readFromBytes(target)), () => undefined, "symlink", body.length), { status: body.status, headers });
}

function fileHeaders(req: GatewayRequest, f: Omit<FileTarget, "opened">): Headers {
  const headers = contentHeaders(req.path.raw, f.roots);
  headers.set("ETag", f.etag);
  headers.set("Accept-Ranges", "bytes");
  // path-gateway.md#content-disposition-response-header: only with ?filename= or ?download=true.
  if (req.filename !== undefined || req.download) {
    headers.set("Content-Disposition", contentDisposition(req.download ? "attachment" : "inline", req.filename ?? f.name ?? String(f.block.cid)));
  }
  return headers;
}

/** The bytes of this file the stream opened with `rp` carries, or undefined when it carries none of them. */
function openedRange(rp: ResumePoint, size: number): ByteRange | undefined {
  if (rp.kind === "raw" || rp.scope === "block" || size === 0) return undefined;
  if (rp.entityBytes) return resolveEntityBytes(rp.entityBytes, size);
  return [0, size - 1];
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

/** The Content-Type sniffed from the file's first chunks (one chunk, usually a whole leaf, is read as it is, not copied). */
function sniffHead(head: Uint8Array[], complete: boolean): string {
  return sniffContentType(head.length === 1 ? head[0]! : concat(head), complete);
}
