import type { Context } from "hono";
import { HttpError, type ErrorKind } from "../http/errors";

/**
 * PSA `Failure` reasons (ipfs-pinning-service.yaml components.examples);
 * 409 is the spec's InsufficientFunds, other 4xx are custom codes.
 */
const REASON: Partial<Record<ErrorKind, string>> = {
  bad_request: "BAD_REQUEST",
  unauthorized: "UNAUTHORIZED",
  not_found: "NOT_FOUND",
  conflict: "INSUFFICIENT_FUNDS",
  payload_too_large: "PAYLOAD_TOO_LARGE",
  forbidden: "FORBIDDEN",
};

/**
 * The PSA area's error handler: every failure as the spec's
 * `{ "error": { "reason", "details" } }` body. 5xx are logged and answered
 * generically (nothing internal on the wire).
 */
export function psaErrorResponse(err: unknown, c: Context): Response {
  if (err instanceof HttpError && err.status < 500) {
    return failure(err.status, REASON[err.kind] ?? err.kind.toUpperCase(), err.message, err.headers);
  }
  if (err instanceof HttpError) return failure(err.status, err.kind.toUpperCase(), err.message, err.headers);
  console.error("psa: unhandled error", c.req.method, err instanceof Error ? err.stack ?? err.message : String(err));
  return failure(500, "INTERNAL_SERVER_ERROR", "Unexpected internal server error", {});
}

export function failure(status: number, reason: string, details: string, headers: Record<string, string>): Response {
  return new Response(JSON.stringify({ error: { reason, details } }), {
    status,
    headers: { ...headers, "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" },
  });
}
