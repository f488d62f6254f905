import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { call, expectFailure, identityCid, newAccount, pinJson, settle, type PinStatusJson } from "../pinning/helpers";

type Results = { count: number; results: PinStatusJson[] };

async function list(token: string, query: string): Promise<Results> {
  const res = await call("GET", `/psa/pins${query}`, { token });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Results;
}

/** An account with pins named n0..n(count-1), all pinned. */
async function accountWithPins(count: number, extra: (i: number) => Record<string, unknown> = () => ({})) {
  const acct = await newAccount();
  const pins: PinStatusJson[] = [];
  for (let i = 0; i < count; i++) {
    pins.push(await pinJson(await call("POST", "/psa/pins", { token: acct.token, body: { cid: identityCid(`p${i}`).toString(), name: `n${i}`, ...extra(i) } })));
  }
  await settle(acct.account);
  return { ...acct, pins };
}

describe("PSA GET /pins filters", () => {
  it("default: the 10 newest pinned pins, newest first, count = all matches", async () => {
    const { token, pins } = await accountWithPins(12);
    const res = await list(token, "");
    expect(res.count).toBe(12);
    expect(res.results.map((r) => r.pin.name)).toEqual(["n11", "n10", "n9", "n8", "n7", "n6", "n5", "n4", "n3", "n2", "n1", "n0"].slice(0, 10));
    expect(res.results[0]!.requestid).toBe(pins[11]!.requestid);
  });

  it("created is unique and before= paging reads every pin exactly once", async () => {
    const { token } = await accountWithPins(25);
    const seen: string[] = [];
    let query = "?limit=10";
    for (;;) {
      const page = await list(token, query);
      if (page.results.length === 0) break;
      seen.push(...page.results.map((r) => r.pin.name!));
      query = `?limit=10&before=${encodeURIComponent(page.results.at(-1)!.created)}`;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `n${24 - i}`));
    const created = (await list(token, "?limit=1000")).results.map((r) => r.created);
    expect(new Set(created).size).toBe(25);
  });

  it("after= and before= bound the window (exclusive)", async () => {
    const { token, pins } = await accountWithPins(5);
    const res = await list(token, `?after=${encodeURIComponent(pins[1]!.created)}&before=${encodeURIComponent(pins[4]!.created)}`);
    expect(res.results.map((r) => r.pin.name)).toEqual(["n3", "n2"]);
    expect(res.count).toBe(2);
  });

  it("status: absent → pinned only; a list selects those states", async () => {
    const { token, account } = await newAccount();
    await pinJson(await call("POST", "/psa/pins", { token, body: { cid: identityCid("done").toString(), name: "done" } }));
    await settle(account);
    // A CID nobody serves (upstreams unreachable in this test) stays queued until its first attempt runs.
    await pinJson(await call("POST", "/psa/pins", { token, body: { cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", name: "waiting" } }));
    expect((await list(token, "")).results.map((r) => r.pin.name)).toEqual(["done"]);
    // Its alarm may be running its first attempt right now: queued or pinning.
    expect((await list(token, "?status=queued,pinning")).results.map((r) => r.pin.name)).toEqual(["waiting"]);
    expect((await list(token, "?status=queued,pinning,pinned")).count).toBe(2);
    expect((await list(token, "?status=queued&status=pinning&status=pinned")).count).toBe(2);
    expect((await list(token, "?status=failed")).count).toBe(0);
    await expectFailure(await call("GET", "/psa/pins?status=done", { token }), 400, "BAD_REQUEST");
    await expectFailure(await call("GET", "/psa/pins?status=", { token }), 400, "BAD_REQUEST");
  });

  it("cid: 1 to 10 CIDs, CIDv0 and CIDv1 of the same content match", async () => {
    const { token, account } = await newAccount();
    const v0 = "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR";
    const v1 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
    await pinJson(await call("POST", "/psa/pins", { token, body: { cid: v0, name: "v0" } }));
    await pinJson(await call("POST", "/psa/pins", { token, body: { cid: identityCid("x").toString(), name: "x" } }));
    await registryStub(env, account).setLimits({ deadlineMs: 60_000 });
    expect((await list(token, `?status=queued,pinning,failed&cid=${v1}`)).results.map((r) => r.pin.name)).toEqual(["v0"]);
    expect((await list(token, `?status=queued,pinning,pinned,failed&cid=${v0},${identityCid("x")}`)).count).toBe(2);
    const eleven = Array.from({ length: 11 }, (_, i) => identityCid(`c${i}`).toString()).join(",");
    await expectFailure(await call("GET", `/psa/pins?cid=${eleven}`, { token }), 400, "BAD_REQUEST");
    await expectFailure(await call("GET", "/psa/pins?cid=nope", { token }), 400, "BAD_REQUEST");
    await expectFailure(await call("GET", "/psa/pins?cid=", { token }), 400, "BAD_REQUEST");
  });

  it("name with match exact / iexact / partial / ipartial", async () => {
    const { token } = await accountWithPins(0);
    const names = ["Report.PDF", "report.pdf", "annual-report.pdf", "other"];
    const acct = await newAccount();
    for (const [i, name] of names.entries()) {
      await pinJson(await call("POST", "/psa/pins", { token: acct.token, body: { cid: identityCid(`m${i}`).toString(), name } }));
    }
    await settle(acct.account);
    const names_ = async (q: string) => (await list(acct.token, q)).results.map((r) => r.pin.name).sort();
    expect(await names_("?name=report.pdf")).toEqual(["report.pdf"]);
    expect(await names_("?name=report.pdf&match=exact")).toEqual(["report.pdf"]);
    expect(await names_("?name=REPORT.pdf&match=iexact")).toEqual(["Report.PDF", "report.pdf"]);
    expect(await names_("?name=report&match=partial")).toEqual(["annual-report.pdf", "report.pdf"]);
    expect(await names_("?name=REPORT&match=ipartial")).toEqual(["Report.PDF", "annual-report.pdf", "report.pdf"]);
    expect(await names_("?name=%25")).toEqual([]);
    await expectFailure(await call("GET", "/psa/pins?name=x&match=fuzzy", { token }), 400, "BAD_REQUEST");
    await expectFailure(await call("GET", `/psa/pins?name=${"n".repeat(256)}`, { token }), 400, "BAD_REQUEST");
  });

  it("meta: every given key/value must match (AND)", async () => {
    const { token } = await accountWithPins(4, (i) => ({ meta: { app: i < 2 ? "a" : "b", env: i % 2 === 0 ? "prod" : "dev" } }));
    const q = (meta: object) => `?meta=${encodeURIComponent(JSON.stringify(meta))}`;
    expect((await list(token, q({ app: "a" }))).results.map((r) => r.pin.name)).toEqual(["n1", "n0"]);
    expect((await list(token, q({ app: "a", env: "prod" }))).results.map((r) => r.pin.name)).toEqual(["n0"]);
    expect((await list(token, q({ app: "c" }))).count).toBe(0);
    expect((await list(token, q({}))).count).toBe(4);
    await expectFailure(await call("GET", "/psa/pins?meta=%7Bbad", { token }), 400, "BAD_REQUEST");
    await expectFailure(await call("GET", `/psa/pins${q({ app: 1 })}`, { token }), 400, "BAD_REQUEST");
    await expectFailure(await call("GET", `/psa/pins${q(["a"])}`, { token }), 400, "BAD_REQUEST");
  });

  it("limit: default 10, 1 to 1000, anything else 400", async () => {
    const { token } = await accountWithPins(3);
    expect((await list(token, "?limit=1")).results).toHaveLength(1);
    expect((await list(token, "?limit=1000")).results).toHaveLength(3);
    for (const bad of ["0", "1001", "-1", "abc", "1.5", ""]) {
      await expectFailure(await call("GET", `/psa/pins?limit=${bad}`, { token }), 400, "BAD_REQUEST");
    }
  });

  it("before/after must be RFC 3339 date-times", async () => {
    const { token } = await newAccount();
    for (const bad of ["yesterday", "2020-07-27", "1595871148", "2020-13-45T99:99:99Z"]) {
      await expectFailure(await call("GET", `/psa/pins?before=${bad}`, { token }), 400, "BAD_REQUEST");
    }
    expect((await list(token, "?after=2020-07-27T17:32:28Z")).count).toBe(0);
    expect((await list(token, "?before=2020-07-27T17:32:28.5%2B02:00")).count).toBe(0);
  });
});
