import type { GatewayRequest } from "../request/gateway-request";
import { parseRange } from "../request/range";
import { resolvePath } from "../traversal/resolve-path";
import type { BlockSource, ResumePoint } from "../traversal/block-source";
import { contentDisposition, contentHeaders, contentLocation } from "./common-headers";
import { ifNoneMatchHits, notModified } from "./etag";

/**
 * `application/vnd.ipld.raw` (trustless-gateway.md#block-responses-application-vnd-ipld-raw):
 * the exact bytes of the block at the end of the path, hash-checked. Range
 * requests are answered from the block (a multi-range with its first range,
 * which the spec allows).
 */
export async function serveRawBlock(req: GatewayRequest, src: BlockSource): Promise<Response> {
  const { path } = req;
  const rp: ResumePoint =
    path.segments.length === 0 ? { kind: "raw", cid: path.root } : { kind: "car", root: path.root, segments: path.segments, scope: "block" };
  // Without a path the ETag is known before fetching anything.
  if (path.segments.length === 0 && ifNoneMatchHits(req.headers.get("If-None-Match"), `"${path.root}.raw"`)) {
    return notModified(`"${path.root}.raw"`, contentHeaders(path.raw, [path.root]));
  }
  const resolved = await resolvePath(src, path.root, path.segments, rp);
  const { cid, bytes } = resolved.terminal;
  const etag = `"${cid}.raw"`;
  const headers = contentHeaders(path.raw, resolved.roots);
  headers.set("ETag", etag);
  if (ifNoneMatchHits(req.headers.get("If-None-Match"), etag)) return notModified(etag, headers);

  headers.set("Content-Type", "application/vnd.ipld.raw");
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Content-Disposition", contentDisposition("attachment", req.filename ?? `${cid}.bin`));
  headers.set("Accept-Ranges", "bytes");
  if (req.format.fromAccept) headers.set("Content-Location", contentLocation(req.url, { format: "raw" }));

  const ranges = parseRange(req.headers.get("Range"), bytes.length);
  if (ranges) {
    const [first, last] = ranges[0]!;
    headers.set("Content-Range", `bytes ${first}-${last}/${bytes.length}`);
    headers.set("Content-Length", String(last - first + 1));
    return new Response(req.method === "HEAD" ? null : bytes.slice(first, last + 1), { status: 206, headers });
  }
  headers.set("Content-Length", String(bytes.length));
  return new Response(req.method === "HEAD" ? null : bytes, { status: 200, headers });
}
