import type { CID } from "multiformats/cid";
import { notAcceptable } from "../../http/errors";
import { CBOR, DAG_CBOR, DAG_JSON, DAG_PB, JSON_CODEC, RAW } from "../dag/codecs";
import type { DecodedNode } from "../dag/decode-node";
import type { GatewayRequest } from "../request/gateway-request";
import { MEDIA_TYPE } from "../request/response-format";
import type { ResumePoint } from "../traversal/block-source";
import { resolvePath } from "../traversal/resolve-path";
import { pullBody } from "./body-stream";
import { rangedBody, readFromBytes, requestedRanges } from "./byte-ranges";
import { contentDisposition, contentHeaders, contentLocation } from "./common-headers";
import { dagIndexEtag, dagIndexPage } from "./dag-index-html";
import { ifNoneMatchHits, notModified } from "./etag";
import { unixfsFileSize } from "./file-bytes";
import { GENERATED_HTML_CACHE } from "./html";
import { openingResumePoint } from "./opening";
import { serveUnixfsFile, type SessionSource } from "./unixfs-file";

export type CodecFormat = "dag-json" | "dag-cbor" | "json" | "cbor";

/**
 * Which CID codecs each format returns as-is (IPIP-524: no cross-codec
 * conversion; a mismatch is 406). `json` and `cbor` also take dag-json and
 * dag-cbor blocks: those bytes are valid JSON / CBOR unchanged, so this is
 * a content type, not a conversion (what gateway-conformance asserts, J09).
 * The reverse (a plain json block as dag-json) is refused: it may not be
 * valid dag-json.
 */
const SERVES: Record<CodecFormat, readonly number[]> = {
  "dag-json": [DAG_JSON],
  "dag-cbor": [DAG_CBOR],
  json: [JSON_CODEC, DAG_JSON],
  cbor: [CBOR, DAG_CBOR],
};

/** Content type of a block served as-is under its own codec. */
const CODEC_MEDIA: Record<number, string> = {
  [DAG_JSON]: MEDIA_TYPE["dag-json"],
  [DAG_CBOR]: MEDIA_TYPE["dag-cbor"],
  [JSON_CODEC]: MEDIA_TYPE.json,
  [CBOR]: MEDIA_TYPE.cbor,
};

const CODEC_NAMES: Record<number, string> = { [RAW]: "raw", [DAG_PB]: "dag-pb", [DAG_CBOR]: "dag-cbor", [DAG_JSON]: "dag-json", [JSON_CODEC]: "json", [CBOR]: "cbor" };

export function isCodecBlock(cid: CID): boolean {
  return CODEC_MEDIA[cid.code] !== undefined;
}

/**
 * `?format=` / `Accept:` dag-json, dag-cbor, json, cbor
 * (path-gateway.md#accept-request-header, IPIP-524): the terminal block
 * as-is when its codec matches, else 406. `json` on a UnixFS file serves the
 * file as `application/json` (IPIP-524 "UnixFS interop exception").
 */
export async function serveDagCodec(req: GatewayRequest, src: SessionSource, done: (complete: boolean) => void): Promise<Response> {
  const kind = req.format.kind as CodecFormat;
  const { path } = req;
  // Without a path the codec is in the CID: a mismatch or a matching ETag is answered before any fetch.
  if (path.segments.length === 0) {
    if (!SERVES[kind].includes(path.root.code) && !(kind === "json" && (path.root.code === RAW || path.root.code === DAG_PB))) {
      throw mismatch(path.root, kind);
    }
    const etag = `"${path.root}.${kind}"`;
    if (ifNoneMatchHits(req.headers.get("If-None-Match"), etag)) {
      done(true);
      return notModified(etag, contentHeaders(path.raw, [path.root]));
    }
  }
  const rp: ResumePoint = kind === "json" ? openingResumePoint(req, path.root, path.segments, true) : { kind: "car", root: path.root, segments: path.segments, scope: "block" };
  const resolved = await resolvePath(src, path.root, path.segments, rp);
  const { cid, bytes } = resolved.terminal;
  const etag = `"${cid}.${kind}"`;
  const isFile = kind === "json" && !SERVES.json.includes(cid.code) && unixfsFileSize(resolved.terminal, resolved.terminalNode) !== undefined;
  if (ifNoneMatchHits(req.headers.get("If-None-Match"), etag)) {
    done(!isFile || rp.kind !== "car" || rp.scope === "block");
    return notModified(etag, contentHeaders(path.raw, resolved.roots));
  }
  let response: Response;
  if (SERVES[kind].includes(cid.code)) {
    response = codecBlock(req, resolved.roots, cid, bytes, MEDIA_TYPE[kind], etag);
    done(true);
  } else if (isFile) {
    const name = req.filename ?? path.segments.at(-1);
    const target = { block: resolved.terminal, node: resolved.terminalNode, roots: resolved.roots, etag, name, contentType: MEDIA_TYPE.json, opened: rp };
    response = await serveUnixfsFile(req, src, target, done);
  } else {
    throw mismatch(cid, kind);
  }
  if (req.format.fromAccept) response.headers.set("Content-Location", contentLocation(req.url, { format: kind }));
  return response;
}

/**
 * A dag-json / dag-cbor / json / cbor block reached by a deserialized
 * request (no explicit format): a browser (`Accept: text/html`) gets the
 * DAG view of dag-json / dag-cbor, anyone else the block as-is under its
 * codec's type (path-gateway.md "Response Payload").
 */
export function serveCodecDefault(req: GatewayRequest, roots: CID[], cid: CID, bytes: Uint8Array, node: DecodedNode): Response {
  if (req.format.kind === "html" && !req.download && (cid.code === DAG_JSON || cid.code === DAG_CBOR) && node.kind === "ipld") {
    const headers = contentHeaders(req.path.raw, roots);
    headers.set("ETag", dagIndexEtag(cid));
    headers.set("Content-Type", "text/html; charset=utf-8");
    headers.set("Cache-Control", GENERATED_HTML_CACHE);
    if (req.method === "HEAD") return new Response(null, { status: 200, headers });
    return new Response(dagIndexPage(req.url.pathname, cid, bytes.length, node.value, req.ipfsLinkBase), { status: 200, headers });
  }
  return codecBlock(req, roots, cid, bytes, CODEC_MEDIA[cid.code]!, `"${cid}"`);
}

/** The block's bytes under `contentType`, with Range support and the codec's file name (boxo `serveCodecRaw`). */
function codecBlock(req: GatewayRequest, roots: CID[], cid: CID, bytes: Uint8Array, contentType: string, etag: string): Response {
  const headers = contentHeaders(req.path.raw, roots);
  headers.set("ETag", etag);
  headers.set("Accept-Ranges", "bytes");
  const ext = contentType.endsWith("json") ? ".json" : ".cbor";
  // JSON is readable, so shown inline; CBOR is binary, so saved (path-gateway.md#content-disposition-response-header).
  const disposition = req.download || ext !== ".json" ? "attachment" : "inline";
  headers.set("Content-Disposition", contentDisposition(disposition, req.filename ?? `${cid}${ext}`));
  const body = rangedBody(requestedRanges(req, bytes.length, etag), bytes.length, contentType);
  body.apply(headers);
  if (req.method === "HEAD") return new Response(null, { status: body.status, headers });
  const stream = body.status === 200 ? bytes : pullBody(body.stream(readFromBytes(bytes)), () => undefined, "block", body.length);
  return new Response(stream, { status: body.status, headers });
}

function mismatch(cid: CID, kind: CodecFormat) {
  const codec = CODEC_NAMES[cid.code] ?? `0x${cid.code.toString(16)}`;
  return notAcceptable(
    `${cid} is ${codec}, not ${kind}: this gateway does not convert between codecs (IPIP-524); ask for ?format=raw and convert client-side`,
  );
}
