/**
 * Evaluation of `_redirects` rules (https://specs.ipfs.tech/http-gateways/web-redirects-file/, "Evaluation").
 * The caller only asks for paths that are absent from the DAG ("No Forced
 * Redirects"); the first matching rule wins ("Order").
 */
import { safeDecode, splitPath, type RedirectRule, type RedirectStatus } from "./parse";

export interface RedirectMatch {
  /**
   * Where to go: for 3xx the `Location` value (a path or absolute URL, with
   * the request's query merged in, "Query Parameters"); for 200/404/410/451
   * the path inside the same root whose content is served with that status.
   */
  to: string;
  status: RedirectStatus;
  rule: RedirectRule;
}

const TOKEN = /:([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * The first rule matching `pathname` (the URL path as received,
 * percent-encoded), with `:name` and `:splat` substituted into `to`.
 *
 * @example
 * matchRedirect(parseRedirects("/posts/:y/:slug /a/:y/:slug 302"), "/posts/2022/hi")
 * // → { to: "/a/2022/hi", status: 302, rule }
 */
export function matchRedirect(
  rules: readonly RedirectRule[],
  pathname: string,
  search = "",
): RedirectMatch | undefined {
  const raw = splitPath(pathname);
  const decoded = raw.map(safeDecode);
  const trailingSlash = pathname.length > 1 && pathname.endsWith("/");

  for (const rule of rules) {
    const params = matchSegments(rule, raw, decoded, trailingSlash);
    if (!params) continue;
    // "Placeholders": a name may be used any number of times in `to`; names
    // that `from` did not capture stay as written.
    const to = rule.to.replace(TOKEN, (whole, name: string) => params.get(name) ?? whole);
    const isRedirect = rule.status >= 300 && rule.status < 400;
    return { to: isRedirect ? mergeQuery(to, search) : to, status: rule.status, rule };
  }
  return undefined;
}

function matchSegments(
  rule: RedirectRule,
  raw: readonly string[],
  decoded: readonly string[],
  trailingSlash: boolean,
): Map<string, string> | undefined {
  const params = new Map<string, string>();
  const segs = rule.segments;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (seg.kind === "splat") {
      // "Catch-All Splat": greedy, the remainder of the path (possibly empty).
      const rest = raw.slice(i).join("/");
      params.set("splat", rest !== "" && trailingSlash ? `${rest}/` : rest);
      return params;
    }
    if (i >= raw.length) return undefined;
    if (seg.kind === "placeholder") params.set(seg.name, raw[i]!);
    else if (seg.value !== decoded[i]) return undefined;
  }
  return segs.length === raw.length ? params : undefined;
}

/**
 * "Query Parameters": keep the user's query on a redirect; on a name clash
 * the user's value overrides the static one written in `to`.
 */
function mergeQuery(to: string, search: string): string {
  const user = new URLSearchParams(search);
  if ([...user.keys()].length === 0) return to;
  const absolute = !to.startsWith("/");
  const url = new URL(to, "http://redirect.invalid");
  for (const key of new Set(user.keys())) {
    url.searchParams.delete(key);
    for (const value of user.getAll(key)) url.searchParams.append(key, value);
  }
  return absolute ? url.toString() : `${url.pathname}${url.search}${url.hash}`;
}
