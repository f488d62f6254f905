import type { CID } from "multiformats/cid";
import { breadcrumbs, escapeHtml, humanBytes, markupVersion, pageFoot, pageHead } from "./html";

/**
 * The generated directory index (path-gateway.md "Generated HTML with
 * directory index"), written in pieces so a listing streams: the head, one
 * row per entry as the directory's blocks arrive, the foot. Sizes are the
 * links' `Tsize` (DAG size), so no child block is fetched and the listing
 * stays fast for directories of any size.
 */
export interface ListingEntry {
  name: string;
  cid: CID;
  /** Tsize of the link: the size of the entry's DAG, when the link says. */
  dagSize?: number;
}

/**
 * `pathname` is the URL path the client asked for (ends with "/"): entry
 * links are that path plus the percent-encoded name; `hasParent` adds "..".
 */
export function listingHead(pathname: string, dirCid: CID, hasParent: boolean): string {
  const heading = `<strong>Index of</strong> ${breadcrumbs(pathname)}/`;
  const formats =
    `<p class="formats"><code>${escapeHtml(String(dirCid))}</code> ` +
    `<a href="?format=car" rel="nofollow">CAR</a><a href="?format=tar" rel="nofollow">TAR</a>` +
    `<a href="?format=raw" rel="nofollow">raw block</a><a href="?format=dag-json" rel="nofollow">dag-json</a></p>\n`;
  const parent = hasParent ? `<tr><td><a href="${escapeHtml(pathname)}..">..</a></td><td class="cid"></td><td class="size"></td></tr>\n` : "";
  return (
    pageHead(pathname, heading) +
    formats +
    `<table>\n<tr><th>Name</th><th>CID</th><th class="size" title="size of the entry's DAG, as its link says">Size</th></tr>\n` +
    parent
  );
}

/**
 * `ipfsLinkBase` prefixes the CID links (`/ipfs/{cid}`): "" on a path
 * gateway, the path gateway's origin on subdomain and DNSLink origins, where
 * `/ipfs/…` would be a path inside the site (src/gateway/request/rewrite.ts).
 */
export function listingRow(pathname: string, e: ListingEntry, ipfsLinkBase = ""): string {
  const cid = String(e.cid);
  const name = escapeHtml(e.name);
  const short = cid.length > 16 ? `${cid.slice(0, 8)}…${cid.slice(-6)}` : cid;
  const size = e.dagSize === undefined ? "" : humanBytes(e.dagSize);
  return (
    `<tr><td><a href="${escapeHtml(pathname + encodeURIComponent(e.name))}">${name}</a></td>` +
    `<td class="cid"><a href="${escapeHtml(ipfsLinkBase)}/ipfs/${cid}?filename=${escapeHtml(encodeURIComponent(e.name))}" title="${cid}">${escapeHtml(short)}</a></td>` +
    `<td class="size">${size}</td></tr>\n`
  );
}

export function listingFoot(): string {
  return `</table>\n` + pageFoot();
}

/** Goes into the listing's ETag: `"DirIndex-<version>_CID-<cid>"` (path-gateway.md#etag-response-header). */
export const DIR_INDEX_VERSION = markupVersion(listingHead, listingRow, listingFoot);

export function dirIndexEtag(cid: CID | string): string {
  return `"DirIndex-${DIR_INDEX_VERSION}_CID-${cid}"`;
}
