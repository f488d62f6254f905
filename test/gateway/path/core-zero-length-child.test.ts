/**
 * A UnixFS file whose first child is zero bytes long. An honest upstream
 * sends every child for `dag-scope=entity` (no entity-bytes) and
 * `dag-scope=all`, the empty one included, so the traversal must ask for it
 * too, or the session takes the honest upstream's next block for a lie.
 * Found while building the path gateway as a core bug in select-blocks.ts
 * `fileBlocks` (fixed in 4300216); the deserialized file handler
 * (handlers/file-bytes.ts, `whole`) walks such children as well.
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
