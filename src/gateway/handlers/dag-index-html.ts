import { base64 } from "multiformats/bases/base64";
import { CID } from "multiformats/cid";
import { DAG_CBOR, DAG_JSON } from "../dag/codecs";
import { breadcrumbs, escapeHtml, escapeText, markupVersion, pageFoot, pageHead } from "./html";

/**
 * The human-readable view of a dag-json / dag-cbor block for browsers
 * (path-gateway.md "Response Payload": "If the Accept header includes
 * text/html, implementation should return a generated HTML with an option to
 * download DAG-JSON/DAG-CBOR as-is"; IPIP-524: rendering is not conversion).
 * The value is shown in DAG-JSON notation with every link clickable.
 */
export function dagIndexPage(pathname: string, cid: CID, size: number, value: unknown, ipfsLinkBase = ""): string {
  const codec = cid.code === DAG_CBOR ? "dag-cbor" : cid.code === DAG_JSON ? "dag-json" : `0x${cid.code.toString(16)}`;
  const heading = `<strong>DAG view</strong> ${breadcrumbs(pathname)}`;
  return (
    pageHead(pathname, heading) +
    `<p><code>${escapeHtml(String(cid))}</code> · ${codec} · ${size} bytes</p>\n` +
    `<p class="formats">Download: <a href="?format=${codec}" rel="nofollow">${codec}</a>` +
    `<a href="?format=raw" rel="nofollow">raw block</a><a href="?format=car" rel="nofollow">CAR</a></p>\n` +
    `<pre>${renderValue(value, "", 0, ipfsLinkBase)}</pre>\n` +
    pageFoot()
  );
}

const MAX_DEPTH = 128;

/**
 * DAG-JSON notation (https://ipld.io/specs/codecs/dag-json/spec/), HTML-escaped, links as anchors
 * to `{ipfsLinkBase}/ipfs/{cid}` (the path gateway's origin on subdomain and DNSLink sites, request/rewrite.ts).
 */
export function renderValue(value: unknown, indent: string, depth: number, ipfsLinkBase = ""): string {
  if (depth > MAX_DEPTH) return "…";
  const cid = CID.asCID(value);
  if (cid) return `{"/": "<a href="${escapeHtml(ipfsLinkBase)}/ipfs/${cid}">${cid}</a>"}`;
  if (value instanceof Uint8Array) return `{"/": {"bytes": "${base64.baseEncode(value)}"}}`;
  if (value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return escapeText(JSON.stringify(value));
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + renderValue(v, inner, depth + 1, ipfsLinkBase)).join(",\n")}\n${indent}]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "{}";
    const rows = entries.map(([k, v]) => `${inner}${escapeText(JSON.stringify(k))}: ${renderValue(v, inner, depth + 1, ipfsLinkBase)}`);
    return `{\n${rows.join(",\n")}\n${indent}}`;
  }
  return escapeText(String(value));
}

/** Goes into the view's ETag: `"DagIndex-<version>_CID-<cid>"` (as the reference gateway names it). */
export const DAG_INDEX_VERSION = markupVersion(dagIndexPage, renderValue);

export function dagIndexEtag(cid: CID | string): string {
  return `"DagIndex-${DAG_INDEX_VERSION}_CID-${cid}"`;
}
