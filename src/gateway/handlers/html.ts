import { shortHash } from "./etag";

/**
 * The pieces every HTML page the gateway generates shares (directory
 * listings, the DAG view): escaping, the page shell, and the caching rules
 * for generated HTML.
 */

/** Escapes text for HTML element content (quotes may stay: they mean nothing there). */
export function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * Generated HTML changes with the gateway's code, not with the content, so
 * it is not immutable: a week, then served stale while revalidating (the
 * value gateway-conformance accepts for listings and DAG views).
 */
export const GENERATED_HTML_CACHE = "public, max-age=604800, stale-while-revalidate=2678400";

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f7f8fa}
header,main,footer{max-width:62rem;margin:0 auto;padding:.75rem 1rem}
header{font-size:1.1rem;word-break:break-all}
a{color:#0b6b8a;text-decoration:none}a:hover{text-decoration:underline}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
td.cid,td.size{white-space:nowrap;font-family:ui-monospace,monospace;font-size:.85rem}
td.size{text-align:right}
.formats a{margin-right:.75rem}code,pre{font-family:ui-monospace,monospace}
pre{background:#fff;padding:1rem;overflow:auto;white-space:pre-wrap;word-break:break-all}`;

/** The start of a page, up to and including the opening of `<main>`. */
export function pageHead(title: string, heading: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${escapeHtml(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    `<header>${heading}</header>\n<main>\n`
  );
}

export function pageFoot(): string {
  return `</main>\n<footer><small>ipfs-kit-edge: every block of this page was verified against its CID</small></footer>\n</body>\n</html>\n`;
}

/** Version of the generated markup, for ETags (path-gateway.md#etag-response-header: "based on the version of gateway implementation"). */
export function markupVersion(...renderers: ((...args: never[]) => unknown)[]): string {
  return shortHash([STYLE, pageHead, pageFoot, ...renderers].map(String).join("\n")).slice(0, 10).toUpperCase();
}

/**
 * Breadcrumbs for a URL path: `/ipfs/<cid>/a/b/` → links to each prefix,
 * names shown decoded, hrefs kept as received (percent-encoded).
 */
export function breadcrumbs(pathname: string): string {
  const parts = pathname.split("/").filter((p) => p !== "");
  let href = "";
  const out: string[] = [];
  for (const [i, part] of parts.entries()) {
    href += "/" + part;
    // The namespace itself (/ipfs/, /ipns/) is not a page.
    if (i === 0 && (part === "ipfs" || part === "ipns") && parts.length > 1) {
      out.push(part);
      continue;
    }
    out.push(`<a href="${escapeHtml(href)}/">${escapeHtml(safeDecode(part))}</a>`);
  }
  return "/" + out.join("/");
}

export function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Sizes as humans read them, SI units (as the reference listing shows them). */
export function humanBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
