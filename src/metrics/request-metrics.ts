/**
 * Counts every response of the worker (src/worker.ts mounts this first),
 * off the hot path: outcomes go into the isolate's batch and leave in one
 * `ctx.waitUntil(flushMetrics())` once the response — for a stream, its
 * body — is done. Also writes the request's structured log line
 * (src/observability/log.ts).
 *
 * A gateway route tells this middleware about its response through the
 * request's `RequestTrace` (found by `requestTrace(executionCtx)`): where
 * the content came from, the verified bytes of a stream of unknown length,
 * and when the body ended. Keyed by the ExecutionContext, so an internal
 * `/ipfs/` request a site dispatches (src/gateway/request/rewrite.ts) shares
 * its client request's trace and is counted once, as the client's.
 */
import { createMiddleware } from "hono/factory";
import { regionOf } from "../gateway/upstream/health";
import { rewriteOf } from "../gateway/request/rewrite";
import { logLine, logSample, logsLine } from "../observability/log";
import { requestUrl } from "../http/request-url";
import { countMetric, flushMetrics, observeMetric, recordServed, requestEnded, requestStarted } from "./recorder";
import type { HistogramName } from "./catalog";

/** A response's body that never ends (a bug) is counted after this long anyway. */
const BODY_WAIT_CAP_MS = 25_000;

/** The worker's own areas (first path segment); anything else is gateway content. */
const OWN_AREAS = new Set(["api", "psa", "webhooks", "mcp", "metrics", "dashboard"]);

export type ContentSource = "edge_cache" | "r2" | "upstream" | "none";

/** What a gateway route reports about its response. */
export class RequestTrace {
  source: ContentSource = "none";
  /** Verified block bytes the response was built from (its size when it has no Content-Length). */
  blockBytes = 0;
  cid: string | undefined;
  #bodyDone: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  /** The response's body will end later: `bodyEnded()` is called then. */
  expectBody(): void {
    if (this.#bodyDone) return;
    this.#bodyDone = new Promise((resolve) => (this.#resolve = resolve));
  }

  bodyEnded(source: ContentSource, blockBytes: number): void {
    this.source = source;
    this.blockBytes = blockBytes;
    this.#resolve?.();
  }

  /** Resolves once the body is done (at once when no body was announced). */
  whenDone(): Promise<void> {
    if (!this.#bodyDone) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, BODY_WAIT_CAP_MS)));
    return Promise.race([this.#bodyDone, cap]).finally(() => timer !== undefined && clearTimeout(timer));
  }
}

/** What the middleware needs of an ExecutionContext (Hono's and workers-types' declarations differ). */
type Ctx = { waitUntil(promise: Promise<unknown>): void };

const traces = new WeakMap<Ctx, RequestTrace>();

/** The trace of the request being served in `ctx`, if the metrics middleware runs. */
export function requestTrace(ctx: Ctx | undefined): RequestTrace | undefined {
  return ctx === undefined ? undefined : traces.get(ctx);
}

/** Hono's `executionCtx` throws outside a Worker (e.g. `app.request()` in a unit test). */
function executionCtxOf(c: { executionCtx: Ctx }): Ctx | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

export const requestMetrics = () =>
  createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const ctx = executionCtxOf(c);
    // Internal requests of sites are part of their client's request: counted there.
    if (ctx === undefined || rewriteOf(c.req.raw) || traces.has(ctx)) return next();
    const trace = new RequestTrace();
    traces.set(ctx, trace);
    const started = Date.now();
    const url = requestUrl(c.req.raw);
    const area = url.pathname.split("/")[1] ?? "";
    const gateway = !OWN_AREAS.has(area);
    if (gateway) requestStarted();
    try {
      await next();
    } finally {
      const res = c.res;
      const region = regionOf(c.req.raw);
      const finish = async () => {
        await trace.whenDone();
        if (gateway) requestEnded();
        const durationMs = Date.now() - started;
        const length = Number(res.headers.get("Content-Length") ?? NaN);
        // No body: HEAD, 204, 304. Else Content-Length, or (a stream of unknown length) its verified block bytes.
        const bodiless = c.req.method === "HEAD" || res.status === 204 || res.status === 304;
        const known = bodiless ? 0 : Number.isSafeInteger(length) ? length : undefined;
        const bytes = known ?? (gateway ? trace.blockBytes : 0);
        if (gateway) countGateway(region, c.req.raw, url, res, trace, durationMs, bytes);
        else countOwn(region, area, url, res);
        // Every failure; a sample of the rest (REQUEST_LOG_SAMPLE).
        if (logsLine(logSample(c.env.REQUEST_LOG_SAMPLE), res.status >= 500)) {
          logLine({
            kind: "request",
            method: c.req.method,
            route: gateway ? "gateway" : routeOf(c.req.routePath, url.pathname),
            status: res.status,
            durationMs,
            bytes: gateway ? bytes : known,
            cid: gateway ? trace.cid : undefined,
            source: gateway ? trace.source : undefined,
            region,
          });
        }
        await flushMetrics(c.env, region);
      };
      ctx.waitUntil(finish());
    }
  });

function countGateway(region: string, request: Request, url: URL, res: Response, trace: RequestTrace, durationMs: number, bytes: number): void {
  const code = String(res.status);
  const seconds = durationMs / 1000;
  const namespace = url.pathname.startsWith("/ipns/") || url.hostname.includes(".ipns.") ? "ipns" : "ipfs";
  countMetric(region, "ipfs_http_gw_responses_total", { code });
  observeMetric(region, "ipfs_http_gw_get_duration_seconds", { gateway: namespace, status: code }, seconds);
  if (res.status === 504) countMetric(region, "ipfs_http_gw_retrieval_timeouts_total", { code, truncated: "false" });
  if (res.status >= 200 && res.status < 300 && request.method === "GET") {
    const format = formatHistogram(res);
    if (format) observeMetric(region, format, { gateway: namespace }, seconds);
  }
  if (res.status < 400) countMetric(region, "ipfs_edge_gateway_source_total", { source: trace.source });
  countMetric(region, "ipfs_edge_served_bytes_total", {}, bytes);
  recordServed(region, Date.now(), bytes, res.status >= 500);
}

/** boxo's per-format histogram of a successful response, from what it is (its media type). */
function formatHistogram(res: Response): HistogramName | undefined {
  const type = (res.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  switch (type) {
    case "application/vnd.ipld.raw":
      return "ipfs_http_gw_raw_block_get_duration_seconds";
    case "application/vnd.ipld.car":
      return "ipfs_http_gw_car_stream_get_duration_seconds";
    case "application/x-tar":
      return "ipfs_http_gw_tar_stream_get_duration_seconds";
    case "application/vnd.ipfs.ipns-record":
      return "ipfs_http_gw_ipns_record_get_duration_seconds";
    case "application/vnd.ipld.dag-json":
    case "application/vnd.ipld.dag-cbor":
    case "application/json":
    case "application/cbor":
      return "ipfs_http_gw_jsoncbor_get_duration_seconds";
    default:
      // path-gateway.md#etag-response-header: generated listings carry a "DirIndex-…" ETag.
      if ((res.headers.get("ETag") ?? "").startsWith('"DirIndex-')) return "ipfs_http_gw_unixfs_gen_dir_listing_get_duration_seconds";
      return "ipfs_http_gw_unixfs_file_get_duration_seconds";
  }
}

function countOwn(region: string, area: string, url: URL, res: Response): void {
  countMetric(region, "ipfs_edge_api_responses_total", { area, code: String(res.status) });
  if (area === "webhooks" && url.pathname === "/webhooks/pin") countMetric(region, "ipfs_edge_webhook_deliveries_total", { outcome: webhookOutcome(res.status) });
}

/** src/webhooks/routes.ts answers: 202 new pin, 200 a replayed delivery, 401 bad signature, 400 bad payload, 402/409/413 refused. */
function webhookOutcome(status: number): string {
  if (status === 202) return "accepted";
  if (status === 200) return "replayed";
  if (status === 401) return "bad_signature";
  if (status === 400) return "bad_payload";
  if (status < 500) return "refused";
  return "error";
}

/** The route pattern (`/psa/pins/:requestid`), never the raw path: no ids or tokens of a path end up in logs. */
function routeOf(routePath: string | undefined, pathname: string): string {
  if (routePath && routePath !== "*" && routePath !== "/*") return routePath;
  return "/" + (pathname.split("/")[1] ?? "");
}
