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

/** Writes one log line; fields that are undefined are left out. */
export function logLine(fields: LogFields, write: (line: string) => void = (line) => console.log(line)): void {
  const out: Record<string, unknown> = { ts: new Date().toISOString() };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = typeof value === "string" && value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) + "…" : value;
  }
  write(JSON.stringify(out));
}
