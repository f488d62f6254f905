/**
 * Core bug (src/gateway/traversal/select-blocks.ts, `fileBlocks`), found while
 * building the path gateway: a UnixFS file whose first child is zero bytes
 * long. An honest upstream sends every child for `dag-scope=entity` (no
 * entity-bytes) and `dag-scope=all`, the empty one included; `fileBlocks`
 * skips a zero-length child at offset 0 (its span [0, -1] does not overlap
 * [0, size-1]), so the session meets a block the traversal did not ask for,
 * drops the honest upstream as `invalid_block`, and the CAR fails (502).
 * The deserialized file handler (handlers/file-bytes.ts, `whole`) walks
 * such children and serves the file; this test pins both.
 */
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { carBlocks, putBlocks } from "../../helpers/upstream";
import { pathGateway } from "./helpers";

async function fileWithEmptyFirstChild() {
  const raw = async (bytes: Uint8Array) => ({ cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes });
  const empty = await raw(new Uint8Array(0));
  const abc = await raw(new TextEncoder().encode("abc"));
  const unixfs = new UnixFS({ type: "file", blockSizes: [0n, 3n] });
  const bytes = dagPb.encode({ Data: unixfs.marshal(), Links: [{ Hash: empty.cid, Tsize: 0 }, { Hash: abc.cid, Tsize: 3 }] });
  const root = { cid: CID.createV1(0x70, await sha256.digest(bytes)), bytes };
  await putBlocks([root, empty, abc]);
  return { root, empty, abc };
}

describe("a file whose first child is empty", () => {
  it("is served deserialized (the path gateway walks zero-length children)", async () => {
    const { root } = await fileWithEmptyFirstChild();
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${root.cid}`);
    expect(await response.text()).toBe("abc");
    expect(await gw.counts()).toMatchObject({ ok: 1, invalidBlock: 0 });
  });

  it("as a CAR (dag-scope=all) it carries all three blocks from the honest upstream", async () => {
    const { root, empty, abc } = await fileWithEmptyFirstChild();
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${root.cid}?format=car`);
    expect(response.status).toBe(200);
    const car = await carBlocks(response).catch((err: unknown) => ({ error: String(err) }));
    expect(car).toMatchObject({ blocks: [{ cid: String(root.cid) }, { cid: String(empty.cid) }, { cid: String(abc.cid) }] });
    expect(await gw.counts()).toMatchObject({ invalidBlock: 0 });
  });
});
