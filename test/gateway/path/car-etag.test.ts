/**
 * CAR ETags (path-gateway.md#etag-response-header; trustless-gateway.md:
 * a CAR's bytes depend on dag-scope, entity-bytes, dups and the path): every
 * variant has its own ETag, equal requests get the same one, and
 * `If-None-Match` with another variant's ETag is a 200 with the body, never
 * a 304. Fixtures from test/fixtures/conformance (README "Fixture reference").
 */
import { describe, expect, it } from "vitest";
import { fetchWorker } from "../../helpers/upstream";

const MIX_ROOT = "bafybeidh6k2vzukelqtrjsmd4p52cpmltd2ufqrdtdg6yigi73in672fwu";
const MB = "bafybeigcisqd7m5nf3qmuvjdbakl5bdnh4ocrmacaqkpuh77qjvggmt2sa";
const DUP_ROOT = "bafybeihchr7vmgjaasntayyatmp5sv6xza57iy2h4xj7g46bpjij6yhrmy";
const CAR = "application/vnd.ipld.car";

async function carEtag(path: string, accept?: string): Promise<{ etag: string; bytes: Uint8Array }> {
  const res = await fetchWorker(path, accept === undefined ? undefined : { headers: { Accept: accept } });
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(res.status, path).toBe(200);
  expect(res.headers.get("Content-Type")).toContain(CAR);
  const etag = res.headers.get("ETag");
  expect(etag).toMatch(/^W\/"[^"]+"$/);
  return { etag: etag!, bytes };
}

describe("CAR ETags", () => {
  it("differ for every variant: path, dag-scope, entity-bytes, dups (and root)", async () => {
    const variants: [string, string, string?][] = [
      ["root, default scope", `/ipfs/${MIX_ROOT}?format=car`],
      ["path", `/ipfs/${MIX_ROOT}/subdir?format=car`],
      ["deeper path", `/ipfs/${MIX_ROOT}/subdir/multiblock.txt?format=car`],
      ["dag-scope=block", `/ipfs/${MIX_ROOT}?format=car&dag-scope=block`],
      ["dag-scope=entity", `/ipfs/${MIX_ROOT}?format=car&dag-scope=entity`],
      ["file", `/ipfs/${MB}?format=car`],
      ["file, entity-bytes=0:255", `/ipfs/${MB}?format=car&entity-bytes=0:255`],
      ["file, entity-bytes=512:*", `/ipfs/${MB}?format=car&entity-bytes=512:*`],
      ["file, entity-bytes=512:1023", `/ipfs/${MB}?format=car&entity-bytes=512:1023`],
      ["dups=n", `/ipfs/${DUP_ROOT}`, `${CAR}; version=1; order=dfs; dups=n`],
      ["dups=y", `/ipfs/${DUP_ROOT}`, `${CAR}; version=1; order=dfs; dups=y`],
    ];
    const seen = new Map<string, string>();
    for (const [name, path, accept] of variants) {
      const { etag } = await carEtag(path, accept);
      expect(seen.get(etag), `${name} has the ETag of ${seen.get(etag)}`).toBeUndefined();
      seen.set(etag, name);
    }
    expect(seen.size).toBe(variants.length);
  });

  it("are equal for equal requests (same bytes): repeated, ?format=car or Accept, dag-scope=all spelled out or not", async () => {
    const a = await carEtag(`/ipfs/${MIX_ROOT}/subdir?format=car`);
    const b = await carEtag(`/ipfs/${MIX_ROOT}/subdir?format=car`);
    const c = await carEtag(`/ipfs/${MIX_ROOT}/subdir`, CAR);
    const d = await carEtag(`/ipfs/${MIX_ROOT}/subdir?format=car&dag-scope=all`);
    expect(b.etag).toBe(a.etag);
    expect(c.etag).toBe(a.etag);
    expect(d.etag).toBe(a.etag);
    expect(b.bytes).toEqual(a.bytes);
    expect(c.bytes).toEqual(a.bytes);
    expect(d.bytes).toEqual(a.bytes);
  });

  it("If-None-Match: its own ETag is a 304 without a body; another variant's is the 200 CAR", async () => {
    const whole = await carEtag(`/ipfs/${MB}?format=car`);
    const ranged = await carEtag(`/ipfs/${MB}?format=car&entity-bytes=512:*`);
    const same = await fetchWorker(`/ipfs/${MB}?format=car`, { headers: { "If-None-Match": whole.etag } });
    expect(same.status).toBe(304);
    expect(same.headers.get("ETag")).toBe(whole.etag);
    expect(await same.text()).toBe("");
    const other = await fetchWorker(`/ipfs/${MB}?format=car&entity-bytes=512:*`, { headers: { "If-None-Match": whole.etag } });
    expect(other.status).toBe(200);
    expect(other.headers.get("ETag")).toBe(ranged.etag);
    expect(new Uint8Array(await other.arrayBuffer())).toEqual(ranged.bytes);
  });
});
