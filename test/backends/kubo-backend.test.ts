import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { create } from "../../src/backends/kubo/kubo-backend";
import { BackendError, type ReplicationBackend } from "../../src/backends/replication-backend";
import { KUBO_TEST_BASIC, KUBO_TEST_BEARER, KUBO_TEST_PEER_ID } from "../servers/kubo-rpc-server";
import { hex, streamSha256, syntheticDagToStore, unixfsDagToStore } from "./dag-fixture";
import { armFault, rejectionOf, requestsTo, storeContext } from "./server-control";

const base = inject("kuboBase");

function kubo(auth: string = `bearer:${KUBO_TEST_BEARER}`): Promise<ReplicationBackend> | ReplicationBackend {
  return create({
    name: "home-node",
    settings: { type: "kubo", url: base, gatewayUrl: "https://node.example" },
    secret: (field) => (field === "AUTH" ? auth : undefined),
    env,
  });
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** Index of the dag/import whose CAR had these bytes, and its part headers. */
async function receivedImport(car: Uint8Array): Promise<{ index: number; partHeaders: string }> {
  const list = (await (await fetch(`${base}/__received`)).json()) as { partHeaders: string; sha256: string }[];
  const want = await sha256Hex(car);
  const index = list.findIndex((r) => r.sha256 === want);
  expect(index).toBeGreaterThanOrEqual(0);
  return { index, partHeaders: list[index]!.partHeaders };
}

describe("Kubo RPC backend against a local node speaking Kubo's RPC shapes", () => {
  it("dag/import streams the CAR as multipart with a known length, then pin/add; the node holds exactly our blocks", async () => {
    const dag = await unixfsDagToStore(30_000, 21);
    dag.name = "report.pdf";
    const node = await kubo();
    const outcome = await node.store(dag, storeContext().ctx);
    const cid = dag.root.toString();
    expect(outcome).toEqual({
      state: "stored",
      replica: { backend: "home-node", remoteId: cid, details: { blocks: dag.blocks, bytes: dag.dagSize } },
      bytes: dag.carSize,
    });

    const { index, partHeaders } = await receivedImport(dag.carBytes);
    expect(new Uint8Array(await (await fetch(`${base}/__car/${index}`)).arrayBuffer())).toEqual(dag.carBytes);
    expect(partHeaders).toBe(`Content-Disposition: form-data; name="file"; filename="${cid}.car"\r\nContent-Type: application/vnd.ipld.car`);
    for (const block of dag.blockList) {
      expect(new Uint8Array(await (await fetch(`${base}/__blocks/${block.cid.toV1()}`)).arrayBuffer())).toEqual(block.bytes);
    }

    const log = (await requestsTo(base, "/api/v0/")).filter((r) => r.query.includes(cid) || r.path === "/api/v0/dag/import");
    const mine = log.slice(log.findIndex((r) => r.path === "/api/v0/pin/ls" && r.query.includes(cid)));
    expect(mine.map((r) => [r.method, r.path, r.query, r.status])).toEqual([
      ["POST", "/api/v0/pin/ls", `?arg=${cid}&type=all`, 500],
      ["POST", "/api/v0/dag/import", "?pin-roots=false&stats=true&allow-big-block=false", 200],
      ["POST", "/api/v0/pin/add", `?arg=${cid}&recursive=true&name=report.pdf`, 200],
    ]);
    const framing = `--${/boundary=(.+)$/.exec(mine[1]!.headers["content-type"]!)![1]}`;
    expect(mine[1]!.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=----ipfs-kit-edge-[0-9a-f-]{36}$/);
    expect(Number(mine[1]!.headers["content-length"])).toBe(framing.length + 2 + partHeaders.length + 4 + dag.carSize + 2 + framing.length + 4);
    expect(mine[1]!.headers["transfer-encoding"]).toBeUndefined();
    expect(mine.every((r) => r.headers["authorization"] === `Bearer ${KUBO_TEST_BEARER}`)).toBe(true);
    expect(JSON.stringify(mine.map((r) => r.query))).not.toContain(KUBO_TEST_BEARER);

    // Idempotent: a DAG the node pins is not sent again.
    expect((await node.store(dag, storeContext().ctx)).state).toBe("stored");
    const again = (await requestsTo(base, "/api/v0/")).filter((r) => r.query.includes(cid));
    expect(again.map((r) => [r.path, r.status]).slice(-1)).toEqual([["/api/v0/pin/ls", 200]]);
    expect(node.retrievalUrls(outcome.replica)).toEqual([`https://node.example/ipfs/${cid}`]);
  });

  it("a 16 MiB DAG streams through dag/import byte for byte; a block over Kubo's 1 MiB limit is a permanent failure", async () => {
    const MiB = 1024 * 1024;
    const dag = await syntheticDagToStore(16, MiB, 26);
    const node = await kubo();
    expect((await node.store(dag, storeContext().ctx)).state).toBe("stored");
    const want = await streamSha256(dag.car());
    const list = (await (await fetch(`${base}/__received`)).json()) as { sha256: string; length: number }[];
    expect(list.filter((r) => r.sha256 === want.hex).map((r) => r.length)).toEqual([dag.carSize]);
    expect((await node.check({ backend: "home-node", remoteId: dag.root.toString(), details: {} }, dag)).state).toBe("stored");

    const big = await syntheticDagToStore(2, 2 * MiB, 27);
    const error = await rejectionOf(node.store(big, storeContext().ctx));
    expect([error.kind, error.message]).toEqual([
      "permanent",
      "Kubo dag/import: produced block is over 1MiB: big blocks can't be exchanged with other peers. consider using UnixFS for automatic chunking of bigger files, or pass --allow-big-block to override",
    ]);
  });

  it("check reads pin/ls; an unpin behind our back is lost; remove is pin/rm and idempotent", async () => {
    const dag = await unixfsDagToStore(8_000, 22);
    const node = await kubo(`basic:${KUBO_TEST_BASIC.user}:${KUBO_TEST_BASIC.password}`);
    const { replica } = await node.store(dag, storeContext().ctx);
    expect(await node.check(replica, dag)).toEqual({ state: "stored", details: { pin: "recursive" } });
    expect((await fetch(`${base}/__pins/${dag.root}`, { method: "DELETE" })).status).toBe(204);
    expect(await node.check(replica, dag)).toEqual({ state: "lost", message: `the node does not pin ${dag.root}` });
    expect((await node.store(dag, storeContext().ctx)).state).toBe("stored");
    await node.remove(replica);
    await node.remove(replica);
    const rms = (await requestsTo(base, "/api/v0/pin/rm")).filter((r) => r.query.includes(String(dag.root)));
    expect(rms.map((r) => [r.status, r.headers["authorization"]])).toEqual([
      [200, `Basic ${btoa(`${KUBO_TEST_BASIC.user}:${KUBO_TEST_BASIC.password}`)}`],
      [500, `Basic ${btoa(`${KUBO_TEST_BASIC.user}:${KUBO_TEST_BASIC.password}`)}`],
    ]);
    expect((await node.check(replica, dag)).state).toBe("lost");
  });

  it("a block that does not match its CID is refused by the node: the store fails with Kubo's message, nothing is pinned", async () => {
    const dag = await unixfsDagToStore(8_000, 23);
    const corrupt = dag.carBytes.slice();
    corrupt[corrupt.length - 10]! ^= 0xff; // in the last block's bytes
    const node = await kubo();
    const error = await rejectionOf(node.store({ ...dag, car: () => new Blob([corrupt]).stream() }, storeContext().ctx));
    expect(error).toBeInstanceOf(BackendError);
    expect(error.kind).toBe("retryable");
    expect(error.message).toMatch(/^Kubo dag\/import: block bafk[a-z0-9]+ does not match its hash$/);
    expect((await node.check({ backend: "home-node", remoteId: dag.root.toString(), details: {} }, dag)).state).toBe("lost");
  });

  it("without the right secret the node answers 403: unauthorized; test() says reachable but not authorised", async () => {
    const dag = await unixfsDagToStore(2_000, 24);
    const node = await kubo("bearer:wrong-token-5150");
    const error = await rejectionOf(node.store(dag, storeContext().ctx));
    expect([error.kind, error.message]).toEqual(["unauthorized", "Kubo pin/ls: HTTP 403: 403 - Forbidden"]);
    expect(await node.test()).toMatchObject({ reachable: true, authorised: false, roundTrip: false });
    const unset = await rejectionOf((await kubo("")).store(dag, storeContext().ctx));
    expect([unset.kind, unset.message]).toEqual(["unauthorized", "backend home-node: secret BACKEND_HOME_NODE_AUTH is not set"]);
    // The server really refuses a GET (Kubo's CSRF rule); the backend never sends one.
    const get = await fetch(`${base}/api/v0/id`, { headers: { Authorization: `Bearer ${KUBO_TEST_BEARER}` } });
    expect([get.status, await get.text()]).toEqual([405, "405 - Method Not Allowed\n"]);
    expect((await requestsTo(base, "/api/v0/")).filter((r) => r.method !== "POST").map((r) => r.path)).toEqual(["/api/v0/id"]);
  });

  it("Kubo's error body is mapped: Code 0 → retryable, 1 and 5 → permanent, 3 → rate_limited, 4 → unauthorized, 429 + Retry-After → rate_limited, 502 → retryable", async () => {
    const dag = await unixfsDagToStore(2_000, 25);
    const node = await kubo();
    const cases: [number, Record<string, string>, string, string, number | undefined, string][] = [
      [500, {}, JSON.stringify({ Message: "context deadline exceeded", Code: 0, Type: "error" }), "retryable", undefined, "Kubo pin/ls: context deadline exceeded"],
      [400, {}, JSON.stringify({ Message: "invalid argument", Code: 1, Type: "error" }), "permanent", undefined, "Kubo pin/ls: invalid argument"],
      [429, { "Retry-After": "12" }, "slow down", "rate_limited", 12_000, "Kubo pin/ls: HTTP 429: slow down"],
      [429, {}, JSON.stringify({ Message: "rate limited", Code: 3, Type: "error" }), "rate_limited", 60_000, "Kubo pin/ls: rate limited"],
      [403, {}, JSON.stringify({ Message: "request forbidden", Code: 4, Type: "error" }), "unauthorized", undefined, "Kubo pin/ls: request forbidden"],
      [500, {}, JSON.stringify({ Message: "content blocked", Code: 5, Type: "error" }), "permanent", undefined, "Kubo pin/ls: content blocked"],
      [502, {}, "<html>bad gateway</html>", "retryable", undefined, "Kubo pin/ls: HTTP 502: <html>bad gateway</html>"],
    ];
    for (const [status, headers, body, kind, retryAfterMs, message] of cases) {
      await armFault(base, { pathPrefix: "/api/v0/pin/ls", status, headers, body });
      const error = await rejectionOf(node.store(dag, storeContext().ctx));
      expect([error.kind, error.retryAfterMs, error.message]).toEqual([kind, retryAfterMs, message]);
    }
  });

  it("test(): id, then a one-block import/pin/ls/unpin round trip", async () => {
    const node = await kubo();
    const report = await node.test();
    expect(report).toMatchObject({ reachable: true, authorised: true, roundTrip: true, message: `${KUBO_TEST_PEER_ID} (kubo/0.38.1/test-server)` });
  });
});
