import { BackendError } from "../replication-backend";

/** Longest a remote may make us wait through Retry-After before we call it down (1 h). */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** One request to a pinning service may take this long. */
export const REQUEST_TIMEOUT_MS = 15_000;

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; in ms,
 * clamped to [0, 1 h]; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

/**
 * The BackendError of a failed PSA response. Real services deviate from
 * the spec's 401: Pinata and others answer 403 for a bad token, so both
 * mean `unauthorized`. 429 (and 503 with Retry-After) is `rate_limited`;
 * other 5xx `retryable`; other 4xx `permanent`, with the spec's Failure
 * `{error:{reason,details}}` when the body has one (it is the remote's
 * text, never our token).
 */
export async function psaFailure(res: Response, what: string): Promise<BackendError> {
  const reason = await failureText(res);
  const wait = retryAfterMs(res.headers.get("Retry-After"));
  const message = `${what}: HTTP ${res.status}${reason === "" ? "" : ` ${reason}`}`;
  if (res.status === 401 || res.status === 403) return new BackendError("unauthorized", message);
  if (res.status === 429) return new BackendError("rate_limited", message, wait ?? 60_000);
  if (res.status === 503 && wait !== undefined) return new BackendError("rate_limited", message, wait);
  if (res.status >= 500 || res.status === 408) return new BackendError("retryable", message);
  return new BackendError("permanent", message);
}

async function failureText(res: Response): Promise<string> {
  let text: string;
  try {
    text = (await res.text()).slice(0, 2000);
  } catch {
    return "";
  }
  try {
    const body = JSON.parse(text) as { error?: { reason?: unknown; details?: unknown } };
    const parts = [body.error?.reason, body.error?.details].filter((p): p is string => typeof p === "string" && p !== "");
    if (parts.length > 0) return parts.join(": ").slice(0, 300);
  } catch {
    // not the spec's Failure body
  }
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** A network failure or timeout of one request, as a retryable BackendError. */
export function networkFailure(err: unknown, what: string): BackendError {
  if (err instanceof BackendError) return err;
  const name = err instanceof Error ? err.name : "";
  const message = name === "TimeoutError" || name === "AbortError" ? "timed out" : err instanceof Error ? err.message : String(err);
  return new BackendError("retryable", `${what}: ${message}`);
}
