import { describe, expect, it } from "vitest";
import { call, newAccount } from "../pinning/helpers";
import { pinInR2, psaLog, psaPins, replicaOf, rootStatus, runUntil } from "./helpers";

type Job = { id: string; state: string; selected: number; copied: number; removed: number; failed: number; spec: unknown };

describe("POST /api/v1/migrate: copy or move pins between backends", () => {
  it("dry-runs a selection, then moves two pins from remote to backup: copied first, the old copies removed after", async () => {
    const { token, account } = await newAccount();
    const a = await pinInR2(token, account, 921, { replication: "remote" }, 2000);
    const b = await pinInR2(token, account, 922, { replication: "remote" }, 4000);
    const c = await pinInR2(token, account, 923, { replication: "remote" }, 6000);
    const stored = async () => (await Promise.all([a, b, c].map(async (p) => (await rootStatus(token, p.root)).aggregate))).every((s) => s === "stored");
    await runUntil(account, stored, 10_000);
    const sorted = [a, b, c].map((p) => p.root.toString()).sort();

    const all = await call("POST", "/api/v1/migrate", { token, body: { from: "remote", to: "backup", filter: {}, dryRun: true } });
    expect(await all.json()).toEqual({ dryRun: true, count: 3, roots: sorted });
    const big = await call("POST", "/api/v1/migrate", { token, body: { from: "remote", to: "backup", filter: { sizeAbove: "3 KB" }, dryRun: true } });
    expect(((await big.json()) as { count: number }).count).toBe(2);
    expect((await psaLog("backup")).some((e) => [a, b, c].some((p) => e.body?.cid === p.root.toString()))).toBe(false);

    const res = await call("POST", "/api/v1/migrate", { token, body: { from: "remote", to: "backup", mode: "move", cids: [a.root.toString(), b.root.toString()] } });
    expect(res.status).toBe(202);
    const job = (await res.json()) as Job;
    expect(res.headers.get("Location")).toBe(`/api/v1/migrate/${job.id}`);
    expect(job.state).toBe("selecting");

    let progress: Job | undefined;
    await runUntil(account, async () => {
      progress = (await (await call("GET", `/api/v1/migrate/${job.id}`, { token })).json()) as Job;
      return progress.state === "done";
    }, 15_000);
    expect(progress).toMatchObject({ state: "done", selected: 2, copied: 2, removed: 2, failed: 0 });
    for (const p of [a, b]) {
      const status = await rootStatus(token, p.root);
      expect(status.replicas.filter((r) => r.wanted).map((r) => [r.backend, r.state])).toEqual([["backup", "stored"], ["r2", "stored"]]);
      expect((await psaPins("remote")).some((x) => x.pin.cid === p.root.toString())).toBe(false);
      expect((await psaPins("backup")).filter((x) => x.pin.cid === p.root.toString())).toHaveLength(1);
    }
    // Not selected: untouched.
    expect(replicaOf(await rootStatus(token, c.root), "remote").state).toBe("stored");
    expect((await psaPins("remote")).some((x) => x.pin.cid === c.root.toString())).toBe(true);
  });

  it("rejects bad requests with a clear 400 and creates nothing; unknown jobs are 404", async () => {
    const { token } = await newAccount();
    const bad = async (body: unknown, message: string) => {
      const res = await call("POST", "/api/v1/migrate", { token, body });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(message);
    };
    await bad({ from: "nowhere", to: "backup", filter: {} }, "from must name a configured backend");
    await bad({ from: "r2", to: "backup", mode: "move", filter: {} }, "a move cannot take pins out of r2");
    await bad({ from: "remote", to: "remote", filter: {} }, "from and to must differ");
    await bad({ from: "remote", to: "backup" }, "give cids or a filter");
    await bad({ from: "remote", to: "backup", filter: { sizeAbove: "huge" } }, "filter.sizeAbove must be bytes or a size like");
    await bad({ from: "remote", to: "backup", cids: ["not-a-cid"] }, "invalid cids entry");
    expect((await call("POST", "/api/v1/migrate", { body: { from: "r2", to: "backup", filter: {} } })).status).toBe(401);
    expect((await call("GET", "/api/v1/migrate/00000000-0000-0000-0000-000000000000", { token })).status).toBe(404);
  });
});
