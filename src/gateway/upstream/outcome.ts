/**
 * What one request learnt about one upstream, reported to GatewayHealth after
 * the response (never awaited on the request path).
 */
export type OutcomeResult =
  | "ok" // delivered every block asked of it
  | "not_found" // answered 404 / 410 for the content
  | "error" // HTTP 5xx/429/4xx (other than not found), network error, truncated stream
  | "timeout" // no first byte in TTFB_TIMEOUT_MS, or idle for IDLE_TIMEOUT_MS
  | "invalid_block" // sent a block whose hash did not match its CID, an oversized block or a broken CAR
  | "deviation" // sent valid blocks other than those asked for (dag-scope/entity-bytes or DFS order ignored): used per block since
  | "aborted"; // we cancelled it (lost the race); neither good nor bad

export interface UpstreamOutcome {
  /** Base URL of the upstream, exactly as configured in UPSTREAMS. */
  upstream: string;
  result: OutcomeResult;
  /** Milliseconds from request start to the first verified block, if any. */
  ttfbMs?: number;
  /** Verified bytes received from it. */
  bytes: number;
  /** Milliseconds the upstream was in use for this request. */
  durationMs: number;
  /** Epoch milliseconds when the outcome was observed. */
  at: number;
}

/** The request path's read-only view of upstream health (an isolate-local snapshot). */
export interface UpstreamHealthView {
  /** Upstreams best first; those with an open circuit go last (still usable as a last resort). */
  rank(upstreams: readonly string[]): string[];
  /** Suggested hedge delay for this upstream in ms (e.g. from its TTFB EWMA), or undefined to use the default. */
  hedgeDelayMs?(upstream: string): number | undefined;
}

/** Where a request's outcomes go once the response is on its way. */
export interface OutcomeSink {
  report(outcome: UpstreamOutcome): void;
}
