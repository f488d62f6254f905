import { env } from "cloudflare:workers";
import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { verifyReplicas } from "../../src/replication/verify-cron";
import { call, newAccount, pinJson } from "../pinning/helpers";
import { makeDue, pinInR2, psaLog, psaMode, psaPins, replicaOf, rootStatus, runUntil } from "./helpers";

const allStored = (token: string, cid: { toString(): string }) => async () => (await rootStatus(token, cid.toString())).aggregate === "stored";

describe("replication engine: policy, state, unified status (local PSA services)", () => {
  it("routes meta.tier = archive to R2 + remote + backup; each remote got the pin with our gateway in origins", async () => {
    const { token, account } = await newAccount();
    const { root, requestid } = await pinInR2(token, account, 901, { tier: "archive" });
    await runUntil(account, allStored(token, root), 10_000);

    const status = await rootStatus(token, root);
    expect(status.plan).toEqual({ backends: ["r2", "remote", "backup"], minCopies: 3, rule: "rules[0]", problems: [] });
    expect(status.replicas.map((r) => [r.backend, r.state])).toEqual([["backup", "stored"], ["r2", "stored"], ["remote", "stored"]]);
    for (const tenant of ["remote", "backup"]) {
      const posts = (await psaLog(tenant)).filter((e) => e.method === "POST" && e.body?.cid === root.toString());
      expect(posts).toHaveLength(1);
      expect(posts[0]!.body).toEqual({ cid: root.toString(), origins: ["/dns4/edge.example/tcp/443/https"], meta: { tier: "archive" } });
      const remote = (await psaPins(tenant)).find((p) => p.pin.cid === root.toString())!;
      expect(replicaOf(status, tenant).remoteId).toBe(remote.requestid);
      expect(remote.status).toBe("pinned");
    }
    expect(status.carSize).toBeGreaterThan(3000);
    expect(replicaOf(status, "remote").log.map((l) => l.action)).toEqual(["planned", "store", "pending", "stored"]);

    const counts = await call("GET", "/api/v1/replicas", { token });
    expect(await counts.json()).toEqual({ byBackend: { backup: { stored: 1 }, r2: { stored: 1 }, remote: { stored: 1 } }, total: 3 });

    // PSA status keeps its meaning (R2 held), replicas summarised in info.
    const psa = await pinJson(await call("GET", `/psa/pins/${requestid}`, { token }), 200);
    expect(psa.status).toBe("pinned");
    expect(psa.info.replicas).toBe("backup=stored r2=stored remote=stored");
    expect(psa.info.replication).toBe("stored");
  });

  it("a backend configured with origins: [] sends none (services that dial every origin over libp2p)", async () => {
    const { token, account } = await newAccount();
    const { root } = await pinInR2(token, account, 911, { replication: "plain" });
    await runUntil(account, allStored(token, root), 10_000);
    const posts = (await psaLog("plain")).filter((e) => e.method === "POST" && e.body?.cid === root.toString());
    expect(posts.map((e) => e.body)).toEqual([{ cid: root.toString(), meta: { replication: "plain" } }]);
  });

  it("routes by size: a small class=sized pin goes to remote, a large one to backup; default is R2 only", async () => {
    const { token, account } = await newAccount();
    const small = await pinInR2(token, account, 902, { class: "sized" }, 2000);
    const large = await pinInR2(token, account, 903, { class: "sized" }, 20_000);
    const plain = await pinInR2(token, account, 904, {}, 2000);
    await runUntil(account, async () => (await allStored(token, small.root)()) && (await allStored(token, large.root)()), 10_000);
    expect((await rootStatus(token, small.root)).replicas.map((r) => r.backend)).toEqual(["r2", "remote"]);
    expect((await rootStatus(token, large.root)).replicas.map((r) => r.backend)).toEqual(["backup", "r2"]);
    const r2only = await rootStatus(token, plain.root);
    expect(r2only.replicas.map((r) => [r.backend, r.state])).toEqual([["r2", "stored"]]);
    expect(r2only.aggregate).toBe("stored");
    expect((await psaLog("backup")).some((e) => e.body?.cid === small.root.toString())).toBe(false);

    // The PSA list reads the whole page's replication info in one batch (ReplicaEngine.summaries): each pin gets its own root's lines.
    const psaList = await call("GET", "/psa/pins", { token });
    expect(psaList.status).toBe(200);
    expect(psaList.headers.get("Content-Type")).toBe("application/json");
    const page = (await psaList.json()) as { count: number; results: { pin: { cid: string }; info: Record<string, string> }[] };
    expect(page.count).toBe(3);
    expect(page.results.map((r) => [r.pin.cid, r.info.replicas, r.info.replication])).toEqual([
      [plain.root.toString(), undefined, undefined], // R2 only: no replica rows, no lines (as before the batch)
      [large.root.toString(), "backup=stored r2=stored", "stored"],
      [small.root.toString(), "r2=stored remote=stored", "stored"],
    ]);

    const list = await call("GET", "/api/v1/pins?limit=2", { token });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { count: number; results: { cid: string }[] };
    expect(body.count).toBe(3);
    expect(body.results.map((r) => r.cid)).toEqual([plain.root.toString(), large.root.toString()]);
  });

  it("a backend down: the others complete, it retries with backoff and is stored once it is back", async () => {
    const { token, account } = await newAccount();
    await psaMode("flaky", { down: true });
    try {
      const { root } = await pinInR2(token, account, 905, { replication: "flaky,remote" });
      await runUntil(account, async () => replicaOf(await rootStatus(token, root), "remote").state === "stored", 10_000);
      await runUntil(account, async () => replicaOf(await rootStatus(token, root), "flaky").attempts >= 1 && replicaOf(await rootStatus(token, root), "flaky").lastError !== null, 5_000);
      let status = await rootStatus(token, root);
      const flaky = replicaOf(status, "flaky");
      expect(flaky.state).toBe("queued");
      expect(flaky.lastError).toBe("retryable: GET /pins: HTTP 503 SERVICE_UNAVAILABLE: down for maintenance");
      const wait = Date.parse(flaky.nextAttempt!) - Date.parse(flaky.updated);
      expect(wait).toBeGreaterThanOrEqual(9_900);
      expect(wait).toBeLessThanOrEqual(10_100);
      expect(status.aggregate).toBe("queued");
      expect(replicaOf(status, "r2").state).toBe("stored");

      // Nothing is sent before the backoff is over.
      const before = (await psaLog("flaky")).length;
      await runDurableObjectAlarm(registryStub(env, account));
      expect((await psaLog("flaky")).length).toBe(before);

      await psaMode("flaky", { down: false });
      await makeDue(account, "flaky");
      await runUntil(account, allStored(token, root), 10_000);
      status = await rootStatus(token, root);
      expect(replicaOf(status, "flaky").attempts).toBe(2);
      expect(replicaOf(status, "flaky").lastError).toBeNull();
    } finally {
      await psaMode("flaky", { down: false });
    }
  });

  it("a rate-limited backend waits Retry-After before asking again", async () => {
    const { token, account } = await newAccount();
    await psaMode("limited", { rateLimit: 1, retryAfter: 2 });
    const { root } = await pinInR2(token, account, 906, { replication: "limited" });
    await runUntil(account, async () => replicaOf(await rootStatus(token, root), "limited").lastError !== null, 5_000);
    const limited = replicaOf(await rootStatus(token, root), "limited");
    expect(limited.lastError).toBe("rate_limited: GET /pins: HTTP 429 TOO_MANY_REQUESTS: slow down");
    expect(Date.parse(limited.nextAttempt!) - Date.parse(limited.updated)).toBe(2000);
    const log = await psaLog("limited");
    const limitedAt = log.findLast((e) => e.status === 429)!;
    await runUntil(account, allStored(token, root), 8_000);
    const after = (await psaLog("limited")).slice(log.indexOf(limitedAt) + 1);
    expect(after[0]!.method).toBe("GET");
    expect((after[0] as unknown as { at: number }).at - (limitedAt as unknown as { at: number }).at).toBeGreaterThanOrEqual(1900);
  });

  it("an object aborted while the remote works resumes from the checkpoint: one POST, then status reads", async () => {
    const { token, account } = await newAccount();
    // The remote keeps the pin queued until we let it finish.
    await psaMode("backup", { pinAfterPolls: 1_000_000 });
    try {
      const { root } = await pinInR2(token, account, 907, { replication: "backup" });
      await runUntil(account, async () => replicaOf(await rootStatus(token, root), "backup").remoteId !== null, 5_000);
      const before = replicaOf(await rootStatus(token, root), "backup");
      expect(before.state).toBe("replicating");
      await abortAllDurableObjects();
      await psaMode("backup", { pinAfterPolls: 1 });
      await runUntil(account, allStored(token, root), 10_000);
      const after = replicaOf(await rootStatus(token, root), "backup");
      expect(after.remoteId).toBe(before.remoteId);
      const mine = (await psaLog("backup")).filter((e) => (e.method === "POST" && e.body?.cid === root.toString()) || e.path === `/pins/${before.remoteId}`);
      // One POST before the abort; after it, the saved requestid is read back (no second pin at the remote).
      expect(mine.filter((e) => e.method === "POST")).toHaveLength(1);
      expect(mine.at(-1)).toMatchObject({ method: "GET", status: 200 });
      expect((await psaPins("backup")).filter((p) => p.pin.cid === root.toString())).toHaveLength(1);
    } finally {
      await psaMode("backup", { pinAfterPolls: 1 });
    }
  });

  it("unpin removes every copy after the grace period", async () => {
    const { token, account } = await newAccount();
    const { root, requestid } = await pinInR2(token, account, 908, { tier: "archive" });
    await runUntil(account, allStored(token, root), 10_000);
    const ids = Object.fromEntries((await rootStatus(token, root)).replicas.map((r) => [r.backend, r.remoteId]));
    expect((await call("DELETE", `/psa/pins/${requestid}`, { token })).status).toBe(202);

    const removing = await rootStatus(token, root);
    expect(removing.replicas.map((r) => r.state)).toEqual(["removing", "removing", "removing"]);
    const delay = Date.parse(replicaOf(removing, "remote").removeAfter!) - Date.now();
    expect(delay).toBeGreaterThan(3_590_000); // GC_GRACE_MS = 1 h
    expect((await psaPins("remote")).some((p) => p.requestid === ids.remote)).toBe(true);

    for (const b of ["remote", "backup", "r2"]) await makeDue(account, b);
    await runUntil(account, async () => (await call("GET", `/api/v1/pins/${root}`, { token })).status === 404, 5_000);
    for (const tenant of ["remote", "backup"]) {
      expect((await psaPins(tenant)).some((p) => p.requestid === ids[tenant])).toBe(false);
      expect((await psaLog(tenant)).filter((e) => e.method === "DELETE" && e.path === `/pins/${ids[tenant]}`).map((e) => e.status)).toEqual([202]);
    }
  });

  it("a copy deleted behind our back is found by the verification cron and stored again", async () => {
    const { token, account } = await newAccount();
    const { root } = await pinInR2(token, account, 909, { replication: "remote" });
    await runUntil(account, allStored(token, root), 10_000);
    const old = replicaOf(await rootStatus(token, root), "remote").remoteId!;
    const gone = await fetch(`${(await import("./helpers")).psaBase()}/_control/remote/pins/${old}`, { method: "DELETE" });
    expect(gone.status).toBe(200);

    // The cron visits accounts with replicas in batches; this one is among them.
    let scheduled = 0;
    for (let i = 0; i < 20 && scheduled === 0; i++) scheduled += await verifyReplicas(env, { minAgeMs: 0, accounts: 1000 });
    expect(scheduled).toBeGreaterThanOrEqual(1);
    await runUntil(account, async () => {
      const r = replicaOf(await rootStatus(token, root), "remote");
      return r.state === "stored" && r.remoteId !== old && r.log.at(-1)?.action === "removed old copy";
    }, 10_000);
    const remote = replicaOf(await rootStatus(token, root), "remote");
    // The old reference is removed once the new copy is stored (a 404 there: it was already gone).
    expect(remote.log.map((l) => l.action).slice(-5)).toEqual(["lost", "store", "pending", "stored", "removed old copy"]);
    expect((await psaLog("remote")).filter((e) => e.method === "DELETE" && e.path === `/pins/${old}`).map((e) => e.status)).toEqual([404]);
    expect(remote.log.find((l) => l.action === "lost")!.message).toBe(`the remote has no pin ${old} any more`);
    expect((await psaPins("remote")).find((p) => p.requestid === remote.remoteId)!.pin.cid).toBe(root.toString());
  });

  it("reportReplicaCheck: at_risk is shown and stored again, the old copy kept meanwhile (a PSA re-pin finds the same pin)", async () => {
    const { token, account } = await newAccount();
    const { root } = await pinInR2(token, account, 910, { replication: "backup" });
    await runUntil(account, allStored(token, root), 10_000);
    const old = replicaOf(await rootStatus(token, root), "backup").remoteId!;
    // The service rate-limits us for now: the new copy cannot be made yet, the copy stays at_risk.
    await psaMode("backup", { rateLimit: 1000, retryAfter: 30 });
    const stub = registryStub(env, account);
    const unknown = await stub.reportReplicaCheck(root.toString(), "backup", "no-such-id", { state: "lost", message: "x" }).then(() => null, (e: Error) => e.message);
    expect(unknown).toBe(`no replica no-such-id of ${root} on backend backup`);
    await stub.reportReplicaCheck(root.toString(), "backup", old, { state: "at_risk", message: "proofs overdue" });
    const atRisk = replicaOf(await rootStatus(token, root), "backup");
    expect(atRisk.state).toBe("at_risk");
    expect((await rootStatus(token, root)).aggregate).toBe("at_risk");
    expect((await psaPins("backup")).some((p) => p.requestid === old)).toBe(true);
    const listed = await stub.listReplicas({ backend: "backup", state: ["at_risk"] });
    expect(listed.replicas.map((r) => r.root)).toContain(root.toString());
    await runUntil(account, async () => replicaOf(await rootStatus(token, root), "backup").lastError?.startsWith("rate_limited") === true, 5_000);
    expect(replicaOf(await rootStatus(token, root), "backup").state).toBe("at_risk");
    await psaMode("backup", { rateLimit: 0 });
    await makeDue(account, "backup");
    await runUntil(account, allStored(token, root), 10_000);
    const again = replicaOf(await rootStatus(token, root), "backup");
    expect(again.remoteId).toBe(old);
    expect((await psaPins("backup")).filter((p) => p.pin.cid === root.toString())).toHaveLength(1);
    expect((await psaLog("backup")).some((e) => e.method === "DELETE" && e.path === `/pins/${old}`)).toBe(false);
    await psaMode("backup", { rateLimit: 0 });
  });
});

describe("backends API (operator)", () => {
  it("lists the configured backends and the policy; tests a backend end to end", async () => {
    expect((await call("GET", "/api/v1/backends")).status).toBe(401);
    const res = await call("GET", "/api/v1/backends", { token: "test-admin-token" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { backends: { name: string; type: string }[] };
    expect(body.backends.map((b) => `${b.name}:${b.type}`)).toEqual(["r2:r2", "remote:psa", "backup:psa", "flaky:psa", "limited:psa", "wrongkey:psa", "plain:psa", "archive-s3:s3", "home-kubo:kubo", "fil:filecoin", "foc:filecoin", "foc-split:filecoin", "foc-nokey:filecoin", "foc-repair:filecoin", "foc-remove:filecoin", "foc-share:filecoin"]);

    const ok = await call("POST", "/api/v1/backends/remote/test", { token: "test-admin-token" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: "remote", type: "psa", reachable: true, authorised: true, roundTrip: true });
    const posts = (await psaLog("remote")).filter((e) => e.method === "POST" && e.body?.cid === "bafkqaaa");
    expect(posts.at(-1)!.body).toEqual({ cid: "bafkqaaa", name: "ipfs-kit-edge backend test" });

    const bad = await call("POST", "/api/v1/backends/wrongkey/test", { token: "test-admin-token" });
    expect(await bad.json()).toMatchObject({ reachable: true, authorised: false, roundTrip: false, message: "GET /pins: HTTP 403 FORBIDDEN: invalid token" });
    const r2 = await call("POST", "/api/v1/backends/r2/test", { token: "test-admin-token" });
    expect(await r2.json()).toMatchObject({ reachable: true, authorised: true, roundTrip: true });
    expect((await call("POST", "/api/v1/backends/nope/test", { token: "test-admin-token" })).status).toBe(404);
    expect((await call("POST", "/api/v1/backends/verify")).status).toBe(401);
    const verify = await call("POST", "/api/v1/backends/verify", { token: "test-admin-token" });
    expect(verify.status).toBe(200);
    expect(typeof ((await verify.json()) as { scheduled: unknown }).scheduled).toBe("number");
  });
});
