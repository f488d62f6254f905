/**
 * Per-upstream metrics of one block session (wins, resumes, invalid blocks,
 * verified bytes, outcomes, TTFB), fed by the same outcomes GatewayHealth
 * gets (src/gateway/upstream/outcome.ts) and added to the isolate's batch
 * when the session closes. Never awaited by the request.
 *
 * A win is an attempt that delivered the first verified block of a race
 * (its outcome carries `ttfbMs` and is not `aborted`). The session's first
 * win, by the time it won, is the request's start; every later one is a
 * resume (a race after a dropped upstream, or a block fetched alone).
 *
 * Each attempt that was not a cancelled race loser is also logged (kind
 * `upstream`: its base URL, result, verified bytes, TTFB, duration).
 */
import type { OutcomeSink, UpstreamOutcome } from "../gateway/upstream/outcome";
import { countMetric, flushMetrics, observeMetric } from "./recorder";
import { logLine, logSample, logsLine } from "../observability/log";

export function upstreamMetricsSink(env: Env, region: string): OutcomeSink & { flush(): Promise<void> } {
  const outcomes: UpstreamOutcome[] = [];
  return {
    report(outcome) {
      outcomes.push(outcome);
    },
    async flush() {
      if (outcomes.length === 0) return;
      const batch = outcomes.splice(0);
      const wonAt = (o: UpstreamOutcome) => o.at - o.durationMs + (o.ttfbMs ?? 0);
      const wins = batch.filter((o) => o.result !== "aborted" && o.ttfbMs !== undefined).sort((a, b) => wonAt(a) - wonAt(b));
      for (const o of batch) {
        const upstream = { upstream: o.upstream };
        countMetric(region, "ipfs_edge_upstream_outcomes_total", { ...upstream, result: o.result });
        countMetric(region, "ipfs_edge_upstream_verified_bytes_total", upstream, o.bytes);
        if (o.result === "invalid_block") countMetric(region, "ipfs_edge_upstream_invalid_blocks_total", upstream);
        // A cancelled race loser never; any other failure always; a sample of the successes (REQUEST_LOG_SAMPLE).
        if (o.result !== "aborted" && logsLine(logSample(env.REQUEST_LOG_SAMPLE), o.result !== "ok")) {
          logLine({ kind: "upstream", upstream: o.upstream, event: o.result, bytes: o.bytes, ttfbMs: o.ttfbMs, durationMs: o.durationMs, region });
        }
      }
      wins.forEach((o, i) => {
        countMetric(region, "ipfs_edge_upstream_wins_total", { upstream: o.upstream });
        if (i > 0) countMetric(region, "ipfs_edge_upstream_resumes_total", { upstream: o.upstream });
        observeMetric(region, "ipfs_edge_upstream_ttfb_seconds", { upstream: o.upstream }, o.ttfbMs! / 1000);
      });
      await flushMetrics(env, region);
    },
  };
}
