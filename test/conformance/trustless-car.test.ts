/**
 * Conformance section B, "Trustless: CAR" (C01–C32 of
 * test/fixtures/conformance/README.md, from gateway-conformance
 * trustless_gateway_car_test.go), replayed against the worker with the
 * honest test upstream behind it. Block lists come from
 * expected-car-blocks.json. As upstream does, C01–C25 run twice: with
 * `?format=car`, and with `Accept: application/vnd.ipld.car` and no format.
 */
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { carBlocks, fetchWorker, type CarContents } from "../helpers/upstream";
import { carCheck, carChecks, DUP_ROOT, type CarCheck } from "./fixtures";

const CAR = "application/vnd.ipld.car";
const ASCII_CAR = "bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm";

const titles: Record<string, string> = {
  C01: "path to a single-block file",
  C02: "HAMT path to a multi-block file",
  C03: "dag-cbor path through its links",
  C04: "path to an entry that does not exist",
  C05: "directory path with dag-scope=block",
  C06: "file path with dag-scope=block",
  C07: "HAMT path with dag-scope=block",
  C08: "directory with dag-scope=entity",
  C09: "HAMT directory with dag-scope=entity",
  C10: "single-block file with dag-scope=entity",
  C11: "multi-block file with dag-scope=entity",
  C12: "dag-cbor with dag-scope=entity does not follow its links",
  C13: "directory with dag-scope=all",
  C14: "multi-block file with dag-scope=all",
  C15: "entity-bytes=0:1000 does not need a missing later block",
  C16: "entity-bytes=2200:* does not need a missing earlier block",
  C17: "entity-bytes=0:* is the whole file",
  C18: "entity-bytes is ignored for a HAMT directory",
  C19: "entity-bytes=512:*",
  C20: "entity-bytes=512:1023",
  C21: "entity-bytes=512:-256",
  C22: "entity-bytes=-5:*",
  C23: "entity-bytes=-9999:* starts at the first byte",
  C24: "entity-bytes=-9999:-3",
  C25: "entity-bytes=0:0 is the first block",
  C26: "Accept order=dfs; dups=y sends every duplicate",
  C27: "Accept order=dfs; dups=n sends each block once",
  C28: "Accept order=unk is answered with an explicit order",
  C29: "identity CID: a CAR with no blocks",
};

/** The headers every 200 CAR answer carries (README section B). */
function expectCarResponseHeaders(response: Response): void {
  expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
  expect(response.headers.get("Accept-Ranges")).toBe("none");
  expect(response.headers.get("Content-Type")).toContain(CAR);
  expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; filename=".*\.car"/);
  expect(response.headers.get("Etag")).toMatch(/.+/);
}

/** Every block in the CAR hashes to its CID (all fixtures are sha2-256). */
async function expectBlocksVerify(car: CarContents): Promise<void> {
  for (const block of car.blocks) {
    const cid = CID.parse(block.cid);
    expect(cid.multihash.code, block.cid).toBe(sha256.code);
    expect((await sha256.digest(block.bytes)).digest, block.cid).toEqual(cid.multihash.digest);
  }
}

function expectBlockList(check: CarCheck, cids: string[]): void {
  if (check.ordered) expect(cids).toEqual(check.blocks);
  else if (check.exact) expect([...cids].sort()).toEqual([...check.blocks].sort());
  else expect(cids).toEqual(expect.arrayContaining(check.blocks));
}

function withQuery(path: string, query: Record<string, string>): string {
  const search = new URLSearchParams(query).toString();
  return search === "" ? path : `${path}?${search}`;
}

/** Sends the request and asserts status, common headers, block list and block hashes. */
async function runCheck(check: CarCheck, path: string, init: RequestInit): Promise<{ response: Response; car: CarContents | null }> {
  const response = await fetchWorker(path, init);
  if (check.alsoAcceptStatus404 && response.status === 404) {
    await response.arrayBuffer();
    return { response, car: null };
  }
  expect(response.status).toBe(200);
  expectCarResponseHeaders(response);
  const car = await carBlocks(response);
  expectBlockList(
    check,
    car.blocks.map((block) => block.cid),
  );
  await expectBlocksVerify(car);
  return { response, car };
}

describe("B. trustless CAR", () => {
  for (const check of carChecks.filter((candidate) => candidate.accept === undefined)) {
    const name = `${check.id} ${titles[check.id]}`;

    it(`${name} [?format=car]`, async () => {
      await runCheck(check, withQuery(check.path, check.query), {});
    });

    it(`${name} [Accept: ${CAR}]`, async () => {
      const { format: _format, ...rest } = check.query;
      await runCheck(check, withQuery(check.path, rest), { headers: { Accept: CAR } });
    });
  }

  it(`C26 ${titles.C26}`, async () => {
    const check = carCheck("C26");
    const { response } = await runCheck(check, withQuery(check.path, check.query), { headers: { Accept: check.accept! } });
    const contentType = response.headers.get("Content-Type");
    expect(contentType).toContain("order=dfs");
    expect(contentType).toContain("dups=y");
  });

  it(`C27 ${titles.C27}`, async () => {
    const check = carCheck("C27");
    const { response } = await runCheck(check, withQuery(check.path, check.query), { headers: { Accept: check.accept! } });
    const contentType = response.headers.get("Content-Type");
    expect(contentType).toContain("order=dfs");
    expect(contentType).toContain("dups=n");
  });

  it(`C28 ${titles.C28}`, async () => {
    const check = carCheck("C28");
    const { response } = await runCheck(check, withQuery(check.path, check.query), { headers: { Accept: check.accept! } });
    expect(response.headers.get("Content-Type")).toContain("order=");
  });

  it(`C29 ${titles.C29}`, async () => {
    const check = carCheck("C29");
    const { response, car } = await runCheck(check, withQuery(check.path, check.query), { headers: { Accept: check.accept! } });
    expect(response.headers.get("Content-Type")).toContain("dups=y");
    expect(car?.blocks).toEqual([]);
  });

  it("C30 ?format=car with Accept order=dfs; dups=y is C26", async () => {
    const check = carCheck("C26");
    const { response } = await runCheck(check, `/ipfs/${DUP_ROOT}?format=car`, {
      headers: { Accept: "application/vnd.ipld.car; version=1; order=dfs; dups=y" },
    });
    const contentType = response.headers.get("Content-Type");
    expect(contentType).toContain("order=dfs");
    expect(contentType).toContain("dups=y");
  });

  it("C31 car-order=dfs in the URL wins over Accept order=unk", async () => {
    const response = await fetchWorker(`/ipfs/${DUP_ROOT}?format=car&car-order=dfs`, {
      headers: { Accept: "application/vnd.ipld.car; order=unk" },
    });
    expect(response.status).toBe(200);
    expectCarResponseHeaders(response);
    expect(response.headers.get("Content-Type")).toContain("order=dfs");
    const car = await carBlocks(response);
    expect(car.blocks.map((block) => block.cid)).toEqual(expect.arrayContaining(carCheck("C27").blocks));
    await expectBlocksVerify(car);
  });

  it("C32 car-dups=y in the URL wins over Accept dups=n", async () => {
    const response = await fetchWorker(`/ipfs/${DUP_ROOT}?format=car&car-dups=y`, {
      headers: { Accept: "application/vnd.ipld.car; dups=n" },
    });
    expect(response.status).toBe(200);
    expectCarResponseHeaders(response);
    expect(response.headers.get("Content-Type")).toContain("dups=y");
    const car = await carBlocks(response);
    const cids = car.blocks.map((block) => block.cid);
    expect(cids).toEqual(expect.arrayContaining(carCheck("C26").blocks));
    // dups=y: ascii.txt and ascii-copy.txt are the same block, sent both times.
    expect(cids.filter((cid) => cid === ASCII_CAR)).toHaveLength(2);
    await expectBlocksVerify(car);
  });
});
