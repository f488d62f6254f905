/**
 * Turns a trustless-gateway request (`/ipfs/{cid}[/{path}]`, `format`,
 * `Accept`, `dag-scope`, `entity-bytes`, `car-*`) into what to send.
 * Spec: trustless-gateway.md "HTTP Request", IPIP-402 (dag-scope,
 * entity-bytes), IPIP-412 (CAR order/dups signalling).
 */
import { CID } from "multiformats/cid";
import { base32 } from "multiformats/bases/base32";
import { base36 } from "multiformats/bases/base36";
import { base58btc } from "multiformats/bases/base58";

export type DagScope = "block" | "entity" | "all";

/** `entity-bytes=from:to` as sent; `to` null means `*` (end of entity). */
export interface EntityBytes {
  from: number;
  to: number | null;
}

export type TrustlessRequest =
  | { format: "raw"; root: CID; path: string[] }
  | {
      format: "car";
      root: CID;
      path: string[];
      scope: DagScope;
      entityBytes: EntityBytes | null;
      dups: boolean;
    };

/** A request the server refuses, with the status to answer. */
export class RequestError extends Error {
  readonly status: 400 | 404 | 406;

  constructor(status: 400 | 404 | 406, message: string) {
    super(message);
    this.status = status;
  }
}

const multibaseDecoder = base32.decoder.or(base36.decoder).or(base58btc.decoder);

export function parseCid(text: string): CID {
  try {
    return CID.parse(text, text.startsWith("Qm") ? undefined : multibaseDecoder);
  } catch {
    throw new RequestError(400, `invalid CID ${JSON.stringify(text)}`);
  }
}

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const item of header.split(",")) {
    const [type = "", ...rawParams] = item.split(";").map((part) => part.trim());
    if (type === "") continue;
    const params = new Map<string, string>();
    for (const param of rawParams) {
      const eq = param.indexOf("=");
      if (eq > 0) params.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim().replace(/^"|"$/g, ""));
    }
    const q = Number(params.get("q") ?? "1");
    ranges.push({ type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 });
  }
  // Highest q first; the sort is stable so equal q keep the client's order (RFC 9110 12.5.1).
  return ranges.filter((range) => range.q > 0).sort((a, b) => b.q - a.q);
}

/** CAR params this server can honour: version 1, order dfs or unk, dups y or n. */
function carParamsSupported(params: Map<string, string>): boolean {
  const version = params.get("version");
  const order = params.get("order");
  const dups = params.get("dups");
  return (
    (version === undefined || version === "1") &&
    (order === undefined || order === "dfs" || order === "unk") &&
    (dups === undefined || dups === "y" || dups === "n")
  );
}

function parseEntityBytes(value: string): EntityBytes {
  const match = /^(-?\d+):(-?\d+|\*)$/.exec(value);
  if (!match) throw new RequestError(400, `invalid entity-bytes ${JSON.stringify(value)}: want from:to`);
  const from = Number(match[1]);
  const to = match[2] === "*" ? null : Number(match[2]);
  if (!Number.isSafeInteger(from) || (to !== null && !Number.isSafeInteger(to))) {
    throw new RequestError(400, "entity-bytes out of range");
  }
  if (from >= 0 && to !== null && to >= 0 && from > to) {
    throw new RequestError(400, "entity-bytes: from is after to");
  }
  return { from, to };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(400, "invalid percent-encoding in path");
  }
}

/**
 * `pathname` is the part after the personality, starting with `/ipfs/`.
 */
export function parseTrustlessRequest(pathname: string, query: URLSearchParams, accept: string | undefined): TrustlessRequest {
  const match = /^\/ipfs\/([^/]+)((?:\/.*)?)$/.exec(pathname);
  if (!match) throw new RequestError(404, "only /ipfs/{cid}[/{path}] is served");
  const root = parseCid(decodeSegment(match[1] ?? ""));
  const path = (match[2] ?? "").split("/").filter((segment) => segment !== "").map(decodeSegment);

  const ranges = parseAccept(accept ?? "");
  const carRange = ranges.find((range) => range.type === "application/vnd.ipld.car" && carParamsSupported(range.params));

  // `format` wins over Accept (trustless-gateway.md, `format` request query parameter).
  let format: "raw" | "car";
  const formatParam = query.get("format");
  if (formatParam !== null) {
    if (formatParam !== "raw" && formatParam !== "car") {
      throw new RequestError(400, `unsupported format ${JSON.stringify(formatParam)}: this trustless gateway serves raw and car`);
    }
    format = formatParam;
  } else {
    const chosen = ranges.find(
      (range) => range.type === "application/vnd.ipld.raw" || (range.type === "application/vnd.ipld.car" && carParamsSupported(range.params)),
    );
    if (!chosen) {
      if (ranges.length === 0) throw new RequestError(400, "trustless gateway: ask for application/vnd.ipld.raw or application/vnd.ipld.car");
      throw new RequestError(406, "none of the Accept types is served here (application/vnd.ipld.raw, application/vnd.ipld.car)");
    }
    format = chosen.type === "application/vnd.ipld.raw" ? "raw" : "car";
  }
  if (format === "raw") return { format, root, path };

  // URL params win over the Accept params (trustless-gateway.md car-version/car-order/car-dups).
  const version = query.get("car-version") ?? carRange?.params.get("version") ?? "1";
  if (version !== "1") throw new RequestError(400, `unsupported car-version ${JSON.stringify(version)}`);
  const order = query.get("car-order") ?? carRange?.params.get("order") ?? "dfs";
  if (order !== "dfs" && order !== "unk") throw new RequestError(400, `unsupported car-order ${JSON.stringify(order)}`);
  const dups = query.get("car-dups") ?? carRange?.params.get("dups") ?? "n";
  if (dups !== "y" && dups !== "n") throw new RequestError(400, `invalid car-dups ${JSON.stringify(dups)}`);

  const scopeParam = query.get("dag-scope") ?? "all";
  if (scopeParam !== "block" && scopeParam !== "entity" && scopeParam !== "all") {
    throw new RequestError(400, `invalid dag-scope ${JSON.stringify(scopeParam)}`);
  }
  const entityBytesParam = query.get("entity-bytes");
  const entityBytes = entityBytesParam === null ? null : parseEntityBytes(entityBytesParam);
  // entity-bytes implies dag-scope=entity (IPIP-402).
  const scope: DagScope = entityBytes ? "entity" : scopeParam;
  return { format, root, path, scope, entityBytes, dups: dups === "y" };
}
