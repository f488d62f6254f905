/**
 * Plays PDP storage providers (Curio's PDP HTTP API, as
 * `@filoz/synapse-core/sp` speaks it) for FilecoinBackend.store's tests:
 * one Node `http` server per provider on 127.0.0.1, registered in the
 * local chain's ServiceProviderRegistry (test/servers/filecoin-storage-chain.ts)
 * with its URL as the PDP service URL, so the worker finds it on chain like
 * a real provider.
 *
 * Honest about bytes: an upload is hashed as it arrives (piece CID v2 with
 * the WASM hasher `fr32-sha2-256-trunc254-padded-binary-tree-multihash`)
 * and kept in a temporary file; a finalize naming another piece CID is
 * refused (400). Pieces are served back at `/piece/{pieceCid}`.
 *
 * - `GET /pdp/ping`
 * - `POST /pdp/piece/uploads` → 201 `Location: /pdp/piece/uploads/{uuid}`;
 *   `PUT /pdp/piece/uploads/{uuid}` (the bytes) → 204;
 *   `POST /pdp/piece/uploads/{uuid}` `{pieceCid}` → 200, or 400 on a mismatch
 * - `GET /pdp/piece?pieceCid=` → 200 `{pieceCid}` when held, else 404
 * - `POST /pdp/piece/pull` `{pieces:[{pieceCid, sourceUrl}]}`: fetches each
 *   piece from the other provider, hashes it, keeps it → `{status, pieces}`
 * - `POST /pdp/data-sets/create-and-add`, `POST /pdp/data-sets/{id}/pieces`:
 *   decodes `extraData`, recovers the EIP-712 signer (CreateDataSet,
 *   AddPieces, domain FilecoinWarmStorageService) and checks the chain's
 *   SessionKeyRegistry authorises it for the payer (what FWSS checks), that
 *   every piece is held here, then applies the transaction to the chain →
 *   201 `Location` of the status
 * - `GET /pdp/data-sets/created/{tx}`, `GET /pdp/data-sets/{id}/pieces/added/{tx}`:
 *   confirmed at once, with the chain's data set and piece ids
 * - `DELETE /pdp/data-sets/{id}/pieces/{pieceId}` `{extraData}` (what
 *   synapse-core's `schedulePieceDeletion` sends): decodes the client's
 *   EIP-712 `SchedulePieceRemovals` signature, checks the session key is
 *   authorised for the data set's payer and the data set is this
 *   provider's, then applies `schedulePieceDeletions` to the chain →
 *   200 `{txHash}`; 404 for another provider's data set, 500 (a revert)
 *   for a piece not live or a signer not authorised
 * - `GET /piece/{pieceCid}`: the bytes
 * - `GET /ipfs/{cid}?format=raw` (or `Accept: application/vnd.ipld.raw`):
 *   one block of a committed piece whose data set asked for IPFS indexing
 *   (`withIPFSIndexing`), as Curio's trustless gateway serves them; the
 *   piece's CAR is indexed at commit
 *
 * Hostile modes (`POST /__mode`, JSON `Mode`): `upload: "reject"` (503 to
 * every upload), `"die"` (the connection is destroyed after the first bytes
 * of the next upload, once), `"corrupt"` (a byte flipped on arrival: the
 * piece CID no longer matches); `ids: "wrong"` (status answers piece ids
 * that are not the chain's). `POST /__refuse-deletions` `{dataSetId, count}`:
 * the next `count` deletions in that data set fail (503, as Curio does when
 * its message could not be sent; kept apart from `/__mode`, which other
 * test files reset). `POST /__hold-deletions` `{dataSetId}`: deletions in
 * that data set wait (logged `held`) until `POST /__release-deletions`
 * `{dataSetId}`, then go on as usual: a test makes another request while a
 * removal is between its decision and the provider's answer (a real
 * interleaving, not a timer). `GET /__log`: what the provider received
 * (`deletions` since the start, the rest since the last `/__mode`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { CarIndexer } from "@ipld/car";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { create as createPieceHasher } from "fr32-sha2-256-trunc254-padded-binary-tree-multihash";
import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";
import { calibration } from "@filoz/synapse-core/chains";
import { EIP712Types, getStorageDomain } from "@filoz/synapse-core/typed-data";
import { decodeAbiParameters, keccak256, recoverTypedDataAddress, toHex, type Hex } from "viem";
import type { LocalProvider, StorageChain } from "./filecoin-storage-chain";
import { listenLocal } from "./listen-local";

export interface Mode {
  upload?: "ok" | "reject" | "die" | "corrupt";
  ids?: "ok" | "wrong";
}

export interface ProviderLog {
  uploads: Array<{ bytes: number; computed: string | null; claimed: string | null; result: string }>;
  pulls: Array<{ pieceCid: string; sourceUrl: string; result: string }>;
  commits: Array<{
    dataSetId: string; newDataSet: boolean; payer: string; signer: string;
    dataSetMetadata: Record<string, string>; pieces: Array<{ pieceCid: string; pieceId: string; metadata: Record<string, string> }>;
  }>;
  refused: string[];
  pieceGets: string[];
  /**
   * Piece deletions asked for (`DELETE /pdp/data-sets/{id}/pieces/{pieceId}`) and what became of each, since the
   * server started (not reset by `/__mode`: test files running at once tell theirs apart by data set id).
   */
  deletions: Array<{ dataSetId: string; pieceId: string; signer: string | null; result: string }>;
}

export interface PdpProviderServers {
  providers: Array<{ id: string; base: string }>;
  close(): Promise<void>;
}

function pieceCidOf(hasher: ReturnType<typeof createPieceHasher>): CID {
  const multihash = new Uint8Array(hasher.multihashByteLength());
  hasher.digestInto(multihash, 0, true);
  hasher.free();
  // multihash = [varint 0x1011 (2 bytes)][digest length][digest] (FRC-0069)
  return CID.createV1(0x55, createDigest(0x1011, multihash.subarray(3, 3 + multihash[2]!)));
}

async function json(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
  } else if (typeof body === "string") {
    res.writeHead(status, { "content-type": "text/plain", ...headers }).end(body);
  } else {
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  }
}

const entries = (keys: readonly string[], values: readonly string[]) => keys.map((key, i) => ({ key, value: values[i]! }));
const record = (m: Array<{ key: string; value: string }>) => Object.fromEntries(m.map((e) => [e.key, e.value]));

/** Starts `count` providers (ids 1..count; provider 1 endorsed) and registers them on `chain`. */
export async function startPdpProviders(chain: StorageChain, count = 2): Promise<PdpProviderServers> {
  const dir = mkdtempSync(join(tmpdir(), "pdp-provider-"));
  const closers: (() => Promise<void>)[] = [];
  const out: PdpProviderServers["providers"] = [];
  for (let n = 1; n <= count; n++) {
    const provider: LocalProvider = {
      id: BigInt(n),
      serviceProvider: `0x${n.toString(16).padStart(2, "0").repeat(20)}` as Hex,
      name: `local-pdp-${n}`,
      serviceURL: "",
      endorsed: n === 1,
    };
    const server = providerServer(chain, provider, join(dir, String(n)));
    const { base, close } = await listenLocal(server, `pdp-provider-server ${n}`);
    provider.serviceURL = base;
    chain.providers.push(provider);
    closers.push(close);
    out.push({ id: String(n), base: provider.serviceURL });
  }
  return {
    providers: out,
    close: async () => {
      for (const close of closers) await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function providerServer(chain: StorageChain, provider: LocalProvider, dir: string): Server {
  let mode: Mode = {};
  const emptyLog = (): Omit<ProviderLog, "deletions"> => ({ uploads: [], pulls: [], commits: [], refused: [], pieceGets: [] });
  const deletions: ProviderLog["deletions"] = [];
  /** Data set id → deletions still to refuse (`/__refuse-deletions`). */
  const refuseDeletions = new Map<string, number>();
  /** Data set id → its held deletions' release (`/__hold-deletions`). */
  const holds = new Map<string, { released: Promise<void>; release: () => void }>();
  let log = emptyLog();
  const uploads = new Map<string, { path: string; computed?: string; bytes?: number }>();
  /** Piece CID → file holding its bytes. */
  const pieces = new Map<string, string>();
  /** tx hash → what the status routes answer. */
  const created = new Map<string, { dataSetId: bigint; pieceIds: bigint[]; pieceCount: number }>();
  const added = new Map<string, { dataSetId: bigint; pieceIds: bigint[] }>();
  /** Block CID → where it lies in a kept piece (pieces of data sets with `withIPFSIndexing`). */
  const blocks = new Map<string, { file: string; offset: number; length: number }>();

  async function indexPiece(file: string): Promise<void> {
    const indexer = await CarIndexer.fromIterable(createReadStream(file) as unknown as AsyncIterable<Uint8Array>);
    for await (const b of indexer) blocks.set(b.cid.toString(), { file, offset: b.blockOffset, length: b.blockLength });
  }
  let files = 0;
  mkdirSync(dir, { recursive: true });

  /** Streams `source` to a new file while hashing it; the piece CID and size of what arrived. */
  async function receive(source: AsyncIterable<Uint8Array>, res?: ServerResponse): Promise<{ path: string; pieceCid: string; bytes: number }> {
    const path = join(dir, `piece-${++files}`);
    const file = createWriteStream(path);
    const hasher = createPieceHasher();
    let bytes = 0;
    let corrupted = false;
    try {
      for await (const chunk of source) {
        let c = chunk;
        if (mode.upload === "corrupt" && !corrupted && c.length > 0) {
          c = Uint8Array.from(c);
          c[0]! ^= 0xff;
          corrupted = true;
        }
        if (mode.upload === "die" && res) {
          mode = { ...mode, upload: "ok" };
          res.socket?.destroy();
          throw new Error("connection dropped by the provider");
        }
        hasher.write(c);
        bytes += c.length;
        if (!file.write(c)) await once(file, "drain");
      }
    } catch (err) {
      file.destroy();
      throw err;
    }
    file.end();
    await once(file, "finish");
    if (bytes < 65) {
      hasher.free();
      throw new Error(`a piece needs at least 65 bytes, got ${bytes}`);
    }
    return { path, pieceCid: pieceCidOf(hasher).toString(), bytes };
  }

  /** Checks a client's EIP-712 signature as FWSS does: the signer must be a session key the payer authorised. */
  async function signer(primaryType: "CreateDataSet" | "AddPieces" | "SchedulePieceRemovals", message: Record<string, unknown>, signature: Hex): Promise<Hex> {
    return recoverTypedDataAddress({ domain: getStorageDomain({ chain: calibration }), types: EIP712Types, primaryType, message, signature } as never);
  }

  async function commit(res: ServerResponse, body: { extraData: Hex; pieces: Array<{ pieceCid: string }> }, dataSetId: bigint | null): Promise<void> {
    const pieceCids = body.pieces.map((p) => p.pieceCid);
    const missing = pieceCids.filter((p) => !pieces.has(p));
    if (missing.length > 0) {
      log.refused.push(`add: pieces not held ${missing.join(",")}`);
      return send(res, 400, `pieces not found on this provider: ${missing.join(", ")}`);
    }
    let createPart: Hex | null = null;
    let addPart = body.extraData;
    if (dataSetId === null) [createPart, addPart] = decodeAbiParameters([{ type: "bytes" }, { type: "bytes" }], body.extraData) as [Hex, Hex];
    let payer: Hex;
    let clientDataSetId: bigint;
    let dataSetMetadata: Array<{ key: string; value: string }> = [];
    let createSigner: Hex | null = null;
    if (createPart) {
      const [p, id, keys, values, sig] = decodeAbiParameters(
        [{ type: "address" }, { type: "uint256" }, { type: "string[]" }, { type: "string[]" }, { type: "bytes" }], createPart,
      ) as [Hex, bigint, string[], string[], Hex];
      payer = p;
      clientDataSetId = id;
      dataSetMetadata = entries(keys, values);
      createSigner = await signer("CreateDataSet", { clientDataSetId: id, payee: provider.serviceProvider, metadata: dataSetMetadata }, sig);
    } else {
      const set = chain.dataSets.get(dataSetId!);
      if (!set || set.providerId !== provider.id) return send(res, 404, `data set ${dataSetId} not found`);
      payer = set.payer;
      clientDataSetId = set.clientDataSetId;
    }
    const [nonce, keys, values, sig] = decodeAbiParameters(
      [{ type: "uint256" }, { type: "string[][]" }, { type: "string[][]" }, { type: "bytes" }], addPart,
    ) as [bigint, string[][], string[][], Hex];
    const pieceMetadata = pieceCids.map((_, i) => entries(keys[i] ?? [], values[i] ?? []));
    const addSigner = await signer("AddPieces", {
      clientDataSetId, nonce,
      pieceData: pieceCids.map((p) => ({ data: toHex(CID.parse(p).bytes) })),
      pieceMetadata: pieceMetadata.map((metadata, i) => ({ pieceIndex: BigInt(i), metadata })),
    }, sig);
    const now = BigInt(Math.floor(Date.now() / 1000));
    for (const s of [createSigner, addSigner]) {
      if (s !== null && chain.expiryOf(payer, s) <= now) {
        log.refused.push(`signer ${s} not authorised by ${payer}`);
        // What the FWSS contract's revert looks like through Curio.
        return send(res, 500, `transaction reverted: signer ${s} is not authorised by the payer ${payer}`);
      }
    }
    let set = dataSetId === null ? null : chain.dataSets.get(dataSetId)!;
    set ??= chain.createDataSet({ providerId: provider.id, payer, payee: provider.serviceProvider, clientDataSetId, metadata: dataSetMetadata });
    if (set.metadata.some((m) => m.key === "withIPFSIndexing")) for (const p of pieceCids) await indexPiece(pieces.get(p)!);
    const pieceIds = chain.addPieces(set.id, pieceCids.map((p, i) => ({ pieceCid: p, cidBytes: toHex(CID.parse(p).bytes), metadata: pieceMetadata[i]! })));
    log.commits.push({
      dataSetId: set.id.toString(), newDataSet: dataSetId === null, payer, signer: addSigner,
      dataSetMetadata: record(set.metadata), pieces: pieceCids.map((p, i) => ({ pieceCid: p, pieceId: pieceIds[i]!.toString(), metadata: record(pieceMetadata[i]!) })),
    });
    const tx = keccak256(toHex(`${provider.id}/${set.id}/${randomUUID()}`));
    if (dataSetId === null) {
      created.set(tx, { dataSetId: set.id, pieceIds, pieceCount: pieceIds.length });
      return send(res, 201, undefined, { location: `/pdp/data-sets/created/${tx}` });
    }
    added.set(tx, { dataSetId: set.id, pieceIds });
    return send(res, 201, undefined, { location: `/pdp/data-sets/${set.id}/pieces/added/${tx}` });
  }

  /** Curio's piece deletion: the client's signed `SchedulePieceRemovals`, sent on as `schedulePieceDeletions`. */
  async function deletePiece(res: ServerResponse, dataSetId: bigint, pieceId: bigint, body: { extraData: Hex }): Promise<void> {
    const entry: ProviderLog["deletions"][number] = { dataSetId: dataSetId.toString(), pieceId: pieceId.toString(), signer: null, result: "" };
    deletions.push(entry);
    const hold = holds.get(dataSetId.toString());
    if (hold) {
      entry.result = "held";
      await hold.released;
    }
    const refuse = refuseDeletions.get(dataSetId.toString()) ?? 0;
    if (refuse > 0) {
      refuseDeletions.set(dataSetId.toString(), refuse - 1);
      entry.result = "refused";
      return send(res, 503, "the piece deletion could not be sent to the chain, try again later");
    }
    const set = chain.dataSets.get(dataSetId);
    if (!set || set.providerId !== provider.id) {
      entry.result = "not this provider's data set";
      return send(res, 404, `data set ${dataSetId} not found`);
    }
    const [sig] = decodeAbiParameters([{ type: "bytes" }], body.extraData) as [Hex];
    const s = await signer("SchedulePieceRemovals", { clientDataSetId: set.clientDataSetId, pieceIds: [pieceId] }, sig);
    entry.signer = s;
    if (chain.expiryOf(set.payer, s) <= BigInt(Math.floor(Date.now() / 1000))) {
      entry.result = "signer not authorised";
      return send(res, 500, `transaction reverted: signer ${s} is not authorised by the payer ${set.payer}`);
    }
    try {
      chain.scheduleRemovals(dataSetId, [pieceId]);
    } catch (err) {
      entry.result = (err as Error).message;
      return send(res, 500, `transaction reverted: ${(err as Error).message}`);
    }
    entry.result = "scheduled";
    return send(res, 200, { txHash: keccak256(toHex(`${provider.id}/${dataSetId}/delete/${pieceId}/${randomUUID()}`)) });
  }

  const answerIds = (ids: bigint[]) => (mode.ids === "wrong" ? ids.map((i) => i + 100n) : ids).map(Number);

  return createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    try {
      if (req.method === "POST" && path === "/__mode") {
        mode = (await json(req)) as Mode;
        log = emptyLog();
        return send(res, 204);
      }
      if (req.method === "POST" && path === "/__refuse-deletions") {
        const r = (await json(req)) as { dataSetId: string; count: number };
        refuseDeletions.set(r.dataSetId, r.count);
        return send(res, 204);
      }
      if (req.method === "POST" && (path === "/__hold-deletions" || path === "/__release-deletions")) {
        const { dataSetId } = (await json(req)) as { dataSetId: string };
        if (path === "/__hold-deletions" && !holds.has(dataSetId)) {
          let release!: () => void;
          const released = new Promise<void>((r) => (release = r));
          holds.set(dataSetId, { released, release });
        } else if (path === "/__release-deletions") {
          holds.get(dataSetId)?.release();
          holds.delete(dataSetId);
        }
        return send(res, 204);
      }
      if (req.method === "GET" && path === "/__log") return send(res, 200, { ...log, deletions });
      if (req.method === "GET" && path === "/pdp/ping") return send(res, 200);
      if (req.method === "POST" && path === "/pdp/piece/uploads") {
        const uuid = randomUUID();
        uploads.set(uuid, { path: "" });
        return send(res, 201, "Created", { location: `/pdp/piece/uploads/${uuid}` });
      }
      const upload = /^\/pdp\/piece\/uploads\/([0-9a-f-]+)$/.exec(path);
      if (upload) {
        const u = uploads.get(upload[1]!);
        if (!u) return send(res, 404, "upload session not found");
        if (req.method === "PUT") {
          if (mode.upload === "reject") {
            log.uploads.push({ bytes: 0, computed: null, claimed: null, result: "rejected" });
            req.resume();
            return send(res, 503, "upload refused: the provider is out of capacity");
          }
          try {
            const got = await receive(req, res);
            Object.assign(u, { path: got.path, computed: got.pieceCid, bytes: got.bytes });
          } catch (err) {
            log.uploads.push({ bytes: 0, computed: null, claimed: null, result: (err as Error).message });
            if (!res.socket?.destroyed) send(res, 400, (err as Error).message);
            return;
          }
          return send(res, 204);
        }
        if (req.method === "POST") {
          const { pieceCid } = (await json(req)) as { pieceCid: string };
          if (!u.computed) return send(res, 400, "no bytes were uploaded in this session");
          if (pieceCid !== u.computed) {
            log.uploads.push({ bytes: u.bytes!, computed: u.computed, claimed: pieceCid, result: "mismatch" });
            uploads.delete(upload[1]!);
            return send(res, 400, `piece CID mismatch: the client says ${pieceCid}, the bytes received hash to ${u.computed}`);
          }
          log.uploads.push({ bytes: u.bytes!, computed: u.computed, claimed: pieceCid, result: "stored" });
          pieces.set(pieceCid, u.path);
          uploads.delete(upload[1]!);
          return send(res, 200, { pieceCid });
        }
      }
      if (req.method === "GET" && path === "/pdp/piece") {
        const cid = url.searchParams.get("pieceCid") ?? "";
        return pieces.has(cid) ? send(res, 200, { pieceCid: cid }) : send(res, 404, "piece not found");
      }
      if (req.method === "POST" && path === "/pdp/piece/pull") {
        const body = (await json(req)) as { pieces: Array<{ pieceCid: string; sourceUrl: string }> };
        const results: Array<{ pieceCid: string; status: string }> = [];
        for (const p of body.pieces) {
          if (pieces.has(p.pieceCid)) {
            results.push({ pieceCid: p.pieceCid, status: "complete" });
            continue;
          }
          let status = "failed";
          try {
            const r = await fetch(p.sourceUrl);
            if (r.ok && r.body) {
              const got = await receive(r.body as unknown as AsyncIterable<Uint8Array>);
              if (got.pieceCid === p.pieceCid) {
                pieces.set(p.pieceCid, got.path);
                status = "complete";
              }
            }
          } catch {
            status = "failed";
          }
          log.pulls.push({ pieceCid: p.pieceCid, sourceUrl: p.sourceUrl, result: status });
          results.push({ pieceCid: p.pieceCid, status });
        }
        return send(res, 200, { status: results.every((r) => r.status === "complete") ? "complete" : "failed", pieces: results });
      }
      if (req.method === "POST" && path === "/pdp/data-sets/create-and-add") {
        return await commit(res, (await json(req)) as never, null);
      }
      const addTo = /^\/pdp\/data-sets\/(\d+)\/pieces$/.exec(path);
      if (req.method === "POST" && addTo) return await commit(res, (await json(req)) as never, BigInt(addTo[1]!));
      const del = /^\/pdp\/data-sets\/(\d+)\/pieces\/(\d+)$/.exec(path);
      if (req.method === "DELETE" && del) return await deletePiece(res, BigInt(del[1]!), BigInt(del[2]!), (await json(req)) as { extraData: Hex });
      const createdTx = /^\/pdp\/data-sets\/created\/(0x[0-9a-f]+)$/.exec(path);
      if (req.method === "GET" && createdTx) {
        const c = created.get(createdTx[1]!);
        if (!c) return send(res, 404, "unknown transaction");
        return send(res, 200, { createMessageHash: createdTx[1], dataSetCreated: true, service: provider.name, txStatus: "confirmed", ok: true, dataSetId: Number(c.dataSetId) });
      }
      const addedTx = /^\/pdp\/data-sets\/(\d+)\/pieces\/added\/(0x[0-9a-f]+)$/.exec(path);
      if (req.method === "GET" && addedTx) {
        const tx = addedTx[2]!;
        const a = added.get(tx) ?? (created.has(tx) ? created.get(tx)! : undefined);
        if (!a || a.dataSetId.toString() !== addedTx[1]) return send(res, 404, "unknown transaction");
        return send(res, 200, {
          txHash: tx, txStatus: "confirmed", dataSetId: Number(a.dataSetId), pieceCount: a.pieceIds.length,
          addMessageOk: true, piecesAdded: true, confirmedPieceIds: answerIds(a.pieceIds),
        });
      }
      const ipfs = /^\/ipfs\/([a-zA-Z0-9]+)$/.exec(path);
      if (req.method === "GET" && ipfs) {
        const raw = url.searchParams.get("format") === "raw" || (req.headers.accept ?? "").includes("application/vnd.ipld.raw");
        if (!raw) return send(res, 406, "only ?format=raw (application/vnd.ipld.raw) is served here");
        const at = blocks.get(ipfs[1]!);
        if (!at) return send(res, 404, "block not indexed here");
        const fh = await open(at.file, "r");
        const bytes = Buffer.alloc(at.length);
        await fh.read(bytes, 0, at.length, at.offset);
        await fh.close();
        res.writeHead(200, { "content-type": "application/vnd.ipld.raw", "content-length": String(at.length) }).end(bytes);
        return;
      }
      const piece = /^\/piece\/([a-z0-9]+)$/.exec(path);
      if (req.method === "GET" && piece) {
        log.pieceGets.push(piece[1]!);
        const file = pieces.get(piece[1]!);
        if (!file) return send(res, 404, "piece not found");
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(statSync(file).size) });
        createReadStream(file).pipe(res);
        return;
      }
      send(res, 404, "not found");
    } catch (err) {
      if (!res.headersSent) send(res, 500, (err as Error).message);
    }
  });
}
