/**
 * `GET /api/v1/health/gateways[?region=XXX]`: what a region's GatewayHealth
 * knows about each upstream, in the order the gateway would try them.
 *
 * No authentication: the view is read-only and reveals only the upstream URLs
 * already public in the deployment's configuration (wrangler.toml UPSTREAMS)
 * and aggregate statistics about them.
 *
 * Unlike the gateway, this asks the Durable Object directly (a fresh
 * snapshot): an operator's view may wait, a gateway request may not.
 */
import { Hono } from "hono";
import { gatewayHealth } from "../durable-objects/gateway-health";
import { badRequest } from "../http/errors";
import type { ProbeResult, UpstreamHealth } from "../gateway/upstream/health-snapshot";
import { byUpstream, hedgeDelayFor, rankUpstreams, score } from "../gateway/upstream/health-score";
import { regionOf } from "../gateway/upstream/health";
import { parseUpstreams } from "../gateway/upstream/upstream-list";

/** Colo codes and "local"; anything else is not a region name. */
const REGION = /^[A-Za-z0-9_-]{1,64}$/;

export const healthRoutes = new Hono<{ Bindings: Env }>();

healthRoutes.get("/gateways", async (c) => {
  const requested = c.req.query("region");
  if (requested !== undefined && !REGION.test(requested)) {
    throw badRequest("region must be 1 to 64 letters, digits, '-' or '_' (a colo code such as FRA, or local)");
  }
  const region = requested ?? regionOf(c.req.raw);
  const snapshot = await gatewayHealth(c.env, region).snapshot();
  const known = byUpstream(snapshot);
  const configured = parseUpstreams(c.env.UPSTREAMS);
  const ranked = rankUpstreams(known, configured, snapshot.takenAt);
  // Upstreams no longer configured still have history; list them last, without a rank.
  const retired = snapshot.upstreams.map((u) => u.upstream).filter((u) => !configured.includes(u));

  const upstreams = [
    ...ranked.map((url, i) => view(url, known.get(url), i + 1)),
    ...retired.map((url) => view(url, known.get(url), null)),
  ];
  c.header("Cache-Control", "no-store");
  return c.json({ region, takenAt: iso(snapshot.takenAt), upstreams });
});

function view(url: string, u: UpstreamHealth | undefined, rank: number | null) {
  return {
    url,
    configured: rank !== null,
    rank,
    known: u !== undefined,
    circuit: u?.circuit ?? "closed",
    openUntil: iso(u?.openUntil ?? null),
    cooldownMs: u?.cooldownMs ?? null,
    score: score(u),
    hedgeDelayMs: hedgeDelayFor(u) ?? null,
    counts: u?.counts ?? { ok: 0, notFound: 0, error: 0, timeout: 0, invalidBlock: 0, deviation: 0, aborted: 0 },
    consecutiveFailures: u?.consecutiveFailures ?? 0,
    successEwma: u?.successEwma ?? null,
    ttfbEwmaMs: u?.ttfbEwmaMs ?? null,
    throughputEwmaBytesPerSecond: u?.throughputEwmaBps ?? null,
    lastOkAt: iso(u?.lastOkAt ?? null),
    lastErrorAt: iso(u?.lastErrorAt ?? null),
    lastProbe: probeView(u?.lastProbe ?? null),
  };
}

function probeView(p: ProbeResult | null) {
  return p === null ? null : { at: iso(p.at), ok: p.ok, checks: p.checks };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
