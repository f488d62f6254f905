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

/** Parses an /ipfs/ request; any malformed part → 400 naming it. */
export function parseGatewayRequest(request: Request): GatewayRequest {
  const rewrite = rewriteOf(request);
  const url = rewrite?.displayUrl ?? requestUrl(request);
  const path = parseIpfsPath(requestUrl(request).pathname);
  if (rewrite) path.raw = rewrite.contentPath;
  const format = decideFormat(url, request.headers.get("Accept"));
  const filename = url.searchParams.get("filename") ?? undefined;
  return {
    url,
    method: request.method === "HEAD" ? "HEAD" : "GET",
    headers: request.headers,
    path,
    format,
    scope: parseDagScope(url.searchParams.get("dag-scope")) ?? "all",
    entityBytes: parseEntityBytes(url.searchParams.get("entity-bytes")),
    filename: filename === "" ? undefined : filename,
    download: url.searchParams.get("download") === "true",
    ipfsLinkBase: rewrite?.ipfsLinkBase ?? "",
  };
}
