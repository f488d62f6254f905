/**
 * The denylist guard of every content request (docs/denylist.md, "Use in
 * the request path"): checked before any upstream or router is asked.
 */
import type { DenyVerdict } from "../../denylist/matcher";
import { HttpError } from "../../http/errors";
import { parseIpfsPath, safeText } from "../request/content-path";
import type { OriginContext } from "./origin-context";

/** `/ipfs/{cid}/{path}` (URL path, percent-encoded): 410/451 when a denylist blocks it; 400 for a malformed path. */
export async function guardIpfsPath(ctx: Pick<OriginContext, "denylist">, pathname: string): Promise<void> {
  const path = parseIpfsPath(pathname);
  const verdict = await (await ctx.denylist()).isDenied(path.root, path.segments);
  if (verdict) throw denied(verdict, pathname);
}

/** `/ipns/{name}/{segments}` (IPNS key in any form, or DNSLink name): 410/451 when a denylist blocks it. */
export async function guardName(ctx: Pick<OriginContext, "denylist">, name: string, segments: readonly string[]): Promise<void> {
  const verdict = await (await ctx.denylist()).isNameDenied(name, segments);
  if (verdict) throw denied(verdict, ["/ipns", name, ...segments].join("/"));
}

/**
 * The rule itself is not repeated: for hashed lists that would publish what
 * the list hides (docs/denylist.md, "Use in the request path").
 */
function denied(verdict: DenyVerdict, what: string): HttpError {
  const path = safeText(what);
  return verdict.status === 451
    ? new HttpError("unavailable_for_legal_reasons", `${path} is unavailable for legal reasons: blocked by this gateway's denylist`)
    : new HttpError("gone", `${path} is not served: blocked by this gateway's denylist`);
}

/** Percent-decoded, non-empty segments of a URL path (as the denylist compares them). */
export function pathSegments(path: string): string[] {
  return path
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}
