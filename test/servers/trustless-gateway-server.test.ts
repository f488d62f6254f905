/**
 * The test upstream itself, asked directly from workerd (not through the
 * worker): honest answers match the conformance block lists, and every
 * personality misbehaves exactly as documented. The gateway tests rely on
 * both, so this file guards the tool they are measured with.
 */
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import expected from "../fixtures/conformance/expected-car-blocks.json";
import { carBlocks, importDirectory, importFile, parseCar, putDagCbor, requestLog, resetLog, uniquePersonality, upstreamUrl } from "../helpers/upstream";

const MB = "bafybeigcisqd7m5nf3qmuvjdbakl5bdnh4ocrmacaqkpuh77qjvggmt2sa";
const MB_BLOCKS = [
  MB,
  "bafkreie5noke3mb7hqxukzcy73nl23k6lxszxi5w3dtmuwz62wnvkpsscm",
  "bafkreih4ephajybraj6wnxsbwjwa77fukurtpl7oj7t7pfq545duhot7cq",
  "bafkreigu7buvm3cfunb35766dn7tmqyh2um62zcio63en2btvxuybgcpue",
  "bafkreicll3huefkc3qnrzeony7zcfo7cr3nbx64hnxrqzsixpceg332fhe",
  "bafkreifst3pqztuvj57lycamoi7z34b4emf7gawxs74nwrc2c7jncmpaqm",
];
const HELLO = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
const CAR_DUPS_N = "application/vnd.ipld.car; version=1; order=dfs; dups=n";
const CAR_DUPS_Y = "application/vnd.ipld.car; version=1; order=dfs; dups=y";

function get(personality: string, path: string, init?: RequestInit): Promise<Response> {
  return fetch(upstreamUrl(personality) + path, init);
}

async function blockIsValid(block: { cid: string; bytes: Uint8Array }): Promise<boolean> {
  const cid = CID.parse(block.cid);
  const digest = await sha256.digest(block.bytes);
  return cid.multihash.code === sha256.code && cid.multihash.digest.every((byte, i) => byte === digest.digest[i]);
}

async function mbCar(personality: string): Promise<{ response: Response; cids: string[]; valid: boolean[] }> {
  const response = await get(personality, `/ipfs/${MB}?format=car`);
  const car = await carBlocks(response);
  return { response, cids: car.blocks.map((block) => block.cid), valid: await Promise.all(car.blocks.map(blockIsValid)) };
}

describe("honest answers match expected-car-blocks.json", () => {
  for (const check of expected.checks) {
    it(`${check.id} ${check.path}`, async () => {
      const query = new URLSearchParams(check.query as Record<string, string>);
      const accept = "accept" in check && typeof check.accept === "string" ? check.accept : undefined;
      const response = await get("honest", `${check.path}${query.size > 0 ? `?${query}` : ""}`, accept ? { headers: { Accept: accept } } : {});
      if ("alsoAcceptStatus404" in check && check.alsoAcceptStatus404) {
        expect(response.status).toBe(404);
        await response.arrayBuffer();
        return;
      }
      expect(response.status).toBe(200);
      const car = await carBlocks(response);
      const cids = car.blocks.map((block) => block.cid);
      if (check.ordered) expect(cids).toEqual(check.blocks);
      else if (check.exact) expect([...cids].sort()).toEqual([...check.blocks].sort());
      else expect(cids).toEqual(expect.arrayContaining(check.blocks));
      expect(car.roots).toEqual([check.path.split("/")[2]]);
    });
  }

  it("every block sent is valid, headers are the trustless ones", async () => {
    const response = await get("honest", `/ipfs/${MB}`, { headers: { Accept: "application/vnd.ipld.car" } });
    expect(response.headers.get("Content-Type")).toBe(CAR_DUPS_N);
    expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="${MB}.car"`);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Accept-Ranges")).toBe("none");
    const car = await carBlocks(response);
    expect(car.blocks.map((block) => block.cid)).toEqual(MB_BLOCKS);
    expect(await Promise.all(car.blocks.map(blockIsValid))).toEqual(MB_BLOCKS.map(() => true));
  });

  it("raw block, the bafkqaaa probes, 404 for a missing root, 400 for bad input", async () => {
    const raw = await get("honest", `/ipfs/${HELLO}`, { headers: { Accept: "application/vnd.ipld.raw" } });
    expect(raw.status).toBe(200);
    expect(raw.headers.get("Content-Type")).toBe("application/vnd.ipld.raw");
    expect(raw.headers.get("Content-Length")).toBe("12");
    expect(await raw.text()).toBe("hello world\n");

    const probeRaw = await get("honest", "/ipfs/bafkqaaa?format=raw");
    expect(probeRaw.status).toBe(200);
    expect((await probeRaw.arrayBuffer()).byteLength).toBe(0);
    const probeCar = await get("honest", "/ipfs/bafkqaaa?format=car");
    expect(probeCar.status).toBe(200);
    expect(await carBlocks(probeCar)).toEqual({ roots: ["bafkqaaa"], blocks: [] });

    const missing = await get("honest", "/ipfs/QmSNLTo6Wv9dfroVaw7MFYjLqf9ho7PKrgsjdzYDtv8h1W?format=raw");
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    for (const path of [`/ipfs/not-a-cid?format=raw`, `/ipfs/${MB}?format=car&entity-bytes=1`, `/ipfs/${MB}?format=car&dag-scope=x`, `/ipfs/${MB}?format=tar`]) {
      const bad = await get("honest", path);
      expect(bad.status, path).toBe(400);
      await bad.arrayBuffer();
    }
  });

  it("a CAR ends at a section boundary where a child block is missing", async () => {
    // The 3k file's middle leaf is absent from the fixtures.
    const response = await get("honest", "/ipfs/QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk?format=car");
    expect(response.status).toBe(200);
    const car = await carBlocks(response);
    expect(car.blocks.map((block) => block.cid)).toEqual([
      "QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk",
      "QmPKt7ptM2ZYSGPUc8PmPT2VBkLDK3iqpG9TBJY7PCE9rF",
    ]);
  });
});

describe("personalities", () => {
  it("not-found, status-500, status-429 answer their status whatever is asked", async () => {
    for (const [personality, status] of [["not-found", 404], ["status-500", 500], ["status-429", 429]] as const) {
      const response = await get(personality, "/ipfs/bafkqaaa?format=raw");
      expect(response.status).toBe(status);
      expect(response.headers.get("Retry-After")).toBe(personality === "status-429" ? "1" : null);
      await response.arrayBuffer();
    }
  });

  it("slow-{ms} delays the headers, slow-body-{ms} the first body byte", async () => {
    let start = Date.now();
    const slow = await get("slow-300", `/ipfs/${MB}?format=car`);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
    expect((await carBlocks(slow)).blocks).toHaveLength(6);

    start = Date.now();
    const slowBody = await get("slow-body-300", `/ipfs/${MB}?format=car`);
    expect(Date.now() - start).toBeLessThan(250);
    expect((await carBlocks(slowBody)).blocks).toHaveLength(6);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
  });

  it("flip-byte-{k} corrupts the data of block k only, same CIDs", async () => {
    const { cids, valid } = await mbCar("flip-byte-2");
    expect(cids).toEqual(MB_BLOCKS);
    expect(valid).toEqual([true, true, false, true, true, true]);
    const raw = await get("flip-byte-0", `/ipfs/${HELLO}?format=raw`);
    const bytes = new Uint8Array(await raw.arrayBuffer());
    expect(bytes).toHaveLength(12);
    expect(bytes.filter((byte, i) => byte !== new TextEncoder().encode("hello world\n")[i])).toHaveLength(1);
  });

  it("wrong-block-{k} sends a valid foreign block at k; wrong-cid-{k} the right data under another CID", async () => {
    const wrongBlock = await mbCar("wrong-block-1");
    expect(wrongBlock.cids).toHaveLength(6);
    expect(wrongBlock.cids[1]).not.toBe(MB_BLOCKS[1]);
    expect(wrongBlock.cids.filter((cid, i) => cid !== MB_BLOCKS[i])).toHaveLength(1);
    expect(wrongBlock.valid).toEqual([true, true, true, true, true, true]);

    const wrongCid = await mbCar("wrong-cid-1");
    expect(wrongCid.cids.filter((cid, i) => cid !== MB_BLOCKS[i])).toHaveLength(1);
    expect(wrongCid.valid).toEqual([true, false, true, true, true, true]);
  });

  it("extra-block appends a valid block, extra-block-{k} inserts it before section k", async () => {
    const appended = await mbCar("extra-block");
    expect(appended.cids.slice(0, 6)).toEqual(MB_BLOCKS);
    expect(appended.cids).toHaveLength(7);
    expect(appended.valid.every(Boolean)).toBe(true);
    const inserted = await mbCar("extra-block-1");
    expect(inserted.cids).toEqual([MB_BLOCKS[0], appended.cids[6], ...MB_BLOCKS.slice(1)]);
  });

  it("oversized-{k} sends a 3 MiB block (valid for its own CID) at k", async () => {
    const response = await get("oversized-1", `/ipfs/${MB}?format=car`);
    const car = await carBlocks(response);
    expect(car.blocks.map((block) => block.bytes.length)).toEqual([245, 3 * 1024 * 1024, 256, 256, 256, 2]);
    expect(await blockIsValid(car.blocks[1]!)).toBe(true);
  });

  it("truncate-{n} ends cleanly after n bytes; die-{n} cuts the connection after n bytes", async () => {
    const truncated = await get("truncate-100", `/ipfs/${MB}?format=car`);
    expect(truncated.status).toBe(200);
    expect((await truncated.arrayBuffer()).byteLength).toBe(100);

    const personality = uniquePersonality("die-100");
    const died = await get(personality, `/ipfs/${MB}?format=car`);
    expect(died.status).toBe(200);
    const reader = died.body!.getReader();
    let received = 0;
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += value.length;
        }
      })(),
    ).rejects.toThrow();
    expect(received).toBe(100);
    const [entry] = await requestLog(personality);
    expect(entry).toMatchObject({ status: 200, bytesSent: 100, aborted: false, closed: true });
  });

  it("stall-{n} sends n bytes then nothing; the log shows the client leaving", async () => {
    const personality = uniquePersonality("stall-50");
    const controller = new AbortController();
    const response = await get(personality, `/ipfs/${MB}?format=car`, { signal: controller.signal });
    const reader = response.body!.getReader();
    let received = 0;
    const timer = setTimeout(() => controller.abort(), 400);
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += value.length;
        }
      })(),
    ).rejects.toThrow();
    clearTimeout(timer);
    expect(received).toBe(50);
    await expect.poll(async () => (await requestLog(personality))[0]?.aborted).toBe(true);
  });

  it("no-car refuses CARs with 406 but serves raw blocks", async () => {
    const car = await get("no-car", `/ipfs/${MB}?format=car`);
    expect(car.status).toBe(406);
    await car.arrayBuffer();
    const raw = await get("no-car", `/ipfs/${HELLO}?format=raw`);
    expect(await raw.text()).toBe("hello world\n");
  });

  it("dups-n sends dups=n when asked for dups=y, and says so", async () => {
    const path = "/ipfs/bafybeihchr7vmgjaasntayyatmp5sv6xza57iy2h4xj7g46bpjij6yhrmy";
    const honest = await get("honest", path, { headers: { Accept: CAR_DUPS_Y } });
    expect(honest.headers.get("Content-Type")).toBe(CAR_DUPS_Y);
    expect((await carBlocks(honest)).blocks).toHaveLength(10);
    const dupsN = await get("dups-n", path, { headers: { Accept: CAR_DUPS_Y } });
    expect(dupsN.headers.get("Content-Type")).toBe(CAR_DUPS_N);
    expect((await carBlocks(dupsN)).blocks).toHaveLength(9);
  });
});

describe("control endpoints and import helpers", () => {
  it("logs requests per personality and resets one personality's log", async () => {
    const personality = uniquePersonality("honest");
    await (await get(personality, `/ipfs/${HELLO}?format=raw`, { headers: { Accept: "application/vnd.ipld.raw" } })).arrayBuffer();
    expect(await requestLog(personality)).toEqual([
      {
        personality,
        method: "GET",
        url: `/${personality}/ipfs/${HELLO}?format=raw`,
        accept: "application/vnd.ipld.raw",
        status: 200,
        bytesSent: 12,
        aborted: false,
        closed: true,
      },
    ]);
    await resetLog(personality);
    expect(await requestLog(personality)).toEqual([]);
  });

  it("importFile uploads a chunked file the upstream then serves by range", async () => {
    // Pseudo-random so no two leaves are equal (equal leaves would be one block).
    let state = 0x2545f491;
    const bytes = new Uint8Array(10_000).map(() => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state & 0xff;
    });
    const dag = await importFile(bytes, { chunkSize: 1024, rawLeaves: true, maxChildrenPerNode: 4 });
    // 10 leaves under a balanced tree of width 4: 3 internal nodes under the root.
    expect(dag.blocks).toHaveLength(14);
    const all = await carBlocks(await get("honest", `/ipfs/${dag.cid}?format=car`));
    expect(all.blocks).toHaveLength(14);
    expect(all.blocks[0]!.cid).toBe(dag.cid.toString());
    const concatenated = all.blocks.filter((block) => block.cid.startsWith("bafkrei")).flatMap((block) => [...block.bytes]);
    expect(new Uint8Array(concatenated)).toEqual(bytes);
    // Bytes 5000..5100 sit in leaf 4 (4096..5119), under the second internal node.
    const ranged = await carBlocks(await get("honest", `/ipfs/${dag.cid}?format=car&entity-bytes=5000:5100`));
    expect(ranged.blocks.map((block) => block.bytes.length)).toEqual([all.blocks[0]!.bytes.length, expect.any(Number), 1024]);
    expect(ranged.blocks[2]!.bytes).toEqual(bytes.slice(4096, 5120));
  });

  it("importDirectory with a small shard threshold makes a HAMT the upstream can path into", async () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({ path: `file-${i}.txt`, content: new TextEncoder().encode(`content of file ${i}\n`) }));
    const dir = await importDirectory(entries, { shardSplitThresholdBytes: 256 });
    const block = await get("honest", `/ipfs/${dir.cid}/file-17.txt?format=car&dag-scope=block`);
    const car = await carBlocks(block);
    expect(car.blocks[0]!.cid).toBe(dir.cid.toString());
    expect(car.blocks.at(-1)!.cid).toBe(dir.paths.get("file-17.txt")!.toString());
    expect(new TextDecoder().decode(car.blocks.at(-1)!.bytes)).toBe("content of file 17\n");
    const raw = new Uint8Array(await (await get("honest", `/ipfs/${dir.cid}?format=raw`)).arrayBuffer());
    expect(UnixFS.unmarshal(dagPb.decode(raw).Data!).type).toBe("hamt-sharded-directory");
    // dag-scope=entity of a HAMT: its shard blocks only, none of the 40 files.
    const entity = await carBlocks(await get("honest", `/ipfs/${dir.cid}?format=car&dag-scope=entity`));
    const files = new Set(entries.map((entry) => dir.paths.get(entry.path)!.toString()));
    expect(entity.blocks.length).toBeGreaterThan(0);
    expect(entity.blocks.filter((entry) => files.has(entry.cid))).toEqual([]);
    for (const shard of entity.blocks) {
      expect(UnixFS.unmarshal(dagPb.decode(shard.bytes).Data!).type).toBe("hamt-sharded-directory");
    }
  });

  it("putDagCbor uploads a node whose links the upstream follows", async () => {
    const node = await putDagCbor({ b: CID.parse(HELLO), a: [CID.parse(MB)] });
    const car = await parseCar(new Uint8Array(await (await get("honest", `/ipfs/${node.cid}?format=car`)).arrayBuffer()));
    // dag-cbor key order: "a" before "b"; MB's whole DAG, then HELLO.
    expect(car.blocks.map((block) => block.cid)).toEqual([node.cid.toString(), ...MB_BLOCKS, HELLO]);
    const path = await carBlocks(await get("honest", `/ipfs/${node.cid}/a/0?format=car&dag-scope=block`));
    expect(path.blocks.map((block) => block.cid)).toEqual([node.cid.toString(), MB]);
  });
});
