import { Hono } from "hono";
import type { CID } from "multiformats/cid";
import { requireToken, type AuthEnv } from "../accounts/auth";
import { R2BlockStore } from "../backends/r2-block-store";
import { registryStub } from "../durable-objects/pin-registry";
import { badRequest, HttpError } from "../http/errors";
import { holdBlocks } from "../pinning/block-refs";
import { walkDag } from "../pinning/pin-walk";
import type { PinRecord } from "../pinning/pin-types";
import { MAX_NAME } from "../psa/pin-input";
import { BlockWriter } from "./block-writer";
import { importCar } from "./car-import";
import { fixedChunks } from "./fixed-chunks";
import { UnixfsFileBuilder } from "./unixfs-file-builder";

/** Chunk size of raw-file imports: `ipfs add --chunker=size-1048576`, `ipfs-car pack`. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

/**
 * `POST /api/v1/upload` (docs/pinning.md): the body is a CAR
 * (`Content-Type: application/vnd.ipld.car`) or the raw bytes of one file,
 * imported as UnixFS. Everything is verified, written to R2 as it streams,
 * and pinned for the token's account before the answer:
 * `201 { cid, requestid, dag_size, pins: [{ cid, requestid }] }`.
 * `?name=` names the pin(s).
 */
export const uploadRoutes = new Hono<AuthEnv>();

uploadRoutes.post("/upload", requireToken, async (c) => {
  // No body (Content-Length: 0) is an empty file, or an empty CAR (a 400 below).
  const body = c.req.raw.body ?? new Blob([]).stream();
  const result = await uploadForAccount(c.env, c.get("account"), body, c.req.header("Content-Type") ?? "", c.req.query("name"));
  return c.json(result, 201);
});

/** What an upload created: its first root, the pins (one per CAR root), the bytes stored. */
export type UploadResult = { cid: string; requestid: string; dag_size: number; pins: { cid: string; requestid: string }[] };

/**
 * Imports `body` (a CAR when `contentType` is `application/vnd.ipld.car`,
 * else one file as UnixFS) into R2 and pins it for `account`; the route
 * above and the dashboard's upload form share it. Throws HttpError (400 bad
 * input, 409 quota); a failure releases every block it held.
 */
export async function uploadForAccount(env: Env, account: string, body: ReadableStream<Uint8Array>, contentType: string, name: string | undefined): Promise<UploadResult> {
  if (name !== undefined && [...name].length > MAX_NAME) throw badRequest(`name longer than ${MAX_NAME} characters`);
  const registry = registryStub(env, account);
  const [limits, usage] = await Promise.all([registry.limits(), registry.usage()]);
  if (usage.pins >= limits.maxPins) throw new HttpError("conflict", `pin quota of this account reached (${limits.maxPins} pins)`);
  const bytesLeft = Math.max(0, limits.maxBytes - usage.bytes);

  const store = new R2BlockStore(env.BLOCKS);
  const registryId = env.PIN_REGISTRY.idFromName(account).toString();
  const uploadHolder = `${registryId}/upload/${crypto.randomUUID()}`;
  const writer = new BlockWriter(store, (cids) => holdBlocks(env, uploadHolder, cids));
  const pins: PinRecord[] = [];
  let dagSize = 0;
  let rootHolder: string | undefined;
  try {
    const type = contentType.split(";")[0]!.trim().toLowerCase();
    if (type === "application/vnd.ipld.car") {
      const roots = await importCar(body, writer, bytesLeft);
      // Every root's DAG must be complete; each root gets its own holder, then the
      // upload's holder lets go (blocks no root reaches become GC candidates).
      for (const root of roots) {
        const holder = (rootHolder = `${registryId}/${root.toV1()}/${crypto.randomUUID()}`);
        const walked = await walkDag(
          root,
          { store, hold: (cids) => holdBlocks(env, holder, cids), source: missingFrom(root) },
          { maxNewBlocks: Number.MAX_SAFE_INTEGER, until: Number.MAX_SAFE_INTEGER, maxDagBytes: Number.MAX_SAFE_INTEGER },
        );
        if (walked.kind !== "complete") throw new Error(`unexpected walk result ${walked.kind}`);
        dagSize += walked.dagSize;
        pins.push(await registry.completeUpload({ cid: root.toString(), name, origins: [], meta: {} }, root.toV1().toString(), holder, walked.dagSize, walked.blocks));
        rootHolder = undefined;
      }
      await registry.abandonUpload(uploadHolder);
    } else {
      const builder = new UnixfsFileBuilder((cid, bytes) => writer.write(cid, bytes));
      for await (const chunk of fixedChunks(body, UPLOAD_CHUNK_BYTES)) {
        await builder.addChunk(chunk);
        if (writer.bytes > bytesLeft) throw new HttpError("conflict", `the upload exceeds the storage left to this account (${bytesLeft} bytes)`);
      }
      const { root } = await builder.finish();
      await writer.flush();
      dagSize = writer.bytes;
      pins.push(await registry.completeUpload({ cid: root.toString(), name, origins: [], meta: {} }, root.toString(), uploadHolder, writer.bytes, writer.blocks));
    }
  } catch (err) {
    await writer.flush().catch(() => undefined);
    await registry.abandonUpload(uploadHolder);
    if (rootHolder !== undefined) await registry.abandonUpload(rootHolder);
    throw err;
  }
  const first = pins[0]!;
  return { cid: first.pin.cid, requestid: first.requestid, dag_size: dagSize, pins: pins.map((p) => ({ cid: p.pin.cid, requestid: p.requestid })) };
}

/** The source of blocks an upload lacks: none. A missing block is the uploader's error, named. */
function missingFrom(root: CID) {
  // eslint-disable-next-line require-yield
  return async function* (cid: CID): AsyncGenerator<{ cid: CID; bytes: Uint8Array }> {
    throw badRequest(`incomplete DAG: block ${cid} under root ${root} is not in the CAR`);
  };
}
