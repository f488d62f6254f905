import { HttpError } from "../http/errors";
import { txtDataToText } from "./txt";

/**
 * A DNS-over-HTTPS client for the JSON API that Cloudflare (`/dns-query`)
 * and Google (`/resolve`) serve: `GET {resolver}?name=…&type=TXT` with
 * `Accept: application/dns-json`, answering
 * `{ Status, Answer: [{ name, type, TTL, data }] }` (Status = DNS RCODE).
 */
export type TxtAnswer =
  | { readonly kind: "records"; readonly texts: string[]; readonly ttlSeconds: number }
  | { readonly kind: "nxdomain" };

const TXT = 16;
const RCODES: Record<number, string> = { 1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED" };
const DEFAULT_TTL_SECONDS = 60;

/**
 * TXT records of `name`. NOERROR with no TXT answer is `records` with an
 * empty list; NXDOMAIN is `nxdomain`.
 *
 * @throws HttpError 502 when the resolver fails or answers an error RCODE,
 *   504 when it does not answer within `timeoutMs`
 */
export async function queryTxt(
  resolver: string,
  name: string,
  opts: { signal?: AbortSignal; timeoutMs: number },
): Promise<TxtAnswer> {
  const url = new URL(resolver);
  url.searchParams.set("name", name);
  url.searchParams.set("type", "TXT");
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const fail = (why: string) => new HttpError("bad_gateway", `DNS-over-HTTPS lookup of ${name} failed: ${why}`);

  let body: unknown;
  try {
    const response = await fetch(url, { headers: { Accept: "application/dns-json" }, signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw fail(`HTTP ${response.status}`);
    }
    body = await response.json();
  } catch (err) {
    opts.signal?.throwIfAborted();
    if (timeout.aborted) throw new HttpError("gateway_timeout", `DNS-over-HTTPS lookup of ${name} timed out`);
    if (err instanceof HttpError) throw err;
    throw fail(err instanceof SyntaxError ? "answer is not JSON" : (err as Error).message);
  }

  if (typeof body !== "object" || body === null || typeof (body as { Status?: unknown }).Status !== "number") {
    throw fail("answer has no Status");
  }
  const { Status: status, Answer: answers } = body as { Status: number; Answer?: unknown };
  if (status === 3) return { kind: "nxdomain" };
  if (status !== 0) throw fail(`resolver answered ${RCODES[status] ?? `RCODE ${status}`}`);

  const texts: string[] = [];
  let ttl = Infinity;
  for (const answer of Array.isArray(answers) ? answers : []) {
    // CNAMEs on the way come as their own answers; only TXT data counts.
    if (typeof answer !== "object" || answer === null || answer.type !== TXT || typeof answer.data !== "string") continue;
    texts.push(txtDataToText(answer.data));
    if (typeof answer.TTL === "number" && answer.TTL >= 0) ttl = Math.min(ttl, answer.TTL);
  }
  return { kind: "records", texts, ttlSeconds: Number.isFinite(ttl) ? ttl : DEFAULT_TTL_SECONDS };
}
