/**
 * What an isolate sends the region's Metrics object in one `record()` RPC:
 * plain data (it crosses the RPC boundary by structured clone).
 */
import type { CounterName, HistogramName } from "./catalog";

export interface CounterDelta {
  name: CounterName;
  /** `labelKey()` of the label set. */
  labels: string;
  value: number;
}

export interface HistogramDelta {
  name: HistogramName;
  labels: string;
  /** Observations per bucket index (not cumulative); the last entry is +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

/** Gateway traffic of one minute (epoch ms of its start), for the dashboard's charts. */
export interface ServedDelta {
  minute: number;
  requests: number;
  bytes: number;
  /** Responses with a 5xx status. */
  errors: number;
}

export interface MetricsDelta {
  counters: CounterDelta[];
  histograms: HistogramDelta[];
  served: ServedDelta[];
  /** This isolate's gateway requests in flight when the batch left, for `ipfs_http_gw_concurrent_requests`. */
  isolate?: { id: string; inFlight: number; at: number };
}
