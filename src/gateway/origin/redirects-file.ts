/**
 * `_redirects` of subdomain and DNSLink sites (https://specs.ipfs.tech/http-gateways/web-redirects-file/):
 * read from the site root when a requested path is absent from the DAG,
 * then redirect (3xx), rewrite (200) or serve a custom error page
 * (404/410/451). Parsing and matching are src/gateway/redirects/.
 */
import { HttpError, type ErrorKind } from "../../http/errors";
import { IMMUTABLE } from "../handlers/common-headers";
import { safeText } from "../request/content-path";
import { matchRedirect, type RedirectMatch } from "../redirects/match";
import { MAX_REDIRECTS_FILE_BYTES, parseRedirects, RedirectsFileError, type RedirectRule } from "../redirects/parse";
import type { OriginContext, Site } from "./origin-context";
import { fetchInSite } from "./serve-site";

/** Conditional and range headers do not apply to a custom error page: it is served whole, with the rule's status. */
const PAGE_DROPPED_HEADERS = ["If-None-Match", "If-Match", "If-Modified-Since", "If-Unmodified-Since", "Range", "If-Range"];

const ERROR_KIND: Record<404 | 410 | 451, ErrorKind> = { 404: "not_found", 410: "gone", 451: "unavailable_for_legal_reasons" };

/**
 * What `_redirects` makes of a request whose path was not found
 * (`notFound`, the 404 the content route answered). Without a file or a
 * matching rule that 404 stands.
 *
 * @throws HttpError internal_error (500) "could not parse _redirects: …" ("Error Handling")
 */
export async function applyRedirects(ctx: OriginContext, site: Site, notFound: Response): Promise<Response> {
  const file = await readRedirectsFile(ctx, site);
  if (file === undefined) return notFound;
  if (file instanceof Response) {
    await notFound.body?.cancel();
    return file;
  }
  const match = matchRedirect(parseRules(file), ctx.url.pathname, ctx.url.search);
  if (match === undefined) return notFound;
  await notFound.body?.cancel();
  return follow(ctx, site, match);
}

async function follow(ctx: OriginContext, site: Site, match: RedirectMatch): Promise<Response> {
  if (match.status >= 300 && match.status < 400) return redirect(ctx, match);
  if (!match.to.startsWith("/")) {
    throw new HttpError("internal_error", `could not parse _redirects: line ${match.rule.line}: status ${match.status} needs a path inside the site, not a URL`);
  }
  const target = match.to.replace(/[?#].*$/, "");
  // "200 - OK: treated as a rewrite": the target's content under the requested URL, conditional requests included.
  if (match.status === 200) return fetchInSite(ctx, site, target);

  const headers = new Headers(ctx.request.headers);
  for (const name of PAGE_DROPPED_HEADERS) headers.delete(name);
  const page = await fetchInSite(ctx, site, target, new Request(ctx.request.url, { method: ctx.request.method, headers }));
  if (page.status === 200) return new Response(page.body, { status: match.status, headers: page.headers });
  if (page.status >= 500) return page;
  await page.body?.cancel();
  throw new HttpError(
    ERROR_KIND[match.status as 404 | 410 | 451],
    `${safeText(ctx.url.pathname)}: HTTP ${match.status} per _redirects line ${match.rule.line}, whose page ${safeText(target)} could not be served (HTTP ${page.status})`,
  );
}

function redirect(ctx: OriginContext, match: RedirectMatch): Response {
  const headers = new Headers({ Location: match.to, "Content-Type": "text/html; charset=utf-8" });
  // A rule of an immutable root never changes; a mutable site's Cache-Control is set by serveSite.
  headers.set("Cache-Control", IMMUTABLE);
  const body = ctx.request.method === "HEAD" ? null : `<a href="${match.to.replace(/"/g, "%22")}">Moved</a>.\n`;
  return new Response(body, { status: match.status, headers });
}

function parseRules(file: Uint8Array): RedirectRule[] {
  try {
    return parseRedirects(file);
  } catch (err) {
    if (err instanceof RedirectsFileError) throw new HttpError("internal_error", err.message);
    throw err;
  }
}

/**
 * The site's `/_redirects`, at most 64 KiB ("Max File Size"; read no
 * further). Undefined when there is none; a Response when fetching it
 * failed upstream (that failure is the answer).
 */
async function readRedirectsFile(ctx: OriginContext, site: Site): Promise<Uint8Array | Response | undefined> {
  const res = await fetchInSite(ctx, site, "/_redirects", new Request(ctx.request.url, { method: "GET" }));
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) {
    if (res.status >= 400) return res;
    await res.body?.cancel();
    throw new HttpError("internal_error", `could not parse _redirects: it is not a file (HTTP ${res.status})`);
  }
  const tooLarge = () => new HttpError("internal_error", new RedirectsFileError(`redirects file size cannot exceed ${MAX_REDIRECTS_FILE_BYTES} bytes`).message);
  if (Number(res.headers.get("Content-Length") ?? 0) > MAX_REDIRECTS_FILE_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const out = new Uint8Array(MAX_REDIRECTS_FILE_BYTES);
  let length = 0;
  if (res.body === null) return out.subarray(0, 0);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (length + value.length > MAX_REDIRECTS_FILE_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    out.set(value, length);
    length += value.length;
  }
  return out.subarray(0, length);
}
