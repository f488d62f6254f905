/**
 * Cron refresh of the configured denylists (docs/denylist.md, "Refresh"):
 * each URL of `DENYLIST_URLS` is fetched by the Denylist object itself
 * (streamed, bounded memory) and swapped in only when it parsed; lists no
 * longer configured are dropped.
 */
import { denylistObject, type RefreshResult } from "./denylist-object";

/** Default when `DENYLIST_URLS` is unset: the badbits list of dwebops. */
export const BADBITS_URL = "https://badbits.dwebops.pub/badbits.deny";

/** The configured list URLs, in override order (later lists win on conflict). Empty string = no lists. */
export function denylistUrls(env: { DENYLIST_URLS?: string }): string[] {
  const raw = env.DENYLIST_URLS ?? BADBITS_URL;
  const urls: string[] = [];
  for (const part of raw.split(",")) {
    const url = part.trim();
    if (url === "") continue;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error("not http(s)");
    } catch {
      console.error("DENYLIST_URLS: ignoring an entry that is not an http(s) URL");
      continue;
    }
    if (!urls.includes(url)) urls.push(url);
  }
  return urls;
}

/**
 * Refreshes every configured list, one after the other (each may be tens of
 * megabytes), and returns what happened to each.
 *
 * @example ctx.waitUntil(refreshDenylists(env));
 */
export async function refreshDenylists(env: Env): Promise<RefreshResult[]> {
  const urls = denylistUrls(env as { DENYLIST_URLS?: string });
  const stub = denylistObject(env);
  const results: RefreshResult[] = [];
  for (const [position, url] of urls.entries()) {
    const result = (await stub.refreshList(url, position)) as RefreshResult;
    if (result.outcome === "failed") console.error("denylist refresh failed", url, result.error);
    results.push(result);
  }
  await stub.retainLists(urls);
  return results;
}
