import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { resolveIpns, type CachedIpns, type ResolveIpnsOptions } from "../../src/ipns/resolve";
import { TtlCache } from "../../src/ipns/ttl-cache";
import { ed25519Key, getRecord, makeRecord, putRecord, routerHits } from "./record-builder";
import { failure } from "../helpers/http-failure";

const routing = inject("routingBase");
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

/** Fresh caches per call unless a test wants to share them: tests must not see each other's entries. */
const isolated = (extra: ResolveIpnsOptions = {}): ResolveIpnsOptions => ({
  memory: new TtlCache<CachedIpns>(100),
  edgeCache: null,
  ...extra,
});
const routers = (...bases: string[]) => ({ ROUTERS: bases.join(",") });

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("resolveIpns through the local delegated routing server", () => {
  it("N01: resolves the valid fixture records, with the bytes the router served", async () => {
    const cases: [string, string][] = [
      ["k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w", "/ipfs/bafkqaddwgevxmmraojswg33smq"],
      ["k51qzi5uqu5dit2ku9mutlfgwyz8u730on38kd10m97m36bjt66my99hb6103f", "/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi"],
      ["k51qzi5uqu5dilgf7gorsh9vcqqq4myo6jd4zmqkuy9pxyxi5fua3uf7axph4y", "/ipfs/bafkqahtwgevxmmrao5uxi2bamjzg623fnyqhg2lhnzqxi5lsmuqhmmi"],
      ["k2k4r8m7xvggw5pxxk3abrkwyer625hg01hfyggrai7lk1m63fuihi7w", `/ipfs/${GC_INDEX}`],
      ["k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam", `/ipfs/${GC_INDEX}`],
    ];
    for (const [name, value] of cases) {
      const resolved = await resolveIpns(routers(routing), name, isolated());
      expect(resolved.value).toBe(value);
      expect(resolved.name).toBe(name);
      expect(resolved.source).toBe("routers");
      expect(resolved.record).toEqual(await getRecord(routing, name));
    }
  });

  it("accepts peer-ID spellings and resolves them under the canonical name", async () => {
    const resolved = await resolveIpns(routers(routing), "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3", isolated());
    expect(resolved.name).toBe("k2k4r8m7xvggw5pxxk3abrkwyer625hg01hfyggrai7lk1m63fuihi7w");
    expect(resolved.value).toBe(`/ipfs/${GC_INDEX}`);
    expect(resolved.ttlSeconds).toBe(3_155_760_000);
  });

  it("N02: the broken fixture records are a 502 saying why", async () => {
    const cases: [string, string][] = [
      ["k51qzi5uqu5dm4tm0wt8srkg9h9suud4wuiwjimndrkydqm81cqtlb5ak6p7ku", "record has no signatureV2 and data (V1-only records are not accepted)"],
      ["k51qzi5uqu5dlmit2tuwdvnx4sbnyqgmvbxftl0eo3f33wwtb9gr7yozae9kpw", "protobuf value differs from the signed data"],
      ["k51qzi5uqu5diamp7qnnvs1p1gzmku3eijkeijs3418j23j077zrkok63xdm8c", "signatureV2 does not verify"],
    ];
    for (const [name, reason] of cases) {
      expect(await failure(resolveIpns(routers(routing), name, isolated()))).toEqual({
        status: 502,
        message: `IPNS record for ${name} rejected: ${reason}`,
      });
    }
  });

  it("a name no router knows is a 404; a bad name a 400", async () => {
    const key = await ed25519Key();
    expect(await failure(resolveIpns(routers(routing), key.name, isolated()))).toEqual({
      status: 404,
      message: `no IPNS record found for ${key.name}`,
    });
    // routing v1: a 200 with another content type also means "no record found".
    expect(await failure(resolveIpns(routers(`${routing}/notype`), key.name, isolated()))).toEqual({
      status: 404,
      message: `no IPNS record found for ${key.name}`,
    });
    expect((await failure(resolveIpns(routers(routing), "not-a-name", isolated()))).status).toBe(400);
  });

  it("uses the ROUTERS binding", async () => {
    expect(env.ROUTERS).toBe(routing);
    const resolved = await resolveIpns(env, "k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w", isolated());
    expect(resolved.value).toBe("/ipfs/bafkqaddwgevxmmraojswg33smq");
  });

  it("caches by TTL in the isolate: the second call does not reach the router, the call after the TTL does", async () => {
    const key = await ed25519Key();
    await putRecord(routing, key.name, await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, ttl: 1_000_000_000n }));
    const opts = isolated();
    const first = await resolveIpns(routers(routing), key.name, opts);
    expect(first).toMatchObject({ source: "routers", ttlSeconds: 1, maxAgeSeconds: 1 });
    expect(await routerHits(routing, key.name)).toBe(1);

    const second = await resolveIpns(routers(routing), key.name, opts);
    expect(second.source).toBe("memory");
    expect(second.value).toBe(`/ipfs/${GC_INDEX}`);
    expect(await routerHits(routing, key.name)).toBe(1);

    await sleep(1100);
    expect((await resolveIpns(routers(routing), key.name, opts)).source).toBe("routers");
    expect(await routerHits(routing, key.name)).toBe(2);
  });

  it("shares verified records through the Cache API, re-verified when read", async () => {
    const key = await ed25519Key();
    const record = await makeRecord(key, { value: `/ipfs/${GC_INDEX}/edge`, ttl: 300_000_000_000n });
    await putRecord(routing, key.name, record);
    const edgeCache = await caches.open(`ipns-test-${key.name}`);
    const first = await resolveIpns(routers(routing), key.name, { memory: new TtlCache(10), edgeCache });
    expect(first.source).toBe("routers");
    // Another isolate: empty memory, same edge cache.
    const second = await resolveIpns(routers(routing), key.name, { memory: new TtlCache(10), edgeCache });
    expect(second).toMatchObject({ source: "edge-cache", value: `/ipfs/${GC_INDEX}/edge`, ttlSeconds: 300 });
    expect(second.record).toEqual(record);
    expect(second.maxAgeSeconds).toBeGreaterThan(295);
    expect(second.maxAgeSeconds).toBeLessThanOrEqual(300);
    expect(await routerHits(routing, key.name)).toBe(1);
  });

  it("a record read back from the edge cache is verified again: a tampered or expired entry is never served", async () => {
    const key = await ed25519Key();
    const genuine = await makeRecord(key, { value: `/ipfs/${GC_INDEX}/genuine`, ttl: 300_000_000_000n, sequence: 5n });
    await putRecord(routing, key.name, genuine);
    const edgeCache = await caches.open(`ipns-tamper-${key.name}`);
    const entryKey = `https://ipns-record.cache.invalid/${key.name}`; // resolve.ts EDGE_KEY_PREFIX
    const plant = async (bytes: Uint8Array) => {
      const headers = { "Content-Type": "application/vnd.ipfs.ipns-record", "Cache-Control": "max-age=3600", "X-Fresh-Until": String(Date.now() + 3_600_000) };
      await edgeCache.put(entryKey, new Response(bytes, { headers }));
    };
    const resolveFresh = () => resolveIpns(routers(routing), key.name, { memory: new TtlCache(10), edgeCache });

    // 1. The signed data changed after signing (one byte of the value flipped).
    const tampered = genuine.slice();
    const at = indexOf(tampered, new TextEncoder().encode("genuine"));
    expect(at).toBeGreaterThan(0);
    tampered[at] = tampered[at]! ^ 0x01;
    await plant(tampered);
    const afterTamper = await resolveFresh();
    expect(afterTamper).toMatchObject({ source: "routers", value: `/ipfs/${GC_INDEX}/genuine` });
    expect(afterTamper.record).toEqual(genuine);
    // The bad entry was replaced by the verified record.
    expect(new Uint8Array(await (await edgeCache.match(entryKey))!.arrayBuffer())).toEqual(genuine);

    // 2. Another key's record planted under this name (validly signed, but not by the name's key).
    const other = await ed25519Key();
    await plant(await makeRecord(other, { value: `/ipfs/${GC_INDEX}/forged`, sequence: 99n }));
    expect(await resolveFresh()).toMatchObject({ source: "routers", value: `/ipfs/${GC_INDEX}/genuine` });

    // 3. The name's own record, correctly signed, whose validity has passed.
    await plant(await makeRecord(key, { value: `/ipfs/${GC_INDEX}/expired`, sequence: 9n, validity: new Date(Date.now() - 60_000) }));
    expect(await resolveFresh()).toMatchObject({ source: "routers", value: `/ipfs/${GC_INDEX}/genuine` });

    // And the genuine entry is served from the edge cache without the router.
    const hits = await routerHits(routing, key.name);
    expect(await resolveFresh()).toMatchObject({ source: "edge-cache", value: `/ipfs/${GC_INDEX}/genuine` });
    expect(await routerHits(routing, key.name)).toBe(hits);
    expect(hits).toBe(3);
  });

  it("never caches past the record's validity", async () => {
    const key = await ed25519Key();
    const validity = new Date(Date.now() + 1500);
    await putRecord(routing, key.name, await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, ttl: 3_600_000_000_000n, validity }));
    const opts = isolated();
    const first = await resolveIpns(routers(routing), key.name, opts);
    expect(first.ttlSeconds).toBe(3600);
    expect(first.maxAgeSeconds).toBeLessThanOrEqual(1);
    await sleep(1600);
    // The cache entry is gone and the router's copy has expired meanwhile.
    expect(await failure(resolveIpns(routers(routing), key.name, opts))).toEqual({
      status: 502,
      message: `IPNS record for ${key.name} rejected: record expired at ${validity.toISOString()}`,
    });
    expect(await routerHits(routing, key.name)).toBe(2);
  });

  it("picks the valid record with the highest sequence across routers", async () => {
    const key = await ed25519Key();
    await putRecord(routing, key.name, await makeRecord(key, { value: "/ipfs/bafkqaddwgevxmmraojswg33smq", sequence: 5n }), "seq-a");
    await putRecord(routing, key.name, await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, sequence: 9n }), "seq-b");
    await putRecord(routing, key.name, await makeRecord(key, { value: "/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi", sequence: 2n }), "seq-c");
    const resolved = await resolveIpns(
      routers(`${routing}/store-seq-a`, `${routing}/store-seq-b`, `${routing}/store-seq-c`),
      key.name,
      isolated(),
    );
    expect(resolved.sequence).toBe(9n);
    expect(resolved.value).toBe(`/ipfs/${GC_INDEX}`);
  });

  it("a forged record from one router does not hide the valid record of another", async () => {
    const key = await ed25519Key();
    const valid = await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, sequence: 1n });
    const forged = valid.slice();
    forged[10]! ^= 0x01; // inside signatureV2
    await putRecord(routing, key.name, forged, "forged");
    await putRecord(routing, key.name, valid, "honest");
    const resolved = await resolveIpns(routers(`${routing}/store-forged`, `${routing}/store-honest`), key.name, isolated());
    expect(resolved.value).toBe(`/ipfs/${GC_INDEX}`);
    expect(await failure(resolveIpns(routers(`${routing}/store-forged`), key.name, isolated()))).toEqual({
      status: 502,
      message: `IPNS record for ${key.name} rejected: signatureV2 does not verify`,
    });
  });

  it("rejects a record of name A that a router serves for name B", async () => {
    const a = await ed25519Key();
    const b = await ed25519Key();
    await putRecord(routing, b.name, await makeRecord(a, { value: `/ipfs/${GC_INDEX}`, embedPublicKey: true }));
    expect(await failure(resolveIpns(routers(routing), b.name, isolated()))).toEqual({
      status: 502,
      message: `IPNS record for ${b.name} rejected: public key does not match the name ${b.name}`,
    });
  });

  it("rejects an oversized answer without reading past 10 KiB", async () => {
    const key = await ed25519Key();
    await putRecord(routing, key.name, await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, extra: { _pad: "x".repeat(20_000) } }));
    expect(await failure(resolveIpns(routers(routing), key.name, isolated()))).toEqual({
      status: 502,
      message: `IPNS record for ${key.name} rejected: record is over the 10240-byte limit`,
    });
  });

  it("survives a failing router, and is a 502 naming each router when none answers", async () => {
    const name = "k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w";
    expect((await resolveIpns(routers(`${routing}/fail`, routing), name, isolated())).value).toBe("/ipfs/bafkqaddwgevxmmraojswg33smq");
    expect(await failure(resolveIpns(routers(`${routing}/fail`, `${routing}/fail`), name, isolated()))).toEqual({
      status: 502,
      message: `could not fetch the IPNS record for ${name} (router 1: HTTP 500; router 2: HTTP 500)`,
    });
    const unknown = (await ed25519Key()).name;
    expect(await failure(resolveIpns(routers(`${routing}/fail`, routing), unknown, isolated()))).toEqual({
      status: 502,
      message: `could not fetch the IPNS record for ${unknown} (router 1: HTTP 500; router 2: no record)`,
    });
    // Connection refused (workerd also logs "Network connection lost" as an uncaught exception: its own noise).
    expect(await failure(resolveIpns(routers("http://127.0.0.1:9"), name, isolated()))).toMatchObject({ status: 502 });
  });

  it("does not wait for a slow router once another gave a valid record; times a silent one out", async () => {
    const name = "k51qzi5uqu5dit2ku9mutlfgwyz8u730on38kd10m97m36bjt66my99hb6103f";
    const started = Date.now();
    const resolved = await resolveIpns(routers(`${routing}/slow-5000`, routing), name, isolated({ graceMs: 100 }));
    expect(resolved.value).toBe("/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi");
    expect(Date.now() - started).toBeLessThan(2000);

    expect(await failure(resolveIpns(routers(`${routing}/slow-5000`), name, isolated({ routerTimeoutMs: 300 })))).toEqual({
      status: 502,
      message: `could not fetch the IPNS record for ${name} (router 1: timed out)`,
    });
  });

  it("a slow router with a higher sequence still wins inside the grace period", async () => {
    const key = await ed25519Key();
    await putRecord(routing, key.name, await makeRecord(key, { value: "/ipfs/bafkqaddwgevxmmraojswg33smq", sequence: 1n }), "fast");
    await putRecord(routing, key.name, await makeRecord(key, { value: `/ipfs/${GC_INDEX}`, sequence: 2n }), "slowwin");
    const resolved = await resolveIpns(
      routers(`${routing}/store-fast`, `${routing}/store-slowwin/slow-150`),
      key.name,
      isolated({ graceMs: 1000 }),
    );
    expect(resolved.sequence).toBe(2n);
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
