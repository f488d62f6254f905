import { parseIpfsPath, type ContentPath } from "./content-path";
import { parseDagScope, parseEntityBytes, type DagScope, type EntityBytes } from "./dag-scope";
import { decideFormat, type ResponseFormat } from "./response-format";
import { rewriteOf } from "./rewrite";
import { requestUrl } from "../../http/request-url";

/** Everything a gateway handler needs to know about the request, parsed and validated once. */
export interface GatewayRequest {
  /** The URL the client sent (for a subdomain, DNSLink or /ipns/ request: not the internal /ipfs/ one, see rewrite.ts). */
  url: URL;
  method: "GET" | "HEAD";
  headers: Headers;
  path: ContentPath;
  format: ResponseFormat;
  scope: DagScope;
  entityBytes?: EntityBytes;
  /** `?filename=` (path-gateway.md#filename-request-query-parameter). */
  filename?: string;
  /** `?download=true`. */
  download: boolean;
  /** Prefix of `/ipfs/{cid}` links in generated pages ("" on a path gateway; see rewrite.ts). */
  ipfsLinkBase: string;
}

/** What a request's URL and `Accept` decide: everything but its method and headers. */
type Parsed = Omit<GatewayRequest, "method" | "headers">;

/** Requests parsed lately in this isolate, by URL and `Accept`; at most RECENT_PARSES, the oldest forgotten first. */
const RECENT_PARSES = 256;
const recentParses = new Map<string, Parsed>();

/**
 * Parses an /ipfs/ request; any malformed part → 400 naming it.
 *
 * A request a client repeats (a popular block, file or CAR: what the edge
 * cache answers) is parsed once per isolate: the result is a pure function
 * of its URL and `Accept`, and parsing it (URL, CID, format, dag-scope)
 * was ~12 % of an edge-cache hit's CPU. Shared, so read-only. A site's
 * internal request (rewrite.ts) is parsed each time.
 */
export function parseGatewayRequest(request: Request): GatewayRequest {
  const method = request.method === "HEAD" ? "HEAD" : "GET";
  if (rewriteOf(request) !== undefined) return { ...parse(request), method, headers: request.headers };
  const key = `${request.url}\n${request.headers.get("Accept") ?? ""}`;
  let parsed = recentParses.get(key);
  if (parsed === undefined) {
    parsed = parse(request);
    if (recentParses.size >= RECENT_PARSES) recentParses.delete(recentParses.keys().next().value!);
    recentParses.set(key, parsed);
  }
  return { ...parsed, method, headers: request.headers };
}

function parse(request: Request): Parsed {
  const rewrite = rewriteOf(request);
  const url = rewrite?.displayUrl ?? requestUrl(request);
  const path = parseIpfsPath(requestUrl(request).pathname);
  if (rewrite) path.raw = rewrite.contentPath;
  const format = decideFormat(url, request.headers.get("Accept"));
  const filename = url.searchParams.get("filename") ?? undefined;
  return {
    url,
    path,
    format,
    scope: parseDagScope(url.searchParams.get("dag-scope")) ?? "all",
    entityBytes: parseEntityBytes(url.searchParams.get("entity-bytes")),
    filename: filename === "" ? undefined : filename,
    download: url.searchParams.get("download") === "true",
    ipfsLinkBase: rewrite?.ipfsLinkBase ?? "",
  };
}
