/**
 * Gateways panel (docs/dashboard.md "Gateways"): each upstream as the
 * region's GatewayHealth sees it, in the order the gateway would try them
 * (TTFB, throughput, success, invalid blocks, circuit, last probe), with the
 * last 24 hours of TTFB and success (`GatewayHealth.history()`, one sample
 * per 5 minutes) as small SVG charts.
 */
import { Hono } from "hono";
import { gatewayHealth, HISTORY_KEEP_MS, type HealthSample } from "../durable-objects/gateway-health";
import { badRequest } from "../http/errors";
import { byUpstream, rankUpstreams } from "../gateway/upstream/health-score";
import { PROBE_REGION, regionOf } from "../gateway/upstream/health";
import type { UpstreamHealth } from "../gateway/upstream/health-snapshot";
import { parseUpstreams } from "../gateway/upstream/upstream-list";
import type { DashboardEnv } from "./dashboard-env";
import { formatBytes, iso, Page } from "./layout";
import { Sparkline } from "./sparkline";

const REGION = /^[A-Za-z0-9_-]{1,64}$/;

export const gatewaysPanel = new Hono<DashboardEnv>();

gatewaysPanel.get("/", async (c) => {
  const requested = c.req.query("region");
  if (requested !== undefined && !REGION.test(requested)) throw badRequest("region must be 1 to 64 letters, digits, '-' or '_'");
  const region = requested ?? regionOf(c.req.raw);
  const stub = gatewayHealth(c.env, region);
  const [snapshot, history] = await Promise.all([stub.snapshot(), stub.history()]);
  const known = byUpstream(snapshot);
  const configured = parseUpstreams(c.env.UPSTREAMS);
  const ranked = rankUpstreams(known, configured, snapshot.takenAt);
  const others = snapshot.upstreams.map((u) => u.upstream).filter((u) => !configured.includes(u));
  const samples = new Map<string, HealthSample[]>();
  for (const s of history) samples.set(s.upstream, [...(samples.get(s.upstream) ?? []), s]);
  const to = snapshot.takenAt;
  const from = to - HISTORY_KEEP_MS;
  const account = c.get("session").view === "service" ? c.req.query("account") : undefined;
  return c.html(
    <Page title="Gateways" session={c.get("session")} current="gateways" account={account}>
      <h2>Gateways</h2>
      <p class="muted">
        Region <strong>{region}</strong>, as of {iso(snapshot.takenAt)}. Upstreams in the order the gateway tries them; charts cover the last 24 h (one
        sample per 5 minutes).
        {region !== PROBE_REGION && (
          <>
            {" "}
            Cron probes are filed under region <a href={`/dashboard/gateways?region=${PROBE_REGION}`}>{PROBE_REGION}</a>.
          </>
        )}
      </p>
      <div class="table-wrap">
        <table class="stack">
          <caption class="sr-only">Upstream gateway health</caption>
          <thead>
            <tr>
              <th scope="col">Upstream</th>
              <th scope="col">Circuit</th>
              <th scope="col">TTFB (EWMA), 24 h</th>
              <th scope="col" class="num">Throughput (EWMA)</th>
              <th scope="col">Success (EWMA), 24 h</th>
              <th scope="col" class="num">Invalid blocks</th>
              <th scope="col">Outcomes</th>
              <th scope="col">Last probe</th>
            </tr>
          </thead>
          <tbody>
            {[...ranked, ...others].map((url) => (
              <UpstreamRow url={url} u={known.get(url)} configured={configured.includes(url)} samples={samples.get(url) ?? []} from={from} to={to} />
            ))}
          </tbody>
        </table>
      </div>
    </Page>,
  );
});

function UpstreamRow(props: { url: string; u: UpstreamHealth | undefined; configured: boolean; samples: HealthSample[]; from: number; to: number }) {
  const { u, samples } = props;
  const probe = u?.lastProbe ?? null;
  return (
    <tr data-upstream={props.url}>
      <th scope="row" class="cid" data-label="Upstream">
        {props.url}
        {!props.configured && <div class="muted">not in UPSTREAMS (provider or retired)</div>}
      </th>
      <td data-label="Circuit">
        <span class={`status status-${u?.circuit ?? "closed"}`}>{(u?.circuit ?? "closed").replace("_", "-")}</span>
        {u?.circuit === "open" && u.openUntil !== null && <div class="muted">until {iso(u.openUntil)}</div>}
      </td>
      <td data-label="TTFB">
        <span data-fact="ttfb">{u?.ttfbEwmaMs == null ? "—" : `${Math.round(u.ttfbEwmaMs)} ms`}</span>
        <Sparkline label="TTFB" unit="ms" points={samples.map((s) => ({ at: s.at, value: s.ttfbEwmaMs }))} from={props.from} to={props.to} />
      </td>
      <td class="num" data-label="Throughput">{u?.throughputEwmaBps == null ? "—" : `${formatBytes(Math.round(u.throughputEwmaBps))}/s`}</td>
      <td data-label="Success">
        <span data-fact="success">{u === undefined ? "—" : `${(u.successEwma * 100).toFixed(1)} %`}</span>
        <Sparkline label="Success" unit="%" max={100} points={samples.map((s) => ({ at: s.at, value: s.successEwma * 100 }))} from={props.from} to={props.to} />
      </td>
      <td class="num" data-label="Invalid blocks">{u?.counts.invalidBlock ?? 0}</td>
      <td class="muted" data-label="Outcomes">
        {u === undefined
          ? "no requests yet"
          : `ok ${u.counts.ok} · not found ${u.counts.notFound} · errors ${u.counts.error} · timeouts ${u.counts.timeout}`}
      </td>
      <td data-label="Last probe">
        {probe === null ? (
          <span class="muted">never</span>
        ) : (
          <>
            <span class={`status status-${probe.ok ? "yes" : "no"}`}>{probe.ok ? "passed" : "failed"}</span> <time datetime={new Date(probe.at).toISOString()}>{iso(probe.at)}</time>
            {probe.checks
              .filter((ch) => !ch.ok)
              .map((ch) => (
                <div class="muted">
                  {ch.kind}: {ch.error}
                </div>
              ))}
          </>
        )}
      </td>
    </tr>
  );
}
