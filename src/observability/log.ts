/**
 * Structured logs: one JSON object per line on `console.log`, which Workers
 * Logs (wrangler.toml `[observability]`) indexes field by field
 * (docs/operations.md "Logs").
 *
 * What a line may carry is fixed by `LogFields`: route patterns (never raw
 * paths, which may hold ids), statuses, CIDs, durations, upstream base URLs,
 * byte counts, account ids. Never a header, a token, a secret or a request
 * body: no field of that kind exists, and free text is cut to 300 characters.
 */
export interface LogFields {
  kind: "request" | "upstream" | "pin" | "mcp";
  method?: string;
  /** The route pattern, e.g. `/psa/pins/:requestid`, or `gateway`. */
  route?: string;
  status?: number;
  durationMs?: number;
  bytes?: number;
  cid?: string;
  /** Where gateway content came from: edge_cache, r2, upstream, none. */
  source?: string;
  /** Time to the first verified block of an upstream attempt. */
  ttfbMs?: number;
  upstream?: string;
  region?: string;
  account?: string;
  requestid?: string;
  /** What happened, in a few words (a pin's step outcome, an audit action). */
  event?: string;
  /** An error message meant for operators (already free of secrets: HttpError messages never embed them). */
  error?: string;
}

const MAX_TEXT = 300;

/** `REQUEST_LOG_SAMPLE` when unset or not a number in [0, 1]: one line in a hundred. */
export const DEFAULT_LOG_SAMPLE = 0.01;

/**
 * `REQUEST_LOG_SAMPLE` (docs/operations.md "Logs"): the share of
 * successful `request` and `upstream` lines that are written, from 0 (none)
 * to 1 (all). Failures are always written (`logsLine`). Workers Logs
 * already keeps one invocation log per request (URL, status, CPU and wall
 * time) and bills every line; a line costs the request CPU too (~2 ms on
 * `wrangler dev`, where it crosses the DevTools protocol: docs/benchmarks.md
 * figure 8).
 */
export function logSample(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_LOG_SAMPLE;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : DEFAULT_LOG_SAMPLE;
}

/** Whether a line goes out: always for a failure, else with probability `rate`. */
export function logsLine(rate: number, failure: boolean): boolean {
  return failure || rate >= 1 || (rate > 0 && Math.random() < rate);
}

/** Writes one log line; fields that are undefined are left out. */
export function logLine(fields: LogFields, write: (line: string) => void = (line) => console.log(line)): void {
  const out: Record<string, unknown> = { ts: new Date().toISOString() };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = typeof value === "string" && value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) + "…" : value;
  }
  write(JSON.stringify(out));
}
