import { CarWriter } from "@ipld/car/writer";
import { env } from "cloudflare:workers";
import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import type { CID } from "multiformats/cid";
import { describe, expect, it } from "vitest";
import { blockKey } from "../../src/backends/r2-block-store";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { call, newAccount, pseudoRandomBytes, settle, unixfsDag } from "../pinning/helpers";

type UploadJson = { cid: string; requestid: string; dag_size: number; pins: { cid: string; requestid: string }[] };

async function carBytes(roots: CID[], blocks: { cid: CID; bytes: Uint8Array }[]): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create(roots);
  const chunks: Uint8Array[] = [];
  const done = (async () => {
    for await (const c of out) chunks.push(c);
  })();
  for (const b of blocks) await writer.put(b);
  await writer.close();
  await done;
  return new Uint8Array(await new Blob(chunks).arrayBuffer());
}

const CAR = { "Content-Type": "application/vnd.ipld.car" };

async function importerCid(bytes: Uint8Array): Promise<string> {
  const sink = { put: async (cid: unknown) => cid };
  let root = "";
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for await (const entry of importer([{ content: bytes }], sink as any, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 1024 * 1024 }) })) {
    root = entry.cid.toString();
  }
  return root;
}

describe("POST /api/v1/upload", () => {
  it("raw bytes: imported as UnixFS with the importer's CID, every block in R2, pinned", async () => {
    const { token } = await newAccount();
    const bytes = pseudoRandomBytes(2 * 1024 * 1024 + 100, 5);
    const res = await call("POST", "/api/v1/upload?name=big.bin", { token, body: bytes, headers: { "Content-Type": "application/octet-stream" } });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    const body = JSON.parse(text) as UploadJson;
    expect(body.cid).toBe(await importerCid(bytes));
    const pin = (await (await call("GET", `/psa/pins/${body.requestid}`, { token })).json()) as { status: string; pin: { name: string }; info: Record<string, string> };
    expect(pin.status).toBe("pinned");
    expect(pin.pin.name).toBe("big.bin");
    expect(pin.info.dag_size).toBe(String(body.dag_size));
    // The leaves are where the gateway's R2 tier looks for them.
    const dag = await unixfsDag(bytes, 1024 * 1024);
    expect(dag.root.toString()).toBe(body.cid);
    for (const block of dag.blocks) {
      const object = await env.BLOCKS.get(blockKey(block.cid));
      expect(object, block.cid.toString()).not.toBeNull();
      expect(new Uint8Array(await object!.arrayBuffer())).toEqual(block.bytes);
    }
    expect(body.dag_size).toBe(dag.blocks.reduce((n, b) => n + b.bytes.length, 0));
  });

  it("an empty body is the empty file's CID", async () => {
    const { token } = await newAccount();
    const res = await call("POST", "/api/v1/upload", { token, body: new Uint8Array(0) });
    expect(res.status).toBe(201);
    expect(((await res.json()) as UploadJson).cid).toBe("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    const none = await call("POST", "/api/v1/upload", { token });
    expect(none.status).toBe(201);
    expect(((await none.json()) as UploadJson).cid).toBe("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    const emptyCar = await call("POST", "/api/v1/upload", { token, headers: { "Content-Type": "application/vnd.ipld.car" } });
    expect(emptyCar.status).toBe(400);
    expect(await emptyCar.text()).toBe("invalid CAR (after 0 sections): empty CAR stream\n");
  });

  it("CAR: every block verified, the DAG complete, pinned under its root", async () => {
    const { token } = await newAccount();
    const dag = await unixfsDag(pseudoRandomBytes(10_000, 11), 1024);
    const res = await call("POST", "/api/v1/upload", { token, body: await carBytes([dag.root], dag.blocks), headers: CAR });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    const body = JSON.parse(text) as UploadJson;
    expect(body.cid).toBe(dag.root.toString());
    expect(body.dag_size).toBe(dag.blocks.reduce((n, b) => n + b.bytes.length, 0));
    const list = (await (await call("GET", `/psa/pins?cid=${dag.root}`, { token })).json()) as { count: number };
    expect(list.count).toBe(1);
  });

  it("CAR with a flipped byte: 400 naming the bad block; nothing pinned", async () => {
    const { token, account } = await newAccount();
    const dag = await unixfsDag(pseudoRandomBytes(4000, 12), 1024);
    const blocks = dag.blocks.map((b) => ({ cid: b.cid, bytes: b.bytes.slice() }));
    const victim = blocks[1]!;
    victim.bytes[10]! ^= 0xff;
    const res = await call("POST", "/api/v1/upload", { token, body: await carBytes([dag.root], blocks), headers: CAR });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(`bad block: section 2 does not hash to its CID ${victim.cid}\n`);
    expect((await registryStub(env, account).usage()).pins).toBe(0);
  });

  it("CAR missing a block: 400 naming it", async () => {
    const { token } = await newAccount();
    const dag = await unixfsDag(pseudoRandomBytes(4000, 13), 1024);
    const leaf = dag.blocks.find((b) => b.cid.code === 0x55 && !b.cid.equals(dag.root))!;
    const res = await call("POST", "/api/v1/upload", { token, body: await carBytes([dag.root], dag.blocks.filter((b) => b !== leaf)), headers: CAR });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(`incomplete DAG: block ${leaf.cid} under root ${dag.root} is not in the CAR\n`);
  });

  it("truncated, garbage and rootless CARs are 400", async () => {
    const { token } = await newAccount();
    const dag = await unixfsDag(pseudoRandomBytes(3000, 14), 1024);
    const car = await carBytes([dag.root], dag.blocks);
    const truncated = await call("POST", "/api/v1/upload", { token, body: car.slice(0, car.length - 100), headers: CAR });
    expect(truncated.status).toBe(400);
    expect(await truncated.text()).toMatch(/^invalid CAR \(after \d+ sections\): CAR section truncated\n$/);
    const garbage = await call("POST", "/api/v1/upload", { token, body: new TextEncoder().encode("hello world"), headers: CAR });
    expect(garbage.status).toBe(400);
    const rootless = await call("POST", "/api/v1/upload", { token, body: await carBytes([], dag.blocks), headers: CAR });
    expect(rootless.status).toBe(400);
    expect(await rootless.text()).toBe("the CAR header names no root\n");
  });

  it("needs a token; the storage quota gives 409", async () => {
    expect((await call("POST", "/api/v1/upload", { body: new Uint8Array(10) })).status).toBe(401);
    const { token, account } = await newAccount();
    await registryStub(env, account).setLimits({ maxBytes: 1000 });
    const res = await call("POST", "/api/v1/upload", { token, body: pseudoRandomBytes(5000, 2) });
    expect(res.status).toBe(409);
    await settle(account);
    expect((await registryStub(env, account).usage()).pins).toBe(0);
  });
});
