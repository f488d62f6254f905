import type { OutcomeResult } from "./outcome";
import { IdleTimeout } from "../car/byte-reader";
import { CarFormatError } from "../car/car-section-reader";

/** Why one upstream could not serve this request; the request goes on without it. */
export class UpstreamFault extends Error {
  readonly result: Exclude<OutcomeResult, "ok" | "aborted">;
  readonly upstream: string;

  constructor(upstream: string, result: UpstreamFault["result"], message: string) {
    super(message);
    this.name = "UpstreamFault";
    this.upstream = upstream;
    this.result = result;
  }
}

/** Raised through an AbortController when an upstream is too slow to its first verified block. */
export class TtfbTimeout extends Error {
  constructor(ms: number) {
    super(`no verified block within ${ms} ms`);
    this.name = "TtfbTimeout";
  }
}

/** Classifies whatever an attempt threw: our faults pass through, timeouts and broken CARs get their meaning, the rest is a network error. */
export function toFault(upstream: string, err: unknown, signal: AbortSignal): UpstreamFault {
  if (err instanceof UpstreamFault) return err;
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  if (err instanceof IdleTimeout || reason instanceof IdleTimeout) return new UpstreamFault(upstream, "timeout", (reason as Error | undefined)?.message ?? String(err));
  if (reason instanceof TtfbTimeout) return new UpstreamFault(upstream, "timeout", reason.message);
  if (err instanceof CarFormatError) return new UpstreamFault(upstream, err.truncated ? "error" : "invalid_block", err.message);
  return new UpstreamFault(upstream, "error", err instanceof Error ? err.message : String(err));
}
