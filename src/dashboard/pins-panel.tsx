/**
 * Pins panel (docs/dashboard.md "Pins"): the account's pins from its
 * PinRegistry with filters (status, name, date), pin a CID, upload a file,
 * unpin, retry a failed pin (a new pin of the same CID, name, origins and
 * meta; the failed record goes once the new one exists). While a pin is
 * queued or pinning, the table re-fetches itself every POLL_SECONDS (htmx
 * `hx-trigger="every …"`); the fragment that no longer has live pins stops
 * the polling. Without JavaScript the Refresh link does the same.
 */
import { Hono } from "hono";
import { CID } from "multiformats/cid";
import { accountsStub } from "../durable-objects/accounts";
import { registryStub } from "../durable-objects/pin-registry";
import { badRequest, HttpError } from "../http/errors";
import type { PinFilter, PinRecord, PinState } from "../pinning/pin-types";
import type { RootStatus } from "../replication/replica-types";
import { PIN_STATES } from "../pinning/pin-types";
import { parsePin } from "../psa/pin-input";
import { unwrap } from "../psa/routes";
import { uploadForAccount } from "../uploads/routes";
import { field, targetAccount, type DashboardContext, type DashboardEnv } from "./dashboard-env";
import { Alert, formatBytes, iso, Page } from "./layout";

/** Seconds between two polls of a table that has queued or pinning pins. */
export const POLL_SECONDS = 2;
/** Rows shown (newest first); the count says how many matched. */
const PAGE_ROWS = 100;
/** A queued/pinning pin older than this, or with this many attempts, is shown as stuck. */
export const STUCK_AFTER_MS = 15 * 60_000;
export const STUCK_ATTEMPTS = 3;
/** The upload form's body is read whole (multipart): larger files go through POST /api/v1/upload, which streams. */
export const MAX_FORM_UPLOAD_BYTES = 32 * 1024 * 1024;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface Filters {
  status: PinState | "";
  name: string;
  from: string;
  to: string;
}

export const pinsPanel = new Hono<DashboardEnv>();

pinsPanel.get("/", async (c) => {
  const account = await targetAccount(c, c.req.query("account"));
  const filters = readFilters(c);
  return c.html(await pinsPage(c, account, filters, { notice: notice(c) }));
});

/** The table alone: what the polling fetches. */
pinsPanel.get("/table", async (c) => {
  const account = await targetAccount(c, c.req.query("account"));
  if (account === null) throw badRequest("choose an account");
  const filters = readFilters(c);
  const list = await registryStub(c.env, account).listPins(toPinFilter(filters));
  return c.html(<PinsTable account={account} filters={filters} list={list} replicas={await replicasOf(c.env, account, list.results)} csrf={c.get("session").csrf} service={c.get("session").view === "service"} now={Date.now()} />);
});

pinsPanel.post("/", async (c) => {
  const form = c.get("form");
  const account = await requireAccount(c, field(form, "account"));
  const name = field(form, "name")?.trim();
  try {
    const { input, root } = parsePin({ cid: (field(form, "cid") ?? "").trim(), name: name === "" ? undefined : name });
    const record = unwrap(await registryStub(c.env, account).createPin(input, root));
    return back(c, account, `pinned=${record.requestid}`);
  } catch (err) {
    return failed(c, account, err);
  }
});

/**
 * `POST /dashboard/upload` (mounted beside the pins panel, src/dashboard/routes.tsx): not under
 * `/dashboard/pins/`, where a static `upload` beside `/:requestid/unpin` would put every request of
 * the worker through Hono's slower TrieRouter (test/http/router.test.ts).
 */
export const uploadForm = new Hono<DashboardEnv>();

uploadForm.post("/", async (c) => {
  const form = c.get("form");
  const account = await requireAccount(c, field(form, "account"));
  const file = form.get("file");
  try {
    if (!(file instanceof File)) throw badRequest("choose a file to upload");
    const name = field(form, "name")?.trim() || file.name || undefined;
    // Browsers rarely know the CAR media type: the .car extension says it too.
    const car = file.type === "application/vnd.ipld.car" || /\.car$/i.test(file.name);
    const result = await uploadForAccount(c.env, account, file.stream(), car ? "application/vnd.ipld.car" : "application/octet-stream", name);
    return back(c, account, `uploaded=${result.cid}`);
  } catch (err) {
    return failed(c, account, err);
  }
});

pinsPanel.post("/:requestid/unpin", async (c) => {
  const form = c.get("form");
  const account = await requireAccount(c, field(form, "account"));
  if (!(await registryStub(c.env, account).deletePin(c.req.param("requestid")))) return failed(c, account, new HttpError("not_found", "no such pin (already removed?)"));
  return back(c, account, "unpinned=1");
});

pinsPanel.post("/:requestid/retry", async (c) => {
  const form = c.get("form");
  const account = await requireAccount(c, field(form, "account"));
  const registry = registryStub(c.env, account);
  const old = await registry.getPin(c.req.param("requestid"));
  try {
    if (old === null) throw new HttpError("not_found", "no such pin (already removed?)");
    if (old.status !== "failed") throw new HttpError("conflict", `only a failed pin can be retried; this one is ${old.status}`);
    // Retry = re-create: same CID, name, origins, meta; a fresh deadline and attempt count.
    const { input, root } = parsePin(old.pin);
    const record = unwrap(await registry.createPin(input, root));
    await registry.deletePin(old.requestid);
    return back(c, account, `retried=${record.requestid}`);
  } catch (err) {
    return failed(c, account, err);
  }
});

async function requireAccount(c: DashboardContext, requested: string | undefined): Promise<string> {
  const account = await targetAccount(c, requested);
  if (account === null) throw badRequest("choose an account first");
  return account;
}

/** POST/redirect/GET back to the panel, keeping the operator's account choice. */
function back(c: DashboardContext, account: string, result: string) {
  const q = new URLSearchParams(result);
  if (c.get("session").view === "service") q.set("account", account);
  return c.redirect(`/dashboard/pins?${q}`, 303);
}

/** A refused action: the panel again, with the reason, and the error's status. */
async function failed(c: DashboardContext, account: string, err: unknown) {
  if (!(err instanceof HttpError)) throw err;
  const filters: Filters = { status: "", name: "", from: "", to: "" };
  return c.html(await pinsPage(c, account, filters, { error: err.message }), err.status as 400);
}

function notice(c: DashboardContext): string | undefined {
  const q = (k: string) => c.req.query(k);
  if (q("pinned")) return `Pin requested: ${q("pinned")}.`;
  if (q("uploaded")) return `Uploaded and pinned: ${q("uploaded")}.`;
  if (q("retried")) return `Retrying as a new pin: ${q("retried")}.`;
  if (q("unpinned")) return "Unpinned.";
  return undefined;
}

function readFilters(c: DashboardContext): Filters {
  const status = c.req.query("status") ?? "";
  if (status !== "" && !PIN_STATES.includes(status as PinState)) throw badRequest(`status must be one of ${PIN_STATES.join(", ")}`);
  const name = c.req.query("name") ?? "";
  if ([...name].length > 255) throw badRequest("name longer than 255 characters");
  const from = c.req.query("from") ?? "";
  const to = c.req.query("to") ?? "";
  for (const [k, v] of [["from", from], ["to", to]] as const) {
    if (v !== "" && (!DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)))) throw badRequest(`${k} must be a date (YYYY-MM-DD)`);
  }
  return { status: status as PinState | "", name, from, to };
}

function toPinFilter(f: Filters): PinFilter {
  const filter: PinFilter = { match: "ipartial", status: f.status === "" ? [...PIN_STATES] : [f.status], limit: PAGE_ROWS };
  if (f.name !== "") filter.name = f.name;
  // Whole UTC days: `after`/`before` are exclusive.
  if (f.from !== "") filter.after = Date.parse(`${f.from}T00:00:00Z`) - 1;
  if (f.to !== "") filter.before = Date.parse(`${f.to}T00:00:00Z`) + 86_400_000;
  return filter;
}

function filterQuery(account: string | null, f: Filters, service: boolean): string {
  const q = new URLSearchParams();
  if (service && account !== null) q.set("account", account);
  for (const [k, v] of Object.entries(f)) if (v !== "") q.set(k, v);
  return q.toString();
}

async function pinsPage(c: DashboardContext, account: string | null, filters: Filters, msg: { notice?: string; error?: string }) {
  const session = c.get("session");
  const service = session.view === "service";
  const accounts = service ? await accountsStub(c.env).listAccounts() : [];
  const list = account === null ? null : await registryStub(c.env, account).listPins(toPinFilter(filters));
  return (
    <Page title="Pins" session={session} current="pins" account={account ?? undefined}>
      <h2>Pins</h2>
      {msg.error !== undefined && <Alert>{msg.error}</Alert>}
      {msg.notice !== undefined && (
        <p class="notice" role="status">
          {msg.notice}
        </p>
      )}
      {service && (
        <section class="card" aria-labelledby="acc-h">
          <h3 id="acc-h">Account</h3>
          <form method="get" action="/dashboard/pins" class="inline">
            <label>
              Account
              <select name="account">
                <option value="">Choose an account…</option>
                {accounts.map((a) => (
                  <option value={a} selected={a === account}>
                    {a}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Show</button>
          </form>
          {accounts.length === 0 && <p class="muted">No accounts yet: mint a token with POST /api/v1/tokens.</p>}
        </section>
      )}
      {account !== null && list !== null && (
        <>
          <section class="card" aria-labelledby="add-h">
            <h3 id="add-h">Add</h3>
            <form method="post" action="/dashboard/pins" class="inline">
              <input type="hidden" name="csrf" value={session.csrf} />
              <input type="hidden" name="account" value={account} />
              <label>
                CID
                <input name="cid" required size={40} autocomplete="off" spellcheck={false} />
              </label>
              <label>
                Name (optional)
                <input name="name" maxlength={255} />
              </label>
              <button type="submit">Pin</button>
            </form>
            <form method="post" action="/dashboard/upload" enctype="multipart/form-data" class="inline spaced">
              <input type="hidden" name="csrf" value={session.csrf} />
              <input type="hidden" name="account" value={account} />
              <label>
                File (up to {formatBytes(MAX_FORM_UPLOAD_BYTES)}; a .car is imported as a CAR)
                <input type="file" name="file" required />
              </label>
              <label>
                Name (optional)
                <input name="name" maxlength={255} />
              </label>
              <button type="submit">Upload and pin</button>
            </form>
          </section>
          <section class="card" aria-labelledby="filter-h">
            <h3 id="filter-h">Filter</h3>
            <form method="get" action="/dashboard/pins" class="inline" role="search">
              {service && <input type="hidden" name="account" value={account} />}
              <label>
                Status
                <select name="status">
                  <option value="">any</option>
                  {PIN_STATES.map((s) => (
                    <option value={s} selected={s === filters.status}>
                      {s}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Name contains
                <input name="name" value={filters.name} />
              </label>
              <label>
                Created from
                <input type="date" name="from" value={filters.from} />
              </label>
              <label>
                Created to
                <input type="date" name="to" value={filters.to} />
              </label>
              <button type="submit">Filter</button>
            </form>
          </section>
          <PinsTable account={account} filters={filters} list={list} replicas={await replicasOf(c.env, account, list.results)} csrf={session.csrf} service={service} now={Date.now()} />
        </>
      )}
    </Page>
  );
}

/** Unified replication status of the listed pins' roots (src/replication/), keyed by the root as each pin names it. */
async function replicasOf(env: Env, account: string, pins: PinRecord[]): Promise<Map<string, RootStatus>> {
  const v1 = (cid: string) => {
    try {
      return CID.parse(cid).toV1().toString();
    } catch {
      return cid;
    }
  };
  const roots = [...new Set(pins.map((p) => v1(p.pin.cid)))];
  const statuses = roots.length === 0 ? [] : await registryStub(env, account).rootStatuses(roots);
  const byRoot = new Map<string, RootStatus>();
  statuses.forEach((s, i) => s !== null && byRoot.set(roots[i]!, s));
  return new Map(pins.flatMap((p) => (byRoot.has(v1(p.pin.cid)) ? [[p.pin.cid, byRoot.get(v1(p.pin.cid))!] as const] : [])));
}

/** The replicas cell: each copy's backend and state, and a details list (bytes, last check, error) under the aggregate. */
function Replicas(props: { status: RootStatus | undefined }) {
  const { status } = props;
  if (status === undefined) return <span class="muted">—</span>;
  return (
    <details class="replicas" data-aggregate={status.aggregate}>
      <summary>
        <span class={`status status-${status.aggregate}`}>{status.aggregate.replace("_", " ")}</span>{" "}
        {status.replicas.map((r) => `${r.backend}=${r.state}`).join(" ")}
      </summary>
      <ul>
        {status.replicas.map((r) => (
          <li data-backend={r.backend} data-state={r.state}>
            <strong>{r.backend}</strong> <span class={`status status-${r.state}`}>{r.state}</span>
            {!r.wanted && <span class="muted"> (being removed)</span>}
            {r.bytes !== null && <span> · {formatBytes(r.bytes)}</span>}
            {r.checkedAt !== null && <span class="muted"> · checked {r.checkedAt.replace(/\.\d{3}Z$/, "Z")}</span>}
            {r.lastError !== null && <div class="muted">last error: {r.lastError}</div>}
          </li>
        ))}
      </ul>
      {status.plan !== null && (
        <div class="muted">
          plan: {status.plan.backends.join(", ")} (at least {status.plan.minCopies} cop{status.plan.minCopies === 1 ? "y" : "ies"}, {status.plan.rule})
          {status.plan.problems.length > 0 && ` · ${status.plan.problems.join("; ")}`}
        </div>
      )}
    </details>
  );
}

function PinsTable(props: {
  account: string;
  filters: Filters;
  list: { count: number; results: PinRecord[] };
  replicas: Map<string, RootStatus>;
  csrf: string;
  service: boolean;
  now: number;
}) {
  const { list, now } = props;
  const query = filterQuery(props.account, props.filters, props.service);
  const live = list.results.some((p) => p.status === "queued" || p.status === "pinning");
  const poll = live ? { "hx-get": `/dashboard/pins/table?${query}`, "hx-trigger": `every ${POLL_SECONDS}s`, "hx-swap": "outerHTML" } : {};
  return (
    <div id="pins-table" {...poll} aria-live="polite">
      <p class="muted">
        {list.count === list.results.length ? `${list.count} pin${list.count === 1 ? "" : "s"}` : `${list.results.length} of ${list.count} pins (newest first)`}
        {live && ` · ${list.results.filter((p) => p.status === "queued" || p.status === "pinning").length} in progress, updating every ${POLL_SECONDS} s`}{" "}
        · <a href={`/dashboard/pins?${query}`}>Refresh</a>
      </p>
      <div class="table-wrap">
        <table class="stack">
          <caption class="sr-only">Pins of account {props.account}</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Name</th>
              <th scope="col">CID</th>
              <th scope="col" class="num">Size</th>
              <th scope="col">Created</th>
              <th scope="col">Details</th>
              <th scope="col">Replicas</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.results.map((p) => {
              const stuck = isStuck(p, now);
              return (
                <tr class={p.status === "failed" ? "failed" : stuck ? "stuck" : undefined} data-requestid={p.requestid} data-status={p.status}>
                  <td data-label="Status">
                    <span class={`status status-${p.status}`}>{p.status}</span>
                    {stuck && (
                      <>
                        {" "}
                        <span class="status status-failed">stuck</span>
                      </>
                    )}
                  </td>
                  <td data-label="Name">{p.pin.name ?? <span class="muted">—</span>}</td>
                  <td data-label="CID" class="cid">{p.pin.cid}</td>
                  <td data-label="Size" class="num">{p.info.dag_size === undefined ? "—" : formatBytes(Number(p.info.dag_size))}</td>
                  <td data-label="Created">
                    <time datetime={new Date(p.created).toISOString()}>{iso(p.created)}</time>
                  </td>
                  <td data-label="Details">
                    {p.info.status_details ?? ""}
                    {p.info.last_error !== undefined && (p.status === "queued" || p.status === "pinning") && <div class="muted">last error: {p.info.last_error}</div>}
                    <div class="muted">attempts: {p.info.attempt_count}</div>
                  </td>
                  <td data-label="Replicas">
                    <Replicas status={props.replicas.get(p.pin.cid)} />
                  </td>
                  <td data-label="Actions">
                    <div class="actions">
                      {p.status === "failed" && (
                        <form method="post" action={`/dashboard/pins/${p.requestid}/retry`}>
                          <input type="hidden" name="csrf" value={props.csrf} />
                          <input type="hidden" name="account" value={props.account} />
                          <button type="submit" class="secondary" aria-label={`Retry ${p.pin.name ?? p.pin.cid}`}>
                            Retry
                          </button>
                        </form>
                      )}
                      <form method="post" action={`/dashboard/pins/${p.requestid}/unpin`}>
                        <input type="hidden" name="csrf" value={props.csrf} />
                        <input type="hidden" name="account" value={props.account} />
                        <button type="submit" class="danger" aria-label={`Unpin ${p.pin.name ?? p.pin.cid}`}>
                          Unpin
                        </button>
                      </form>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function isStuck(p: PinRecord, now: number): boolean {
  if (p.status !== "queued" && p.status !== "pinning") return false;
  return now - p.created >= STUCK_AFTER_MS || Number(p.info.attempt_count ?? 0) >= STUCK_ATTEMPTS;
}
