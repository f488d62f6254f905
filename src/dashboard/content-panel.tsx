/**
 * Content panel (docs/dashboard.md "Content"): look up a CID. A GET form, so
 * a look-up is a link; the verified fetch test runs only when asked
 * (`test=1`), since it may fetch from upstreams.
 */
import { Hono } from "hono";
import type { CID } from "multiformats/cid";
import { accountsStub } from "../durable-objects/accounts";
import { MAX_ACCOUNTS } from "./cost";
import { parseUserCid } from "../pinning/parse-cid";
import { HttpError } from "../http/errors";
import { targetAccount, type DashboardEnv } from "./dashboard-env";
import { edgeCacheEntries, FETCH_TEST_MAX_BYTES, pinsOf, providersOf, rootInR2, verifiedFetchTest, type FetchTest } from "./content-lookup";
import { Alert, formatBytes, iso, Page } from "./layout";

export const contentPanel = new Hono<DashboardEnv>();

contentPanel.get("/", async (c) => {
  const session = c.get("session");
  const requested = c.req.query("account");
  const text = (c.req.query("cid") ?? "").trim();
  const origin = new URL(c.req.url).origin;
  let cid: CID | null = null;
  let error: string | null = null;
  if (text !== "") {
    try {
      cid = parseUserCid(text);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      error = err.message;
    }
  }
  const account = session.view === "service" ? undefined : await targetAccount(c, undefined);
  let body = null;
  if (cid !== null) {
    const accounts = account !== undefined && account !== null ? [account] : (await accountsStub(c.env).listAccounts()).slice(0, MAX_ACCOUNTS);
    const [pins, r2, edge, providers, test] = await Promise.all([
      pinsOf(c.env, accounts, cid),
      rootInR2(c.env, cid),
      edgeCacheEntries(origin, cid),
      providersOf(c.env, cid, origin, (p) => c.executionCtx.waitUntil(p)),
      c.req.query("test") === "1" ? verifiedFetchTest(c.get("dispatch"), origin, cid) : Promise.resolve(null),
    ]);
    body = (
      <>
        <section class="card" aria-labelledby="where-h">
          <h3 id="where-h">Where it is</h3>
          <dl class="facts">
            <dt>CID</dt>
            <dd class="cid">{cid.toString()}</dd>
            <dt>Pinned</dt>
            <dd data-fact="pinned">
              {pins.length === 0 ? (
                <span class="status status-no">no</span>
              ) : (
                <ul>
                  {pins.map((h) => (
                    <li>
                      <span class={`status status-${h.pin.status}`}>{h.pin.status}</span> {h.pin.pin.name ?? ""}{" "}
                      {session.view === "service" && <span class="muted">{h.account}</span>} <span class="muted">created {iso(h.pin.created)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
            <dt>In R2</dt>
            <dd data-fact="r2">
              {r2 === null ? <span class="status status-no">no</span> : <><span class="status status-yes">yes</span> root block, {formatBytes(r2)}</>}
            </dd>
            <dt>In the edge cache</dt>
            <dd data-fact="edge">
              <ul>
                {edge.map((e) => (
                  <li>
                    <code>{e.request}</code>: <span class={`status status-${e.cached ? "yes" : "no"}`}>{e.cached ? "cached" : "not cached"}</span>
                  </li>
                ))}
              </ul>
              <span class="muted">This location's cache, at this host.</span>
            </dd>
            <dt>Providers (IPNI)</dt>
            <dd data-fact="providers">
              {providers.routers.length === 0 ? (
                <span class="muted">provider discovery is off (PROVIDER_ROUTERS is empty)</span>
              ) : (
                <>
                  {providers.providers.length === 0 ? (
                    <span class="status status-no">none found</span>
                  ) : (
                    <ul>
                      {providers.providers.map((p) => (
                        <li>
                          <code>{p.url}</code> <span class="muted">{p.id}</span>
                        </li>
                      ))}
                    </ul>
                  )}
                  <div class="muted">
                    {providers.routers.map((r) => `${r.router}: ${r.status}${r.error ? ` (${r.error})` : ""}`).join("; ")} · answer from {providers.source}
                  </div>
                </>
              )}
            </dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="test-h">
          <h3 id="test-h">Verified fetch test</h3>
          {test === null ? (
            <form method="get" action="/dashboard/content" class="inline">
              <input type="hidden" name="cid" value={text} />
              {requested !== undefined && session.view === "service" && <input type="hidden" name="account" value={requested} />}
              <input type="hidden" name="test" value="1" />
              <p class="muted">
                Fetches the DAG as a CAR through this gateway (edge cache, R2, upstreams; every block hash-checked), at most {formatBytes(FETCH_TEST_MAX_BYTES)}.
              </p>
              <button type="submit">Run the fetch test</button>
            </form>
          ) : (
            <TestResult test={test} />
          )}
        </section>
      </>
    );
  }
  return c.html(
    <Page title="Content" session={session} current="content" account={session.view === "service" ? requested : undefined}>
      <h2>Content</h2>
      {error !== null && <Alert>{error}</Alert>}
      <form method="get" action="/dashboard/content" class="inline" role="search">
        {requested !== undefined && session.view === "service" && <input type="hidden" name="account" value={requested} />}
        <label>
          CID
          <input name="cid" value={text} required size={60} autocomplete="off" spellcheck={false} />
        </label>
        <button type="submit">Look up</button>
      </form>
      {body}
    </Page>,
    error === null ? 200 : 400,
  );
});

function TestResult(props: { test: FetchTest }) {
  const t = props.test;
  const ok = t.status === 200 && t.end !== "failed";
  const seconds = t.ttfbMs === null ? 0 : Math.max(1, t.totalMs - t.ttfbMs) / 1000;
  return (
    <dl class="facts" data-fact="fetch-test">
      <dt>Result</dt>
      <dd>
        <span class={`status status-${ok ? "yes" : "no"}`}>{ok ? (t.end === "capped" ? `verified (first ${formatBytes(t.bytes)})` : "verified, complete") : "failed"}</span>
        {t.error !== null && <div class="muted">{t.error}</div>}
      </dd>
      <dt>Request</dt>
      <dd>
        <code>{t.request}</code> → {t.status}
      </dd>
      <dt>Time to first byte</dt>
      <dd data-fact="ttfb">{t.ttfbMs === null ? "—" : `${t.ttfbMs} ms`}</dd>
      <dt>Bytes</dt>
      <dd data-fact="bytes">{`${t.bytes} (${formatBytes(t.bytes)}) in ${t.totalMs} ms`}</dd>
      <dt>Throughput</dt>
      <dd data-fact="throughput">{t.ttfbMs === null ? "—" : `${formatBytes(Math.round(t.bytes / seconds))}/s`}</dd>
    </dl>
  );
}
