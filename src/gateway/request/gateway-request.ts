import { parseIpfsPath, type ContentPath } from "./content-path";
import { parseDagScope, parseEntityBytes, type DagScope, type EntityBytes } from "./dag-scope";
import { decideFormat, type ResponseFormat } from "./response-format";

/** Everything a gateway handler needs to know about the request, parsed and validated once. */
export interface GatewayRequest {
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
}

/** Parses an /ipfs/ request; any malformed part → 400 naming it. */
export function parseGatewayRequest(request: Request): GatewayRequest {
  const url = new URL(request.url);
  const path = parseIpfsPath(url.pathname);
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
  };
}
