import { isPrivateUrl } from "../providers/multiaddr-url";

/** Redirects followed at most for a URL the operator did not configure (the Fetch standard allows 20; a gateway needs one or two). */
export const MAX_PUBLIC_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A redirect that `fetchPublic` refused to follow (a failure of that upstream, like a network error). */
export class RedirectRefused extends Error {}

/**
 * `fetch` for URLs named by someone other than the operator: pin `origins`
 * (a token or webhook holder) and providers from a delegated router (IPNI).
 * Their own address was checked (`isPrivateUrl`, pinning/origins.ts,
 * providers/multiaddr-url.ts), but a redirect is an address too: with
 * `redirect: "follow"` a public origin answering 302 to 127.0.0.1,
 * 10.0.0.0/8 or 169.254.169.254 would have the worker fetch it. So
 * redirects are followed here, one hop at a time (`redirect: "manual"`),
 * each `Location` resolved against the URL that sent it and checked by the
 * same rule, at most MAX_PUBLIC_REDIRECTS hops, http(s) only.
 *
 * Error contract: resolves with the final non-redirect response, whatever
 * its status; rejects with RedirectRefused for a redirect to a private
 * address, another scheme, without a usable Location or past the hop limit
 * (nothing is fetched from it), and like `fetch` on network failure or abort.
 */
export async function fetchPublic(url: string, init: Omit<RequestInit, "redirect">): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const res = await fetch(current, { ...init, redirect: "manual" });
    if (!REDIRECT_STATUSES.has(res.status)) return res;
    await res.body?.cancel();
    if (hop === MAX_PUBLIC_REDIRECTS) throw new RedirectRefused(`more than ${MAX_PUBLIC_REDIRECTS} redirects`);
    const location = res.headers.get("Location");
    let next: URL;
    try {
      if (location === null) throw new Error("no Location");
      next = new URL(location, current);
    } catch {
      throw new RedirectRefused(`HTTP ${res.status} without a usable Location`);
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new RedirectRefused(`HTTP ${res.status} to a ${next.protocol} URL refused`);
    // Checked on the URL as parsed (`http://2130706433/` is 127.0.0.1 by then), as the origins are.
    if (isPrivateUrl(next.href)) throw new RedirectRefused(`HTTP ${res.status} to a private address (${next.host}) refused`);
    current = next.href;
  }
}
