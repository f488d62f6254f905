import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { create } from "../../src/backends/hf/hf-backend";
import { BackendError, type ReplicationBackend } from "../../src/backends/replication-backend";
import { HF_TEST_READ_TOKEN, HF_TEST_REPO, HF_TEST_WRITE_TOKEN } from "../servers/hf-hub-server";
import { hex, unixfsDagToStore } from "./dag-fixture";
import { armFault, rejectionOf, requestsTo, storeContext } from "./server-control";

const base = inject("hfBase");

function hub(prefix: string, token = HF_TEST_WRITE_TOKEN): Promise<ReplicationBackend> | ReplicationBackend {
  return create({
    name: "hf-archive",
    settings: { type: "hf", repo: HF_TEST_REPO, hubUrl: base, pathPrefix: prefix },
    secret: (field) => (field === "TOKEN" ? token : undefined),
    env,
  });
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

async function committedFile(path: string): Promise<Response> {
  return fetch(`${base}/__repo/files/${path}`);
}

async function commits(): Promise<{ oid: string; summary: string; description: string; operations: { key: string; value: Record<string, unknown> }[] }[]> {
  return (await (await fetch(`${base}/__repo/commits`)).json()) as never;
}

/** Requests since the last one matching `from` (the log is shared by the whole file). */
async function requestsSince(marker: number) {
  return (await requestsTo(base, "/")).slice(marker);
}

const logLength = async () => (await requestsTo(base, "/")).length;
const api = `/api/datasets/${HF_TEST_REPO}`;
const lfsBatch = `/datasets/${HF_TEST_REPO}.git/info/lfs/objects/batch`;

describe("Hugging Face Hub backend against a local Hub (LFS upload, NDJSON commit, paths-info, resolve)", () => {
  it("uploads the CAR through LFS (sha256 oid, pre-signed PUT without our token) and commits it under a CID path", async () => {
    const dag = await unixfsDagToStore(40_000, 31);
    dag.name = "photos.tar";
    const backend = await hub("basic/");
    const cid = dag.root.toString();
    const path = `basic/${cid.slice(-2)}/${cid}.car`;
    const oid = await sha256Hex(dag.carBytes);
    const marker = await logLength();
    const { ctx, saved } = storeContext();
    const outcome = await backend.store(dag, ctx);
    const last = (await commits()).at(-1)!;
    expect(outcome).toEqual({
      state: "stored",
      replica: { backend: "hf-archive", remoteId: path, details: { repo: HF_TEST_REPO, path, oid, size: dag.carSize, commit: last.oid } },
      bytes: dag.carSize,
    });
    expect(saved).toEqual([{ oid, size: dag.carSize }]);
    const stored = await committedFile(path);
    expect(new Uint8Array(await stored.arrayBuffer())).toEqual(dag.carBytes);
    expect(last).toMatchObject({
      summary: `Pin ${cid}`,
      description: `name: photos.tar\nblocks: ${dag.blocks}\ndag size: ${dag.dagSize}\ncar size: ${dag.carSize}`,
      operations: [{ key: "lfsFile", value: { path, algo: "sha256", oid, size: dag.carSize } }],
    });

    const log = await requestsSince(marker);
    expect(log.map((r) => [r.method, r.path.replace(oid, "<oid>"), r.status])).toEqual([
      ["POST", `${api}/paths-info/main`, 200],
      ["POST", `${api}/preupload/main`, 200],
      ["POST", lfsBatch, 200],
      ["PUT", "/__storage/upload/<oid>", 200],
      ["POST", `/datasets/${HF_TEST_REPO}.git/info/lfs/objects/verify`, 200],
      ["POST", `${api}/commit/main`, 200],
    ]);
    const [info, pre, batch, upload, verify, commit] = log;
    for (const hubCall of [info!, pre!, batch!, commit!]) expect(hubCall.headers["authorization"]).toBe(`Bearer ${HF_TEST_WRITE_TOKEN}`);
    expect(upload!.headers["authorization"]).toBeUndefined();
    expect(upload!.headers["content-length"]).toBe(String(dag.carSize));
    expect(upload!.headers["content-type"]).toBe("application/octet-stream");
    expect(verify!.headers["authorization"]).toBeUndefined();
    expect(batch!.headers["content-type"]).toBe("application/vnd.git-lfs+json");
    expect(commit!.headers["content-type"]).toBe("application/x-ndjson");
    expect(JSON.stringify(log.map((r) => r.path + r.query))).not.toContain(HF_TEST_WRITE_TOKEN);
    // car(): once to hash, once for the preupload sample, once to upload.
    expect(dag.carCalls).toEqual([0, 0, 0]);

    // Idempotent: the same content at the same path is found and not sent again.
    const again = await logLength();
    expect((await backend.store(dag, storeContext().ctx)).state).toBe("stored");
    expect((await requestsSince(again)).map((r) => r.path)).toEqual([`${api}/paths-info/main`]);
    expect(backend.retrievalUrls(outcome.replica)).toEqual([`${base}/datasets/${HF_TEST_REPO}/resolve/main/${path}`]);
  });

  it("a CAR above the Hub's multipart threshold goes up part by part to the pre-signed part URLs, then completes", async () => {
    const dag = await unixfsDagToStore(600_000, 32);
    const backend = await hub("multi/");
    const marker = await logLength();
    const outcome = await backend.store(dag, storeContext().ctx);
    expect(outcome.state).toBe("stored");
    expect(new Uint8Array(await (await committedFile(outcome.replica.remoteId)).arrayBuffer())).toEqual(dag.carBytes);
    const log = await requestsSince(marker);
    const partPuts = log.filter((r) => r.path.startsWith("/__storage/part/"));
    const chunk = 100 * 1024;
    const expected = Array.from({ length: Math.ceil(dag.carSize / chunk) }, (_, i) => String(Math.min(chunk, dag.carSize - i * chunk)));
    expect(partPuts.map((r) => r.headers["content-length"])).toEqual(expected);
    expect(partPuts.map((r) => r.path.split("/").at(-1))).toEqual(expected.map((_, i) => String(i + 1)));
    expect(partPuts.every((r) => r.headers["authorization"] === undefined)).toBe(true);
    expect(log.filter((r) => r.path.startsWith("/__storage/complete/")).map((r) => [r.method, r.status])).toEqual([["POST", 200]]);
  });

  it("check: paths-info oid and size, then the CAR header through resolve + Range (the CDN redirect followed without the token)", async () => {
    const dag = await unixfsDagToStore(20_000, 33);
    const backend = await hub("check/");
    const { replica } = await backend.store(dag, storeContext().ctx);
    const marker = await logLength();
    expect(await backend.check(replica, dag)).toEqual({ state: "stored", details: { oid: replica.details["oid"], size: dag.carSize } });
    const log = await requestsSince(marker);
    expect(log.map((r) => [r.method, r.path.replace(/[0-9a-f]{64}/, "<oid>"), r.headers["range"] ?? null, r.headers["authorization"] ?? null, r.status])).toEqual([
      ["POST", `${api}/paths-info/main`, null, `Bearer ${HF_TEST_WRITE_TOKEN}`, 200],
      ["GET", `/datasets/${HF_TEST_REPO}/resolve/main/${replica.remoteId}`, "bytes=0-1023", `Bearer ${HF_TEST_WRITE_TOKEN}`, 302],
      ["GET", "/__cdn/<oid>", "bytes=0-1023", null, 206],
    ]);

    // Replaced by another file behind our back: lost.
    const replace = await fetch(`${base}${api}/commit/main`, {
      method: "POST",
      headers: { Authorization: `Bearer ${HF_TEST_WRITE_TOKEN}`, "Content-Type": "application/x-ndjson" },
      body: [{ key: "header", value: { summary: "vandal" } }, { key: "file", value: { path: replica.remoteId, content: btoa("not a car"), encoding: "base64" } }]
        .map((l) => JSON.stringify(l))
        .join("\n"),
    });
    expect(replace.status).toBe(200);
    expect(await backend.check(replica, dag)).toEqual({ state: "lost", message: `${replica.remoteId} is not an LFS file` });
    // Deleted behind our back: lost; storing again restores it without a new upload (the LFS object is still held).
    expect((await fetch(`${base}/__repo/files/${replica.remoteId}`, { method: "DELETE" })).status).toBe(204);
    expect(await backend.check(replica, dag)).toEqual({ state: "lost", message: `${replica.remoteId} is not in the repo` });
    const restore = await logLength();
    expect((await backend.store(dag, storeContext().ctx)).state).toBe("stored");
    expect((await requestsSince(restore)).some((r) => r.path.startsWith("/__storage/"))).toBe(false);
    expect((await backend.check(replica, dag)).state).toBe("stored");

    // remove: one deleting commit; removing again commits nothing.
    await backend.remove(replica);
    await backend.remove(replica);
    const removals = (await commits()).filter((c) => c.summary === `Unpin ${dag.root}`);
    expect(removals.map((c) => c.operations)).toEqual([[{ key: "deletedFile", value: { path: replica.remoteId } }]]);
    expect((await committedFile(replica.remoteId)).status).toBe(404);
  });

  it("a failed commit leaves the upload done: the next attempt reuses the checkpointed oid and the stored LFS object", async () => {
    const dag = await unixfsDagToStore(30_000, 34);
    const backend = await hub("resume/");
    await armFault(base, { pathPrefix: `${api}/commit/`, status: 503, body: JSON.stringify({ error: "commit queue full" }) });
    const first = storeContext();
    const error = await rejectionOf(backend.store(dag, first.ctx));
    expect([error.kind, error.message]).toEqual(["retryable", "Hub commit: HTTP 503: commit queue full"]);
    expect(dag.carCalls).toEqual([0, 0, 0]);
    const marker = await logLength();
    const outcome = await backend.store(dag, storeContext(first.saved.at(-1)).ctx);
    expect(outcome.state).toBe("stored");
    expect(dag.carCalls).toEqual([0, 0, 0, 0]); // only the preupload sample: no second hash, no second upload
    expect((await requestsSince(marker)).map((r) => r.path)).toEqual([`${api}/paths-info/main`, `${api}/preupload/main`, lfsBatch, `${api}/commit/main`]);
    expect(new Uint8Array(await (await committedFile(outcome.replica.remoteId)).arrayBuffer())).toEqual(dag.carBytes);
  });

  it("a wrong token → 401 unauthorized, a read-only token → 403 unauthorized; 429 + Retry-After → rate_limited", async () => {
    const dag = await unixfsDagToStore(5_000, 35);
    const wrong = await rejectionOf((await hub("auth/", "hf_wrong_token_0000")).store(dag, storeContext().ctx));
    expect(wrong).toBeInstanceOf(BackendError);
    expect([wrong.kind, wrong.message]).toEqual(["unauthorized", "Hub paths-info: HTTP 401: Invalid credentials in Authorization header"]);
    const readOnly = await rejectionOf((await hub("auth/", HF_TEST_READ_TOKEN)).store(dag, storeContext().ctx));
    expect([readOnly.kind, readOnly.message]).toEqual(["unauthorized", `Hub preupload: HTTP 403: You don't have the rights to write to ${HF_TEST_REPO}`]);
    expect(await (await hub("auth/", "hf_wrong_token_0000")).test()).toMatchObject({ reachable: true, authorised: false, roundTrip: false });

    await armFault(base, { pathPrefix: `${api}/paths-info/`, status: 429, headers: { "Retry-After": "30" }, body: "{}" });
    const limited = await rejectionOf((await hub("auth/")).store(dag, storeContext().ctx));
    expect([limited.kind, limited.retryAfterMs]).toEqual(["rate_limited", 30_000]);
    await armFault(base, { pathPrefix: lfsBatch, status: 500, body: "boom" });
    const failed = await rejectionOf((await hub("auth/")).store(dag, storeContext().ctx));
    expect([failed.kind, failed.message]).toEqual(["retryable", "Hub LFS batch: HTTP 500: boom"]);
  });

  it("test(): commits a tiny file, reads it back through resolve, deletes it", async () => {
    const backend = await hub("probe/");
    const before = (await commits()).length;
    expect(await backend.test()).toMatchObject({ reachable: true, authorised: true, roundTrip: true });
    const made = (await commits()).slice(before);
    expect(made.map((c) => [c.summary, c.operations[0]!.key, c.operations[0]!.value["path"]])).toEqual([
      ["ipfs-kit-edge backend test", "file", "probe/.ipfs-kit-edge-test"],
      ["ipfs-kit-edge backend test (cleanup)", "deletedFile", "probe/.ipfs-kit-edge-test"],
    ]);
    expect((await committedFile("probe/.ipfs-kit-edge-test")).status).toBe(404);
  });
});
