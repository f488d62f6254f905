/**
 * The CLI's replication commands (pin status with replicas, pin add
 * --backend, backend ls|test) against a local server playing issue 9's
 * replication API (test/cli/replication-api-server.ts); what the server
 * received is asserted, as well as the output and exit codes.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ipfsKit } from "./cli-process";
import { LOST_CID, PINNED_CID, REPLICATION_TOKEN, startReplicationApiServer, type ReplicationApiServer } from "./replication-api-server";

let server: ReplicationApiServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startReplicationApiServer();
  env = { IPFS_KIT_URL: server.base, IPFS_KIT_TOKEN: REPLICATION_TOKEN };
});
afterAll(() => server.close());

describe("pin status shows every replica", () => {
  test("all stored: exit 0, an aggregate line and one line per replica", async () => {
    const r = await ipfsKit(["pin", "status", PINNED_CID], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `req-${PINNED_CID.slice(-6)}\tpinned\t${PINNED_CID}\tsite`,
        `${PINNED_CID}\taggregate\tstored\tplan r2,s3-archive,kubo (min 2, default)`,
        `${PINNED_CID}\treplica\ts3-archive\tstored\t1400\t`,
        `${PINNED_CID}\treplica\tkubo\tstored\t1400\t`,
        "",
      ].join("\n"),
    );
    expect(server.received.filter((q) => q.path === `/api/v1/pins/${PINNED_CID}`).map((q) => q.authorization)).toEqual([`Bearer ${REPLICATION_TOKEN}`]);
  });

  test("a lost copy: exit 1, --json carries the unified status", async () => {
    const r = await ipfsKit(["pin", "status", LOST_CID, "--json"], { env });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.results.map((p: { pin: { cid: string } }) => p.pin.cid)).toEqual([LOST_CID]);
    expect(json.replication).toMatchObject({ cid: LOST_CID, aggregate: "lost", replicas: [{ backend: "s3-archive", state: "lost", lastError: "HEAD answered 404" }] });
  });
});

test("pin add --backend sets meta.replication (the policy override) on POST /psa/pins", async () => {
  const r = await ipfsKit(["pin", "add", PINNED_CID, "--backend", "s3-archive,kubo", "--meta", "env=prod", "--background", "--json"], { env });
  expect(r.code).toBe(0);
  const posted = server.received.filter((q) => q.method === "POST" && q.path === "/psa/pins");
  expect(posted.map((q) => JSON.parse(q.body))).toEqual([{ cid: PINNED_CID, meta: { env: "prod", replication: "s3-archive,kubo" } }]);
  expect(JSON.parse(r.stdout).pin.meta).toEqual({ env: "prod", replication: "s3-archive,kubo" });
});

describe("backend ls|test", () => {
  test("ls: one line per backend; --json the whole answer with the policy", async () => {
    const r = await ipfsKit(["backend", "ls"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("s3-archive\ts3\nkubo\tkubo\n");
    const j = JSON.parse((await ipfsKit(["backend", "ls", "--json"], { env })).stdout);
    expect(j.policy.default).toEqual({ backends: ["r2", "s3-archive"], minCopies: 2 });
  });

  test("test: exit 0 when the round trip works, 1 when not authorised", async () => {
    const ok = await ipfsKit(["backend", "test", "s3-archive", "--json"], { env });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ name: "s3-archive", type: "s3", reachable: true, authorised: true, roundTrip: true, latencyMs: 12 });
    const bad = await ipfsKit(["backend", "test", "kubo"], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("kubo\tkubo\tFAIL\treachable=true\tauthorised=false\troundTrip=false\t3 ms\t403 from /api/v0/id\n");
    expect(server.received.filter((q) => q.method === "POST" && q.path.startsWith("/api/v1/backends/")).map((q) => q.path)).toEqual(["/api/v1/backends/s3-archive/test", "/api/v1/backends/kubo/test"]);
  });

  test("an unknown backend: exit 1, the service's reason", async () => {
    const r = await ipfsKit(["backend", "test", "nope"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("ipfs-kit: not found (404 from /api/v1/backends/nope/test): NOT_FOUND: no such route\n");
  });
});
