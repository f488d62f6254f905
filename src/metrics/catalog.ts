/**
 * Every metric `/metrics` exposes, fixed at build time (docs/operations.md
 * "Metrics"). Gateway metrics carry the names boxo's gateway gives them
 * (`ipfs_http_gw_*`, boxo/gateway handler.go and kubo docs/metrics.md) so a
 * dashboard built for a Kubo or Rainbow gateway works unchanged; this
 * service's own are `ipfs_edge_*`.
 *
 * Histogram buckets are fixed (cumulative `le` bounds in seconds) and never
 * change without renaming the metric: a Durable Object keeps counts per
 * bucket index, and old counts would land in the wrong bucket.
 */

/** boxo's `defaultDurationHistogramBuckets` (seconds). */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60] as const;
/** Upstream time to first verified block (seconds): finer at the low end, where hedging decisions are made. */
export const TTFB_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15] as const;

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDef {
  type: MetricType;
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

const durationHistogram = <H extends string>(help: H) => ({ type: "histogram" as const, help, labels: ["gateway"] as const, buckets: DURATION_BUCKETS });

export const METRICS = {
  // ---- boxo gateway names -------------------------------------------------
  ipfs_http_gw_responses_total: { type: "counter", help: "Total HTTP responses of the gateway by status code.", labels: ["code"] },
  ipfs_http_gw_retrieval_timeouts_total: {
    type: "counter",
    help: "Gateway requests that timed out during content retrieval (answered 504 before any byte was sent).",
    labels: ["code", "truncated"],
  },
  ipfs_http_gw_concurrent_requests: {
    type: "gauge",
    help: "Gateway requests being served in this region (sum over isolates that reported in the last minute).",
    labels: [],
  },
  ipfs_http_gw_get_duration_seconds: {
    type: "histogram",
    help: "The time to GET an entire content entity from the gateway, by namespace and status.",
    labels: ["gateway", "status"],
    buckets: DURATION_BUCKETS,
  },
  ipfs_http_gw_raw_block_get_duration_seconds: durationHistogram("The time to GET an entire raw block (application/vnd.ipld.raw)."),
  ipfs_http_gw_car_stream_get_duration_seconds: durationHistogram("The time to GET an entire CAR stream (application/vnd.ipld.car)."),
  ipfs_http_gw_tar_stream_get_duration_seconds: durationHistogram("The time to GET an entire TAR stream (application/x-tar)."),
  ipfs_http_gw_jsoncbor_get_duration_seconds: durationHistogram("The time to GET an entire dag-json, dag-cbor, json or cbor document."),
  ipfs_http_gw_unixfs_file_get_duration_seconds: durationHistogram("The time to serve an entire UnixFS file (and other deserialized responses)."),
  ipfs_http_gw_unixfs_gen_dir_listing_get_duration_seconds: durationHistogram("The time to serve a generated UnixFS HTML directory listing."),
  ipfs_http_gw_ipns_record_get_duration_seconds: durationHistogram("The time to GET an entire IPNS record (application/vnd.ipfs.ipns-record)."),

  // ---- this service: tiers and upstreams ----------------------------------
  ipfs_edge_gateway_source_total: {
    type: "counter",
    help: "Gateway responses by where their content came from: edge_cache (Cache API hit), r2 (the R2 tier), upstream (the race), none (nothing read).",
    labels: ["source"],
  },
  ipfs_edge_served_bytes_total: {
    type: "counter",
    help: "Bytes of gateway responses (Content-Length, or the verified block bytes of a stream of unknown length).",
    labels: [],
  },
  ipfs_edge_upstream_outcomes_total: {
    type: "counter",
    help: "Upstream attempts by result: ok, not_found, error, timeout, invalid_block, aborted (lost a race).",
    labels: ["upstream", "result"],
  },
  ipfs_edge_upstream_wins_total: { type: "counter", help: "Races won by an upstream (first verified block).", labels: ["upstream"] },
  ipfs_edge_upstream_resumes_total: {
    type: "counter",
    help: "Races won after the first one of a request: resumes after a dropped upstream, and blocks fetched alone.",
    labels: ["upstream"],
  },
  ipfs_edge_upstream_invalid_blocks_total: {
    type: "counter",
    help: "Upstream streams dropped for a block that failed verification (wrong hash, unexpected, oversized, broken CAR).",
    labels: ["upstream"],
  },
  ipfs_edge_upstream_verified_bytes_total: { type: "counter", help: "Verified bytes received from an upstream.", labels: ["upstream"] },
  ipfs_edge_upstream_ttfb_seconds: {
    type: "histogram",
    help: "Time from an upstream request to its first verified block.",
    labels: ["upstream"],
    buckets: TTFB_BUCKETS,
  },

  // ---- this service: the rest of the HTTP surface -------------------------
  ipfs_edge_api_responses_total: {
    type: "counter",
    help: "Responses of the worker's own routes by area (api, psa, webhooks, mcp, metrics, dashboard) and status code.",
    labels: ["area", "code"],
  },
  ipfs_edge_webhook_deliveries_total: {
    type: "counter",
    help: "Webhook deliveries by outcome: accepted, replayed, bad_signature, bad_payload, refused, error.",
    labels: ["outcome"],
  },

  // ---- pinning (service-wide) ---------------------------------------------
  ipfs_edge_pins: { type: "gauge", help: "Pins of every account by state (read from each account's registry at scrape time).", labels: ["state"] },
  ipfs_edge_pin_step_failures_total: {
    type: "counter",
    help: "Failed pin steps: retry (will be tried again), failed (the pin failed), internal (our bug, retried).",
    labels: ["outcome"],
  },

  // ---- replication and cost (service-wide, read at scrape time) ------------
  ipfs_edge_replicas: {
    type: "gauge",
    help: "Copies of every account's roots by backend and replica state (read from each account's registry at scrape time, as GET /api/v1/replicas counts them).",
    labels: ["backend", "state"],
  },
  ipfs_edge_backend_stored_bytes: {
    type: "gauge",
    help: "Bytes held per backend: r2 the pinned roots, others their copies stored, at risk or being removed (first 1000 accounts).",
    labels: ["backend"],
  },
  ipfs_edge_estimated_monthly_cost_usd: {
    type: "gauge",
    help: "Estimated monthly storage cost per backend with a configured price (PRICE_R2_GB_MONTH, PRICES), as the dashboard shows it.",
    labels: ["backend"],
  },
  ipfs_edge_budget_exceeded: {
    type: "gauge",
    help: "1 when the projected monthly cost reaches BUDGET_MONTHLY_USD (the dashboard's budget alert), else 0 (also 0 when no budget is set).",
    labels: [],
  },

  // ---- the metrics pipeline itself ----------------------------------------
  ipfs_edge_metrics_dropped_series_total: {
    type: "counter",
    help: "Label sets refused because a metric reached its series limit (MAX_SERIES_PER_METRIC).",
    labels: ["metric"],
  },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;
export type CounterName = { [K in MetricName]: (typeof METRICS)[K]["type"] extends "counter" ? K : never }[MetricName];
export type HistogramName = { [K in MetricName]: (typeof METRICS)[K]["type"] extends "histogram" ? K : never }[MetricName];

/** One metric holds at most this many label sets per region (upstream URLs from IPNI could otherwise grow without bound). */
export const MAX_SERIES_PER_METRIC = 500;

/** A histogram's bucket bounds (empty for other metrics). */
export function bucketsOf(name: MetricName): readonly number[] {
  return (METRICS[name] as MetricDef).buckets ?? [];
}

/** The index of the bucket a value falls in (`buckets.length` = the +Inf bucket). */
export function bucketIndex(buckets: readonly number[], value: number): number {
  const i = buckets.findIndex((le) => value <= le);
  return i === -1 ? buckets.length : i;
}

/** Canonical form of a label set: keys sorted, as JSON (the key of a series in storage and in batches). */
export function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

export function parseLabelKey(key: string): Record<string, string> {
  return Object.fromEntries(JSON.parse(key) as [string, string][]);
}
