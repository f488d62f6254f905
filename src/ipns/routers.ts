import { IPNS_RECORD_CONTENT_TYPE, IpnsRecordError, MAX_RECORD_BYTES } from "./record";
import { readBounded } from "../http/read-bounded";

/**
 * One delegated routing server asked for one IPNS record
 * (routing v1 spec, `GET /routing/v1/ipns/{name}`). What it answered, before
 * any verification.
 */
export type RouterAnswer =
  | { readonly kind: "record"; readonly bytes: Uint8Array }
  | { readonly kind: "not_found" }
  | { readonly kind: "failed"; readonly reason: string }
  // The router sent something that cannot be a record at all (e.g. over 10 KiB).
  | { readonly kind: "rejected"; readonly error: IpnsRecordError };

/** Parses `ROUTERS` (comma-separated base URLs); a bad entry is a configuration bug (500). */
export function parseRouters(value: string | undefined): string[] {
  const routers = (value ?? "")
    .split(",")
    .map((s) => s.trim().replace(/\/+$/, ""))
    .filter((s) => s.length > 0);
  for (const router of routers) {
    if (!/^https?:\/\/[^/]/.test(router)) throw new Error("ROUTERS holds an entry that is not an http(s) URL");
  }
  return routers;
}

/**
 * Asks one router. Per the routing v1 spec, a 404 or a 200 of any other
 * content type means "no record found"; anything else that is not a 200 is a
 * failure of that router. Aborts on `signal`.
 */
export async function askRouter(base: string, name: string, signal: AbortSignal): Promise<RouterAnswer> {
  let response: Response;
  try {
    response = await fetch(`${base}/routing/v1/ipns/${name}`, {
      headers: { Accept: IPNS_RECORD_CONTENT_TYPE },
      signal,
    });
  } catch (err) {
    return { kind: "failed", reason: signal.aborted ? "timed out" : `fetch failed (${(err as Error).message})` };
  }
  const contentType = (response.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (response.status === 404 || (response.status === 200 && contentType !== IPNS_RECORD_CONTENT_TYPE)) {
    await response.body?.cancel();
    return { kind: "not_found" };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return { kind: "failed", reason: `HTTP ${response.status}` };
  }
  try {
    const bytes = await readBounded(response, MAX_RECORD_BYTES);
    if (bytes === undefined) {
      return { kind: "rejected", error: new IpnsRecordError(`record is over the ${MAX_RECORD_BYTES}-byte limit`) };
    }
    return { kind: "record", bytes };
  } catch (err) {
    return { kind: "failed", reason: signal.aborted ? "timed out" : `body failed (${(err as Error).message})` };
  }
}
