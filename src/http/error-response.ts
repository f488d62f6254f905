import { HttpError } from "./errors";

/**
 * The one function that turns a thrown error into an HTTP response (boxo's
 * `webError`). Known errors keep their status and message; anything else is
 * our bug: logged, and answered with a generic 500 that echoes nothing.
 */
export function errorResponse(err: unknown, request: Request): Response {
  if (err instanceof HttpError) {
    const headers = new Headers(err.headers);
    headers.set("Content-Type", "text/plain; charset=utf-8");
    headers.set("Cache-Control", "no-store");
    const body = request.method === "HEAD" ? null : `${err.message}\n`;
    return new Response(body, { status: err.status, headers });
  }
  console.error("unhandled error", err instanceof Error ? err.stack ?? err.message : String(err));
  return new Response(request.method === "HEAD" ? null : "internal server error\n", {
    status: 500,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}
