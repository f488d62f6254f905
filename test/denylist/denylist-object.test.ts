/**
 * The Denylist object with lists served by test/servers/denylist-server.ts:
 * refresh (streamed, conditional, atomic, failure keeps the previous
 * version), exact storage of 200k double-hash entries, and the isolate
 * snapshot built from it.
 */
import { CID } from "multiformats/cid";
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { denylistObject, type RefreshResult } from "../../src/denylist/denylist-object";
import { denylistMatcher, resetDenylistMatcher } from "../../src/denylist/isolate-matcher";
import { DENYLIST_CRON, runScheduled } from "../../src/cron/scheduled";
import { refreshDenylists } from "../../src/denylist/refresh";
import { bytesToHex } from "../../src/denylist/rule";
import { hasKey, type DenylistSnapshot } from "../../src/denylist/snapshot";

const base = inject("denylistBase");

async function sha256Hex(text: string): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

async function publish(name: string, body: string): Promise<string> {
  const res = await fetch(`${base}/lists/${name}`, { method: "PUT", body });
  expect(res.status).toBe(204);
  return `${base}/lists/${name}`;
}

function withLists(...urls: string[]): Env {
  return { ...env, DENYLIST_URLS: urls.join(",") } as Env;
}

const HELLO = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
const HELLO_V0_DAGPB = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";

describe("refresh", () => {
  it("loads lists in order, serves them to isolates, and re-checks conditionally", async () => {
    const helloHash = await sha256Hex(`${HELLO}/`);
    const first = await publish(
      "first.deny",
      `version: 1\nname: first\n---\n//${helloHash}\n/ipfs/${HELLO_V0_DAGPB}/secret*\nnot a rule\n`,
    );
    const second = await publish("second.deny", `!/ipfs/${HELLO_V0_DAGPB}/secret/ok status=451\n`);

    const results = await refreshDenylists(withLists(first, second));
    expect(results).toEqual<RefreshResult[]>([
      { url: first, outcome: "updated", hashes: 1, rules: 1, malformed: 1, unsupported: 0 },
      { url: second, outcome: "updated", hashes: 0, rules: 1, malformed: 0, unsupported: 0 },
    ]);
    const lists = await denylistObject(env).listStatus();
    expect(lists.map((l) => [l.url, l.position, l.name, l.hashes, l.rules, l.malformed, l.errors, l.lastError])).toEqual([
      [first, 0, "first", 1, 1, 1, ['line 6: not a /ipfs/, /ipns/ or // rule: "not"'], null],
      [second, 1, null, 0, 1, 0, [], null],
    ]);

    resetDenylistMatcher();
    const m = await denylistMatcher(env);
    expect(await m.isDenied(CID.parse(HELLO))).toEqual({ status: 410, rule: `//${helloHash}`, list: first });
    const v1 = CID.parse(HELLO_V0_DAGPB).toV1();
    expect(await m.isDenied(v1, ["secret", "x"])).toEqual({ status: 410, rule: `/ipfs/${HELLO_V0_DAGPB}/secret*`, list: first });
    expect(await m.isDenied(v1, ["secret", "ok"])).toBeUndefined(); // the later list's allow rule
    expect(await m.isDenied(v1, ["public"])).toBeUndefined();

    // Second run: conditional GET, 304, nothing rebuilt.
    const version = await denylistObject(env).version();
    expect(await refreshDenylists(withLists(first, second))).toEqual([
      { url: first, outcome: "unchanged" },
      { url: second, outcome: "unchanged" },
    ]);
    expect(await denylistObject(env).version()).toBe(version);
    const log = (await (await fetch(`${base}/__log`)).json()) as { path: string; ifNoneMatch: string | null }[];
    const conditional = log.filter((e) => e.path === "/lists/first.deny").map((e) => e.ifNoneMatch !== null);
    expect(conditional.slice(-2)).toEqual([false, true]);
  });

  it("a failed refresh keeps the previous version and records the error", async () => {
    const url = await publish("keep.deny", `/ipfs/${HELLO}\n`);
    expect((await refreshDenylists(withLists(url)))[0]).toMatchObject({ outcome: "updated", rules: 1 });

    await publish("keep.deny", "version: 2\n---\n");
    expect((await refreshDenylists(withLists(url)))[0]).toEqual({ url, outcome: "failed", error: 'unsupported denylist version "2"' });
    const [status] = await denylistObject(env).listStatus();
    expect([status?.rules, status?.lastError]).toEqual([1, 'unsupported denylist version "2"']);
    resetDenylistMatcher();
    expect(await (await denylistMatcher(env)).isDenied(CID.parse(HELLO))).toMatchObject({ rule: `/ipfs/${HELLO}` });

    const failing = [`${base}/fail.deny`, `${base}/truncated.deny`, "http://127.0.0.1:9/unreachable.deny"];
    const results = await refreshDenylists(withLists(url, ...failing));
    expect(results[0]).toEqual({ url, outcome: "failed", error: 'unsupported denylist version "2"' });
    expect(results[1]).toEqual({ url: failing[0], outcome: "failed", error: "HTTP 500" });
    expect(results[2]?.outcome).toBe("failed");
    expect(results[2]?.error).toMatch(/^read failed: /);
    expect(results[3]?.outcome).toBe("failed");
    expect(results[3]?.error).toMatch(/^fetch failed: /);
    // the truncated list never became current: nothing of it is served
    const snap = (await denylistObject(env).snapshot()) as DenylistSnapshot;
    expect(snap.lists.map((l) => [l.id, l.keys.length])).toEqual([
      [url, 0],
      ["operator", 0],
    ]);
    expect((await denylistObject(env).listStatus()).map((l) => [l.url, l.lastError !== null])).toEqual([
      [url, true],
      [failing[0], true],
      [failing[1], true],
      [failing[2], true],
    ]);
    expect(snap.rules.filter((r) => r.list === 0).map((r) => r.text)).toEqual([`/ipfs/${HELLO}`]);

    // lists no longer configured are dropped
    const fixed = await publish("keep.deny", `/ipfs/${HELLO}\n`);
    await refreshDenylists(withLists(fixed));
    expect((await denylistObject(env).listStatus()).map((l) => l.url)).toEqual([fixed]);
  });

  it("200k double-hash entries: streamed, stored exactly, found in the snapshot", async () => {
    const helloHash = await sha256Hex(`${HELLO}/`);
    const url = `${base}/generated/200000.deny?status=451&extra=${helloHash}`;
    const t0 = Date.now();
    const [result] = await refreshDenylists(withLists(url));
    const elapsed = Date.now() - t0;
    expect(result).toEqual({ url, outcome: "updated", hashes: 200_001, rules: 0, malformed: 0, unsupported: 0 });
    expect(elapsed).toBeLessThan(20_000);

    const stub = denylistObject(env);
    const probe = [await sha256Hex("entry-0"), await sha256Hex("entry-199999"), await sha256Hex("entry-200000"), helloHash];
    expect(await stub.has(probe)).toEqual([probe[0], probe[1], helloHash]);

    const snap = (await stub.snapshot()) as DenylistSnapshot;
    const list = snap.lists[0]!;
    expect([list.id, list.status, list.keys.length]).toEqual([url, 451, 400_002]);
    for (let i = 2; i < list.keys.length; i += 2) {
      const ordered = list.keys[i - 2]! < list.keys[i]! || (list.keys[i - 2] === list.keys[i] && list.keys[i - 1]! < list.keys[i + 1]!);
      if (!ordered) throw new Error(`keys not strictly sorted at ${i / 2}`);
    }
    const key = (hex: string) => [parseInt(hex.slice(0, 8), 16), parseInt(hex.slice(8, 16), 16)] as const;
    expect(hasKey(list.keys, ...key(probe[1]!))).toBe(true);
    expect(hasKey(list.keys, ...key(probe[2]!))).toBe(false);

    resetDenylistMatcher();
    const m = await denylistMatcher(env);
    const t1 = performance.now();
    const verdict = await m.isDenied(CID.parse(HELLO), ["a", "b"]);
    const miss = await m.isDenied(CID.parse(HELLO_V0_DAGPB), ["a"]);
    expect(performance.now() - t1).toBeLessThan(50);
    expect(verdict).toEqual({ status: 451, rule: `//${helloHash}`, list: url });
    expect(miss).toBeUndefined();

    // a duplicate-free store: the same list again is unchanged in size
    await refreshDenylists(withLists(`${base}/generated/200000.deny?status=451&extra=${await sha256Hex("entry-5")}`));
    const [again] = await stub.listStatus();
    expect(again?.hashes).toBe(200_000);
  });

  it("the */30 cron trigger refreshes DENYLIST_URLS", async () => {
    const url = await publish("cron.deny", `/ipns/cron.example\n`);
    expect(DENYLIST_CRON).toBe("*/30 * * * *");
    const controller = { cron: DENYLIST_CRON, scheduledTime: Date.now(), noRetry() {} } as ScheduledController;
    await runScheduled(controller, withLists(url), createExecutionContext());
    expect((await denylistObject(env).listStatus()).map((l) => [l.url, l.rules])).toEqual([[url, 1]]);
    resetDenylistMatcher();
    expect(await (await denylistMatcher(env)).isNameDenied("cron.example")).toMatchObject({ status: 410, list: url });
  });
});
