import { badRequest } from "../../http/errors";

/**
 * The response format of a gateway request, decided once (STYLE.md #3) from
 * the `format` query parameter, which wins over `Accept` (IPIP-523), then
 * from `Accept` (path-gateway.md#accept-request-header).
 */
export type FormatKind =
  | "raw"
  | "car"
  | "ipns-record"
  | "dag-json"
  | "dag-cbor"
  | "json"
  | "cbor"
  | "tar"
  | "html" // explicitly asked for text/html
  | "default"; // no explicit format: the path gateway's deserialized response

export interface CarParams {
  version: 1;
  order: "dfs" | "unk";
  /** Whether duplicate blocks are sent (IPIP-412). Absent in the request → n. */
  dups: boolean;
}

export interface ResponseFormat {
  kind: FormatKind;
  /** True when the format came from `Accept` and not from `?format=` (then Content-Location is set). */
  fromAccept: boolean;
  car: CarParams;
}

const MEDIA: Record<string, FormatKind> = {
  "application/vnd.ipld.raw": "raw",
  "application/vnd.ipld.car": "car",
  "application/vnd.ipfs.ipns-record": "ipns-record",
  "application/vnd.ipld.dag-json": "dag-json",
  "application/vnd.ipld.dag-cbor": "dag-cbor",
  "application/json": "json",
  "application/cbor": "cbor",
  "application/x-tar": "tar",
  "text/html": "html",
};

export const MEDIA_TYPE: Record<Exclude<FormatKind, "default" | "html">, string> = {
  raw: "application/vnd.ipld.raw",
  car: "application/vnd.ipld.car",
  "ipns-record": "application/vnd.ipfs.ipns-record",
  "dag-json": "application/vnd.ipld.dag-json",
  "dag-cbor": "application/vnd.ipld.dag-cbor",
  json: "application/json",
  cbor: "application/cbor",
  tar: "application/x-tar",
};

const QUERY_FORMATS = new Set<FormatKind>(["raw", "car", "ipns-record", "dag-json", "dag-cbor", "json", "cbor", "tar"]);

interface AcceptEntry {
  type: string;
  params: Map<string, string>;
  q: number;
}

export function parseAccept(header: string | null): AcceptEntry[] {
  if (!header) return [];
  const entries: AcceptEntry[] = [];
  for (const part of header.split(",").slice(0, 32)) {
    const [type = "", ...rawParams] = part.split(";").map((s) => s.trim());
    if (!type) continue;
    const params = new Map<string, string>();
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf("=");
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
      if (k === "q") q = Number.isFinite(Number(v)) ? Number(v) : 0;
      else params.set(k, v);
    }
    if (q > 0) entries.push({ type: type.toLowerCase(), params, q });
  }
  // Stable sort by q, highest first: ties keep the client's order.
  return entries.map((e, i) => ({ e, i })).sort((a, b) => b.e.q - a.e.q || a.i - b.i).map((x) => x.e);
}

export function decideFormat(url: URL, acceptHeader: string | null): ResponseFormat {
  const car: CarParams = { version: 1, order: "dfs", dups: false };
  const accepted = parseAccept(acceptHeader);
  const carAccept = accepted.find((a) => a.type === "application/vnd.ipld.car" && a.params.get("version") !== "2");
  if (accepted.some((a) => a.type === "application/vnd.ipld.car") && !carAccept) {
    throw badRequest("unsupported CAR version: only version=1 is served");
  }
  if (carAccept) applyCarParams(car, carAccept.params.get("order"), carAccept.params.get("dups"));

  let kind: FormatKind | undefined;
  let fromAccept = false;
  const query = url.searchParams.get("format");
  if (query !== null && query !== "") {
    if (!QUERY_FORMATS.has(query as FormatKind)) throw badRequest(`invalid format "${query.slice(0, 32)}"`);
    kind = query as FormatKind;
  } else {
    for (const a of accepted) {
      const k = MEDIA[a.type];
      if (k === "car" && a !== carAccept) continue;
      if (k) {
        kind = k;
        fromAccept = true;
        break;
      }
    }
  }

  // URL parameters beat Accept parameters (trustless-gateway.md#car-version-request-query-parameter).
  const v = url.searchParams.get("car-version");
  if (v !== null && v !== "1") throw badRequest(`unsupported car-version "${v.slice(0, 8)}": only 1 is served`);
  applyCarParams(car, url.searchParams.get("car-order") ?? undefined, url.searchParams.get("car-dups") ?? undefined, true);
  return { kind: kind ?? "default", fromAccept, car };
}

function applyCarParams(car: CarParams, order: string | undefined, dups: string | undefined, strict = false): void {
  // We always stream in DFS order, which satisfies both dfs and unk (IPIP-412).
  if (order !== undefined && order !== "dfs" && order !== "unk" && strict) {
    throw badRequest(`invalid car-order "${order.slice(0, 16)}": expected dfs or unk`);
  }
  if (dups === "y") car.dups = true;
  else if (dups === "n") car.dups = false;
  else if (dups !== undefined && strict) throw badRequest(`invalid car-dups "${dups.slice(0, 16)}": expected y or n`);
}
