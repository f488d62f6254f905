/**
 * Storacha legacy space (docs/storacha.md) against the maintainers' own
 * upload-api test context served over HTTP (test/servers/storacha-server.ts):
 * listing with filecoin/info, migration into pins (bytes through the
 * gateway's upstream, deals under the Filecoin watch), idempotence,
 * resumption after the service was down or stopped answering (every call
 * bounded by STORACHA_TIMEOUT_MS), forged delegations refused.
 */
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import worker from "../../src/worker";
import { storachaImportStub } from "../../src/legacy/storacha-import";
import { pseudoRandomBytes } from "../helpers/pseudo-random";
import { requestLog, resetLog } from "../helpers/upstream";
import { ADMIN, newAccount, settle } from "../pinning/helpers";

const fixture = inject("storachaFixture");
const storacha = inject("storachaBase");

/** The worker with some vars changed (STORACHA_ACCOUNTS, a forged STORACHA_PROOF). */
async function call(method: string, path: string, init: { token?: string; body?: unknown; vars?: Partial<Env> } = {}): Promise<Response> {
  const headers = new Headers();
  if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
  if (init.body !== undefined) headers.set("Content-Type", "application/json");
  const request = new Request(`http://edge.test${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  if (init.vars === undefined) return exports.default.fetch(request);
  // Its waitUntil work (metrics) is not awaited: a gateway body is read after the response returns.
  return worker.fetch(request, { ...env, ...init.vars }, createExecutionContext());
}

async function storachaLog(): Promise<string[]> {
  return (await fetch(`${storacha}/__log`)).json();
}
async function control(path: "__down" | "__up" | "__reset" | `__hang${string}` | `__down?ability=${string}`): Promise<void> {
  expect((await fetch(`${storacha}/${path}`, { method: "POST" })).status).toBe(204);
}

type Listed = { space: string; cursor: string | null; uploads: { root: string; shards: { cid: string; piece: string | null; filecoin: { aggregates: { aggregate: string }[]; deals: { aggregate: string; provider: string; dealId: string }[] } | null }[] }[] };
type Progress = { id: string; state: string; listed: number; created: number; reused: number; pins: Record<string, number>; dealsWatched: number; failed: number; errors: unknown[]; attempts: number; lastError: string | null; nextAttempt: string | null };

/** Starts a migration of the space for the account of `token`: 202 and its job. */
async function startImport(token: string, vars: Partial<Env>): Promise<Progress> {
  const res = await call("POST", "/api/v1/migrate", { token, vars, body: { from: "storacha" } });
  expect(res.status).toBe(202);
  return (await res.json()) as Progress;
}

async function runImport(account: string, id: string, until: (p: Progress) => boolean, token: string, vars: Partial<Env>): Promise<Progress> {
  const stub = storachaImportStub(env, account);
  let progress: Progress | undefined;
  // Time-bound, not round-bound: the object's own alarm may be running a step when this one asks (a loaded machine).
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await runDurableObjectAlarm(stub);
    await settle(account);
    progress = (await (await call("GET", `/api/v1/migrate/${id}`, { token, vars })).json()) as Progress;
    if (until(progress)) return progress;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} never reached the expected state: ${JSON.stringify(progress)}`);
}

describe("Storacha legacy space: listing", () => {
  it("lists exactly the space's uploads, page by page, each shard with its piece and filecoin/info (aggregate, deal, provider)", async () => {
    await control("__reset");
    const first = await call("GET", "/api/v1/storacha/uploads?size=2", { token: ADMIN });
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as Listed;
    expect(page1.space).toBe(fixture.space);
    expect(page1.uploads).toHaveLength(2);
    expect(page1.cursor).toEqual(expect.any(String));
    const second = (await (await call("GET", `/api/v1/storacha/uploads?size=2&cursor=${encodeURIComponent(page1.cursor!)}`, { token: ADMIN })).json()) as Listed;
    expect(second.uploads).toHaveLength(1);
    expect(second.cursor).toBeNull();

    const listed = [...page1.uploads, ...second.uploads];
    const byRoot = new Map(listed.map((u) => [u.root, u]));
    expect([...byRoot.keys()].sort()).toEqual(fixture.uploads.map((u) => u.root).sort());
    for (const upload of fixture.uploads) {
      const got = byRoot.get(upload.root)!;
      expect(got.shards.map((s) => s.cid)).toEqual(upload.shards);
      expect(got.shards.map((s) => s.piece)).toEqual(upload.pieces);
      for (const shard of got.shards) {
        expect(shard.filecoin!.aggregates).toHaveLength(1);
        expect(shard.filecoin!.deals).toEqual([{ aggregate: shard.filecoin!.aggregates[0]!.aggregate, provider: fixture.deal.provider, dealId: fixture.deal.dealId }]);
      }
    }
    // Every shard of the space is in the one aggregate the setup built.
    expect(new Set(listed.flatMap((u) => u.shards.map((s) => s.filecoin!.aggregates[0]!.aggregate))).size).toBe(1);
    const shardCount = fixture.uploads.reduce((n, u) => n + u.shards.length, 0);
    // What the service received: two upload/list pages, one filecoin/info per shard.
    const log = await storachaLog();
    expect(log.filter((a) => a === "upload/list")).toHaveLength(2);
    expect(log.filter((a) => a === "filecoin/info")).toHaveLength(shardCount);
  });

  it("refuses anonymous callers (401), accounts not in STORACHA_ACCOUNTS (403), bad sizes (400)", async () => {
    const { token, account } = await newAccount();
    expect((await call("GET", "/api/v1/storacha/uploads")).status).toBe(401);
    const refused = await call("GET", "/api/v1/storacha/uploads", { token });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("STORACHA_ACCOUNTS");
    expect((await call("GET", "/api/v1/storacha/uploads?size=1", { token, vars: { STORACHA_ACCOUNTS: account } })).status).toBe(200);
    expect((await call("GET", "/api/v1/storacha/uploads?size=0", { token: ADMIN })).status).toBe(400);
  });

  it("a forged delegation, or one to another agent, is a 403 naming the fault; missing secrets a 409", async () => {
    await control("__reset");
    const forged = await call("GET", "/api/v1/storacha/uploads", { token: ADMIN, vars: { STORACHA_PROOF: fixture.forgedProof } as Partial<Env> });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("Storacha refused upload/list");
    expect(await storachaLog()).toEqual(["upload/list"]);
    const foreign = await call("GET", "/api/v1/storacha/uploads", { token: ADMIN, vars: { STORACHA_PROOF: fixture.otherAudienceProof } as Partial<Env> });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain("not to this agent");
    const missing = await call("GET", "/api/v1/storacha/uploads", { token: ADMIN, vars: { STORACHA_KEY: "" } as Partial<Env> });
    expect(missing.status).toBe(409);
    expect(await missing.text()).toContain("STORACHA_KEY and STORACHA_PROOF must be set");
    // Nothing reached the service for the last two.
    expect(await storachaLog()).toEqual(["upload/list"]);
  });
});

describe("Storacha legacy space: POST /api/v1/migrate {from: storacha}", () => {
  it("pins every root with the right bytes (fetched through the upstream), watches its deals, and a second run pins nothing twice", async () => {
    const { token, account } = await newAccount();
    const vars = { STORACHA_ACCOUNTS: account } as Partial<Env>;
    await resetLog("honest");
    const dry = (await (await call("POST", "/api/v1/migrate", { token, vars, body: { from: "storacha", dryRun: true } })).json()) as { roots: string[]; more: boolean };
    expect(dry.roots.sort()).toEqual(fixture.uploads.map((u) => u.root).sort());
    expect(dry.more).toBe(false);

    await control("__reset");
    const res = await call("POST", "/api/v1/migrate", { token, vars, body: { from: "storacha" } });
    expect(res.status).toBe(202);
    const job = (await res.json()) as Progress;
    expect(res.headers.get("Location")).toBe(`/api/v1/migrate/${job.id}`);
    expect(job).toMatchObject({ state: "listing", listed: 0 });
    const done = await runImport(account, job.id, (p) => p.state === "done", token, vars);
    expect(done).toMatchObject({ listed: 3, created: 3, reused: 0, pins: { queued: 0, pinning: 0, pinned: 3, failed: 0 }, failed: 0, errors: [] });
    expect(done.dealsWatched).toBe(3);
    // What the service received: the route's probe, then two pages of 2 (STORACHA_IMPORT_BATCH), one filecoin/info per shard.
    const log = await storachaLog();
    expect(log.filter((a) => a === "upload/list")).toHaveLength(3);
    expect(log.filter((a) => a === "filecoin/info")).toHaveLength(fixture.uploads.reduce((n, u) => n + u.shards.length, 0));

    // The pins, with their bytes read back through the gateway (from R2 now).
    const pins = (await (await call("GET", "/psa/pins?limit=1000", { token })).json()) as { count: number; results: { pin: { cid: string; meta: Record<string, string> } }[] };
    expect(pins.count).toBe(3);
    expect(pins.results.map((p) => p.pin.cid).sort()).toEqual(fixture.uploads.map((u) => u.root).sort());
    expect(pins.results.every((p) => p.pin.meta.source === "storacha" && p.pin.meta.space === fixture.space)).toBe(true);
    // Fetched through the gateway's upstream race (the honest upstream received each root).
    const fetched = (await requestLog("honest")).map((e) => e.url);
    for (const upload of fixture.uploads) expect(fetched.some((u) => u.includes(upload.root))).toBe(true);
    for (const upload of fixture.uploads) {
      const body = await call("GET", `/ipfs/${upload.root}`, { token });
      expect(body.status).toBe(200);
      expect(new Uint8Array(await body.arrayBuffer())).toEqual(pseudoRandomBytes(upload.size, upload.seed));
    }
    // Deals under the existing Filecoin watch, visible through its operator route.
    for (const upload of fixture.uploads) {
      const copies = (await (await call("GET", `/api/v1/filecoin/copies?root=${upload.root}`, { token: ADMIN })).json()) as { copies: { kind: string; dealId: string; providerId: string; account: string; backend: string; pieceCid: string }[] };
      const mine = copies.copies.filter((c) => c.account === account);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ kind: "deal", dealId: fixture.deal.dealId, providerId: fixture.deal.provider, backend: "filecoin-deal" });
      expect(upload.pieces).toContain(mine[0]!.pieceCid);
    }

    // Twice: nothing pinned again, deals watched once.
    const again = await startImport(token, vars);
    const second = await runImport(account, again.id, (p) => p.state === "done", token, vars);
    expect(second).toMatchObject({ listed: 3, created: 0, reused: 3, pins: { pinned: 3 } });
    expect(((await (await call("GET", "/psa/pins?limit=1000", { token })).json()) as { count: number }).count).toBe(3);
    for (const upload of fixture.uploads) {
      const copies = (await (await call("GET", `/api/v1/filecoin/copies?root=${upload.root}`, { token: ADMIN })).json()) as { copies: { account: string }[] };
      expect(copies.copies.filter((c) => c.account === account)).toHaveLength(1);
    }
  }, 90_000);

  it("a forged delegation is a 403 and creates nothing; an account not allowed is a 403", async () => {
    const { token, account } = await newAccount();
    const refused = await call("POST", "/api/v1/migrate", { token, body: { from: "storacha" } });
    expect(refused.status).toBe(403);
    const forged = await call("POST", "/api/v1/migrate", { token, vars: { STORACHA_ACCOUNTS: account, STORACHA_PROOF: fixture.forgedProof } as Partial<Env>, body: { from: "storacha" } });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("Storacha refused upload/list");
    expect(((await (await call("GET", "/psa/pins", { token })).json()) as { count: number }).count).toBe(0);
    // No job was created in the account's import object (no alarm, nothing to run).
    expect(await runDurableObjectAlarm(storachaImportStub(env, account))).toBe(false);
  });

  it("the service unreachable leaves the job retryable; it resumes and finishes once the service is back", async () => {
    const { token, account } = await newAccount();
    const vars = { STORACHA_ACCOUNTS: account } as Partial<Env>;
    await control("__down");
    try {
      const job = await startImport(token, vars);
      await runDurableObjectAlarm(storachaImportStub(env, account));
      const waiting = (await (await call("GET", `/api/v1/migrate/${job.id}`, { token, vars })).json()) as Progress;
      expect(waiting).toMatchObject({ state: "listing", listed: 0, attempts: 1 });
      expect(waiting.lastError).toContain("Storacha service unavailable for upload/list");
      expect(Date.parse(waiting.nextAttempt!)).toBeGreaterThan(Date.now());
      await control("__up");
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(waiting.nextAttempt!) - Date.now()) + 50));
      const done = await runImport(account, job.id, (p) => p.state === "done", token, vars);
      expect(done).toMatchObject({ listed: 3, created: 3, pins: { pinned: 3 }, attempts: 0, lastError: null });
    } finally {
      await control("__up");
    }
  }, 90_000);
});

describe("Storacha legacy space: a service that accepts the connection and never answers", () => {
  it("the listing gives up after STORACHA_TIMEOUT_MS: 502 naming the call, for UCAN (upload/list) and for the claims service", async () => {
    const vars = { STORACHA_TIMEOUT_MS: "300" } as Partial<Env>;
    await control("__reset");
    await control("__hang");
    try {
      const started = Date.now();
      const res = await call("GET", "/api/v1/storacha/uploads?size=2", { token: ADMIN, vars });
      const elapsed = Date.now() - started;
      expect(res.status).toBe(502);
      expect(res.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
      expect(await res.text()).toBe("Storacha service did not answer upload/list within 300 ms (STORACHA_TIMEOUT_MS)\n");
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(4000);
      // The service received the invocation (and held it).
      expect(await storachaLog()).toEqual(["upload/list"]);

      // upload/list answered, the claims service silent: the first shard's claims read times out.
      await control("__up");
      await control("__reset");
      await control("__hang?path=/claims/");
      const claims = await call("GET", "/api/v1/storacha/uploads?size=2", { token: ADMIN, vars });
      expect(claims.status).toBe(502);
      expect(await claims.text()).toBe("content claims did not answer within 300 ms (STORACHA_TIMEOUT_MS)\n");
      expect(await storachaLog()).toEqual(["upload/list"]);
    } finally {
      await control("__up");
    }
    // Answered again, the same listing works.
    expect((await call("GET", "/api/v1/storacha/uploads?size=2", { token: ADMIN, vars: { STORACHA_TIMEOUT_MS: "10000" } as Partial<Env> })).status).toBe(200);
  });

  it("filecoin/info never answered mid-page: the step gives up after STORACHA_TIMEOUT_MS (5 s here), keeps its cursor, retries after the backoff and finishes with every deal watched", async () => {
    const { token, account } = await newAccount();
    const vars = { STORACHA_ACCOUNTS: account } as Partial<Env>;
    await control("__reset");
    await control("__hang?ability=filecoin/info");
    try {
      const job = await startImport(token, vars);
      const waiting = await runImport(account, job.id, (p) => p.attempts === 1, token, vars);
      expect(waiting).toMatchObject({ state: "listing", listed: 1, created: 1, dealsWatched: 0, failed: 1, attempts: 1 });
      expect(waiting.lastError).toBe("Storacha service did not answer filecoin/info within 5000 ms (STORACHA_TIMEOUT_MS)");
      expect(Date.parse(waiting.nextAttempt!)).toBeGreaterThan(Date.now());
      // The root whose first shard's filecoin/info hung carries the error until the page is run again.
      const [hung] = waiting.errors as { root: string; error: string }[];
      const upload = fixture.uploads.find((u) => u.root === hung!.root)!;
      expect(hung!.error).toBe(`shard ${upload.shards[0]}: Storacha service did not answer filecoin/info within 5000 ms (STORACHA_TIMEOUT_MS)`);
      // What the service received: the route's probe, the step's page, one filecoin/info (held): nothing after it.
      expect(await storachaLog()).toEqual(["upload/list", "upload/list", "filecoin/info"]);
      const before = (await (await call("GET", `/api/v1/filecoin/copies?root=${hung!.root}`, { token: ADMIN })).json()) as { copies: { account: string }[] };
      expect(before.copies.filter((c) => c.account === account)).toEqual([]);

      await control("__up");
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(waiting.nextAttempt!) - Date.now()) + 50));
      const done = await runImport(account, job.id, (p) => p.state === "done", token, vars);
      expect(done).toMatchObject({ listed: 3, created: 3, reused: 0, pins: { pinned: 3, failed: 0 }, dealsWatched: 3, failed: 0, errors: [], attempts: 0, lastError: null });
      const log = await storachaLog();
      // The page run again (and the second page), then one filecoin/info per shard besides the one that hung.
      expect(log.filter((a) => a === "upload/list")).toHaveLength(4);
      expect(log.filter((a) => a === "filecoin/info")).toHaveLength(fixture.uploads.reduce((n, u) => n + u.shards.length, 0) + 1);
      expect(((await (await call("GET", "/psa/pins?limit=1000", { token })).json()) as { count: number }).count).toBe(3);
      for (const u of fixture.uploads) {
        const copies = (await (await call("GET", `/api/v1/filecoin/copies?root=${u.root}`, { token: ADMIN })).json()) as { copies: { account: string; dealId: string }[] };
        expect(copies.copies.filter((c) => c.account === account).map((c) => c.dealId)).toEqual([fixture.deal.dealId]);
      }
    } finally {
      await control("__up");
    }
  }, 90_000);
});

describe("Storacha legacy space: a piece the service always fails", () => {
  it("filecoin/info answered 503 every time: each page waits out 8 runs, then keeps the error on its roots and goes on; the next migration takes those roots again", async () => {
    const { token, account } = await newAccount();
    const vars = { STORACHA_ACCOUNTS: account } as Partial<Env>;
    const stub = storachaImportStub(env, account);
    await control("__reset");
    await control("__down?ability=filecoin/info");
    try {
      const job = await startImport(token, vars);
      const seen: number[] = [];
      let progress: Progress | undefined;
      for (let run = 0; run < 40; run++) {
        // Each run as soon as the last one failed: the backoff is waited out by moving the job's next run to now.
        await runInDurableObject(stub, (_o, state) => void state.storage.sql.exec("UPDATE jobs SET next_at = 0 WHERE id = ? AND state = 'listing'", job.id));
        await runDurableObjectAlarm(stub);
        progress = (await (await call("GET", `/api/v1/migrate/${job.id}`, { token, vars })).json()) as Progress;
        seen.push(progress.attempts);
        if (progress.state === "done") break;
      }
      // Two pages (STORACHA_IMPORT_BATCH 2, 3 uploads): runs 1–7 of each stop with attempts 1..7, the 8th goes on.
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0]);
      expect(progress).toMatchObject({ state: "done", listed: 3, created: 3, dealsWatched: 0, failed: 3, attempts: 0, lastError: null });
      const errors = (progress!.errors as { root: string; error: string }[]).map((e) => e.error).sort();
      // Kept on each root: its last shard's error (every shard was tried on the page's 8th run).
      const expected = fixture.uploads.map((u) => `shard ${u.shards[u.shards.length - 1]}: Storacha service unavailable for filecoin/info: HTTP Request failed. POST ${storacha}/ → 503`).sort();
      expect(errors).toEqual(expected);
      // Runs 1–7 of each page stop at its first shard; the 8th asks for every shard of the page.
      const log = await storachaLog();
      expect(log.filter((a) => a === "filecoin/info")).toHaveLength(2 * 7 + fixture.uploads.reduce((n, u) => n + u.shards.length, 0));
    } finally {
      await control("__up");
    }

    // The service answers again: a second migration takes the roots kept with an error, and watches their deals.
    const second = await startImport(token, vars);
    const done = await runImport(account, second.id, (p) => p.state === "done", token, vars);
    expect(done).toMatchObject({ listed: 3, created: 0, reused: 3, dealsWatched: 3, failed: 0, errors: [] });
  }, 90_000);
});
