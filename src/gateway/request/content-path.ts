import { CID } from "multiformats/cid";
import { badRequest } from "../../http/errors";

/** A parsed `/ipfs/{cid}/{path}` request path (https://specs.ipfs.tech/http-gateways/path-gateway/#get-ipfs-cid-path-params). */
export interface ContentPath {
  namespace: "ipfs";
  root: CID;
  /** Path segments after the CID, percent-decoded. */
  segments: string[];
  /** Whether the URL path ended with "/". */
  trailingSlash: boolean;
  /** The content path as requested (still percent-encoded), for X-Ipfs-Path. */
  raw: string;
}

/** Parses the URL pathname (percent-encoded) of an /ipfs/ request. Malformed CID or path → 400 naming the path. */
export function parseIpfsPath(pathname: string): ContentPath {
  const parts = pathname.split("/");
  // ["", "ipfs", "<cid>", ...rest]
  const cidText = parts[2] ?? "";
  let root: CID;
  try {
    root = parseCid(cidText);
  } catch {
    throw badRequest(`invalid path "${safeText(pathname)}": not a valid CID`);
  }
  const rest = parts.slice(3);
  const trailingSlash = rest.length > 0 && rest[rest.length - 1] === "";
  const segments: string[] = [];
  for (const part of rest) {
    if (part === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      throw badRequest(`invalid path "${safeText(pathname)}": bad percent-encoding`);
    }
    if (segment === "." || segment === ".." || segment.includes("/")) {
      throw badRequest(`invalid path "${safeText(pathname)}": segment "${safeText(segment)}" is not allowed`);
    }
    segments.push(segment);
  }
  return { namespace: "ipfs", root, segments, trailingSlash, raw: pathname };
}

/** CIDs parsed lately in this isolate, by their text as in the URL path; at most RECENT_CIDS, the oldest forgotten first. */
const RECENT_CIDS = 1024;
const recent = new Map<string, CID>();

/**
 * The CID of a path's (percent-encoded) CID segment. A CID object never
 * changes, so one parsed by an earlier request is reused: a request's path
 * is read twice (the denylist guard, then the route), and a popular CID is
 * asked for again and again; parsing was ~5 % of a cached block's CPU.
 */
function parseCid(text: string): CID {
  let cid = recent.get(text);
  if (cid !== undefined) return cid;
  cid = CID.parse(decodeURIComponent(text));
  if (recent.size >= RECENT_CIDS) recent.delete(recent.keys().next().value!);
  recent.set(text, cid);
  return cid;
}

/** User input echoed in an error: bounded, control characters removed. */
export function safeText(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, "");
  return clean.length > 256 ? clean.slice(0, 256) + "…" : clean;
}
