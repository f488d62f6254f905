import { BackendError } from "./replication-backend";

/**
 * HTTP plumbing shared by the backends that speak HTTP (S3, Kubo RPC, Hub):
 * one request, no retry (the engine owns retries, replication-backend.ts),
 * every failure turned into a `BackendError` of the right kind:
 *
 * | what happened                         | kind           |
 * |---------------------------------------|----------------|
 * | network error, timeout                | `retryable`    |
 * | 429, or 503 with `Retry-After`        | `rate_limited` (`retryAfterMs` from `Retry-After`, RFC 9110 §10.2.3) |
 * | 401, 403                              | `unauthorized` |
 * | 408, 5xx                              | `retryable`    |
 * | other 4xx                             | `permanent`    |
 *
 * Messages name the backend and the operation, never a URL's query or a
 * header value (they may carry a secret).
 */
export async function backendFetch(what: string, input: Request | string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (err) {
    if (err instanceof BackendError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new BackendError("retryable", `${what}: request failed (${reason})`);
  }
}

/** Without `Retry-After`, a 429 waits this long (ms) before the engine retries. */
export const DEFAULT_RATE_LIMIT_MS = 60_000;

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The `BackendError` for a response that is not the success the caller
 * wanted; `detail` is a short, secret-free description of the body (the
 * caller decides how to read it). Consumes nothing: the caller cancels the body.
 */
export function errorForStatus(what: string, response: Response, detail = ""): BackendError {
  const status = response.status;
  const suffix = detail ? `: ${detail}` : "";
  const wait = retryAfterMs(response.headers.get("Retry-After"));
  if (status === 429 || (status === 503 && wait !== undefined)) {
    return new BackendError("rate_limited", `${what}: HTTP ${status}${suffix}`, wait ?? DEFAULT_RATE_LIMIT_MS);
  }
  if (status === 401 || status === 403) return new BackendError("unauthorized", `${what}: HTTP ${status}${suffix}`);
  if (status === 408 || status >= 500) return new BackendError("retryable", `${what}: HTTP ${status}${suffix}`);
  return new BackendError("permanent", `${what}: HTTP ${status}${suffix}`);
}

/** Reads at most `limit` characters of an error body, for a message (bounded: an error page may be huge). */
export async function errorBodyText(response: Response, limit = 300): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body that fails mid-way still gave us what it had.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, limit).replace(/\s+/g, " ").trim();
}

/** Throws the mapped error for a non-2xx response (its body read for the message), else returns it. */
export async function expectOk(what: string, response: Response, describe = errorBodyText): Promise<Response> {
  if (response.ok) return response;
  throw errorForStatus(what, response, await describe(response));
}
