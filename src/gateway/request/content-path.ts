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
    root = CID.parse(decodeURIComponent(cidText));
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

/** User input echoed in an error: bounded, control characters removed. */
export function safeText(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, "");
  return clean.length > 256 ? clean.slice(0, 256) + "…" : clean;
}
