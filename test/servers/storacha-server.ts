/**
 * A local Storacha (web3.storage "w3up") service for the legacy-space
 * tests: the maintainers' own in-process test context
 * (`@storacha/upload-api/test/context`: the real upload API with in-memory
 * stores, storage nodes, a content-claims service and the filecoin
 * storefront) served over HTTP on 127.0.0.1, as up.storacha.network serves
 * the real one:
 *
 * - `POST /`: UCAN invocations (ucanto CAR transport), answered by the
 *   upload API's own server (`context.connection.channel`);
 * - `GET /receipt/{task}`: a receipt of the agent store (the client polls
 *   it for `blob/accept` while uploading);
 * - `GET /claims/multihash/{base58btc multihash}`: content claims (a CAR of
 *   claim archives, as claims.web3.storage answers) from the context's
 *   claims service; the storefront's `assert/equals` claims map a shard to
 *   its piece.
 *
 * Setup (as a legacy user did): a space provisioned for an account, a few
 * UnixFS DAGs uploaded as CAR shards through `@storacha/client` (blob/add,
 * index/add, filecoin/offer, upload/add), the storefront's equivalency
 * claims published (`handlePieceInsertToEquivalencyClaim`), and each piece
 * given an aggregate (a real data-segment aggregate of the space's pieces,
 * with inclusion proofs) by a `filecoin/accept` receipt, the step the
 * aggregator/dealer pipeline ends with; `filecoin/info` then answers the
 * aggregate and the deal of the context's deal tracker (its mock answers
 * deal 111 at provider f11111 for every aggregate). Each DAG's blocks are
 * also added to the local trustless gateway, where a migration fetches them.
 *
 * Control: `POST /__down[?ability=<can>]` (every request, or only UCAN
 * invocations of that ability, answered 503 until `POST /__up`),
 * `POST /__hang[?ability=<can> | ?path=<prefix>]` (hostile: every request,
 * or only UCAN invocations of that ability, or only requests under that
 * path, is read and then never answered, its connection held open, until
 * `POST /__up` closes them),
 * `GET /__log` (abilities invoked, in order, hung ones too), `POST /__reset`.
 */
import * as http from "node:http";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { CarWriter } from "@ipld/car";
import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { CID } from "multiformats/cid";
import { base58btc } from "multiformats/bases/base58";
import { base64 } from "multiformats/bases/base64";
import * as Digest from "multiformats/hashes/digest";
import { identity } from "multiformats/hashes/identity";
import { listenLocal } from "./listen-local";
import { pseudoRandomBytes } from "../helpers/pseudo-random";

/** What the setup uploaded: the test's expectations. */
export interface StorachaFixture {
  space: string;
  /** Agent key of the worker (STORACHA_KEY) and its delegation (STORACHA_PROOF): upload/list + filecoin/info on the space. */
  key: string;
  proof: string;
  /** The same capabilities, signed by another key than the space's (forged). */
  forgedProof: string;
  /** A delegation to another agent (not the worker's key). */
  otherAudienceProof: string;
  serviceDid: string;
  uploads: { root: string; shards: string[]; pieces: string[]; size: number; seed: number }[];
  /** The deal the test context's deal tracker reports for every aggregate. */
  deal: { dealId: string; provider: string };
}

export interface StorachaServer {
  base: string;
  fixture: StorachaFixture;
  close(): Promise<void>;
}

/** Files uploaded by the legacy user: sizes and seeds (the test regenerates the bytes). */
const FILES = [
  { size: 1_000, seed: 501 },
  { size: 700_000, seed: 502 },
  { size: 300_000, seed: 503 },
];
const CHUNK = 262_144;

export async function startStorachaServer(gateway: { addBlock(cid: CID, bytes: Uint8Array): void }): Promise<StorachaServer> {
  const Context = await import("@storacha/upload-api/test/context");
  const Utils = await import("@storacha/upload-api/test/utils");
  const { create } = await import("@storacha/client");
  const { StoreMemory } = await import("@storacha/client/stores/memory");
  const ed25519 = await import("@ucanto/principal/ed25519");
  const { delegate, Receipt, Message, Delegation } = await import("@ucanto/core");
  const CAR = await import("@ucanto/transport/car");
  const StorefrontEvents = await import("@storacha/filecoin-api/storefront/events");
  const StorefrontCaps = await import("@storacha/capabilities/filecoin/storefront");
  const { Aggregate, Piece } = await import("@web3-storage/data-segment");

  const context = await Context.createContext({ http, requirePaymentPlan: false } as Parameters<typeof Context.createContext>[0]);
  const log: string[] = [];
  let down = false;
  /** `/__down?ability=`: the one ability whose invocations are answered 503 (null: none). */
  let downAbility: string | null = null;
  /** `/__hang`: null = answer; "*" = hang every request; "/…" = requests under that path; else the one ability whose invocations hang. */
  let hang: string | null = null;
  const held = new Set<ServerResponse>();
  const hold = (res: ServerResponse) => {
    held.add(res);
    res.on("close", () => held.delete(res));
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const method = req.method ?? "GET";
      if (url.pathname === "/__down" && method === "POST") {
        const ability = url.searchParams.get("ability");
        if (ability === null) down = true;
        else downAbility = ability;
        return void res.writeHead(204).end();
      }
      if (url.pathname === "/__up" && method === "POST") {
        down = false;
        downAbility = null;
        hang = null;
        for (const r of held) r.destroy();
        return void res.writeHead(204).end();
      }
      if (url.pathname === "/__hang" && method === "POST") return void ((hang = url.searchParams.get("ability") ?? url.searchParams.get("path") ?? "*"), res.writeHead(204).end());
      if (url.pathname === "/__log" && method === "GET") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(log));
      if (url.pathname === "/__reset" && method === "POST") return void ((log.length = 0), res.writeHead(204).end());
      if (down) return void res.writeHead(503, { "content-type": "text/plain" }).end("service unavailable\n");
      if ((hang === "*" || (hang?.startsWith("/") && url.pathname.startsWith(hang))) && !(url.pathname === "/" && method === "POST")) return void (await readBody(req), hold(res));
      if (url.pathname === "/" && method === "POST") {
        const body = await readBody(req);
        const channel = (context.connection as unknown as { channel: { request(r: { headers: Record<string, string>; body: Uint8Array }): Promise<{ status?: number; headers: Record<string, string>; body: Uint8Array }> } }).channel;
        const abilities: string[] = [];
        try {
          const message = await CAR.request.decode({ headers: req.headers as Record<string, string>, body });
          for (const inv of message.invocations) abilities.push(...inv.capabilities.map((c: { can: string }) => c.can));
        } catch {
          // Not a valid message: the server's own answer says so.
        }
        log.push(...abilities);
        if (hang === "*" || (hang !== null && abilities.includes(hang))) return void hold(res);
        if (downAbility !== null && abilities.includes(downAbility)) return void res.writeHead(503, { "content-type": "text/plain" }).end("service unavailable\n");
        const answer = await channel.request({ headers: req.headers as Record<string, string>, body });
        res.writeHead(answer.status ?? 200, answer.headers);
        return void res.end(answer.body);
      }
      const receipt = /^\/receipt\/([^/]+)$/.exec(url.pathname);
      if (receipt && method === "GET") {
        const found = await context.agentStore.receipts.get(CID.parse(receipt[1]!));
        if (found.error) return void res.writeHead(404).end();
        const message = await Message.build({ receipts: [found.ok] });
        const encoded = CAR.request.encode(message);
        return void res.writeHead(200, encoded.headers).end(encoded.body);
      }
      const claims = /^\/claims\/multihash\/([^/]+)$/.exec(url.pathname);
      if (claims && method === "GET") {
        const digest = Digest.decode(base58btc.decode(claims[1]!));
        const read = await context.claimsService.read(digest);
        const blocks: { cid: CID; bytes: Uint8Array }[] = [];
        for (const claim of read.ok ?? []) {
          const archive = await claim.delegation().archive();
          if (archive.ok) blocks.push({ cid: CID.createV1(0x0202, identity.digest(archive.ok)), bytes: archive.ok });
        }
        return void res.writeHead(200, { "content-type": "application/vnd.ipld.car" }).end(await carOf(blocks));
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" }).end(`storacha-server: ${(err as Error).message}\n`);
    }
  });
  const { base, close } = await listenLocal(server, "storacha-server");

  // ---- the legacy user's space and uploads --------------------------------
  const uploader = await ed25519.generate();
  const { space, delegation } = await Utils.createSpace(uploader, context.service, context.connection as never, "legacy@example.com");
  const client = await create({
    principal: uploader,
    store: new StoreMemory(),
    serviceConf: { access: context.connection, upload: context.connection, filecoin: context.connection, gateway: context.connection },
    receiptsEndpoint: new URL(`${base}/receipt/`),
  } as never);
  await client.addSpace(delegation);
  await client.setCurrentSpace(space.did());

  const uploads: StorachaFixture["uploads"] = [];
  for (const file of FILES) {
    const blocks: { cid: CID; bytes: Uint8Array }[] = [];
    let root: CID | undefined;
    const store = { put: async (cid: CID, bytes: Uint8Array) => (blocks.push({ cid, bytes }), cid) };
    for await (const entry of importer([{ content: pseudoRandomBytes(file.size, file.seed) }], store as never, { chunker: fixedSize({ chunkSize: CHUNK }), rawLeaves: true, cidVersion: 1 })) root = entry.cid;
    for (const b of blocks) gateway.addBlock(b.cid, b.bytes);
    const shards: string[] = [];
    const pieces: string[] = [];
    // One shard per upload under 1 MB; the second file in two shards (shardSize) so a root can have several.
    await client.uploadCAR(new Blob([(await carOf(blocks, root!)) as unknown as ArrayBuffer]), {
      shardSize: file.size > 500_000 ? 400_000 : undefined,
      onShardStored: (meta: { cid: CID; piece?: CID }) => {
        shards.push(meta.cid.toString());
        if (meta.piece) pieces.push(meta.piece.toString());
      },
    } as never);
    uploads.push({ root: root!.toString(), shards, pieces, size: file.size, seed: file.seed });
  }

  // ---- the storefront's pipeline: equivalency claims, aggregate, accept receipt ----
  // The filecoin/offer messages the service queued: stored as the submit queue's consumer
  // (handleFilecoinSubmitMessage) stores them once it has checked the piece against the shard.
  for (const message of (context.filecoinSubmitQueue as unknown as { items: Set<{ piece: CID; content: CID; group: string }> }).items) {
    const now = new Date().toISOString();
    const put = await context.pieceStore.put({ piece: message.piece, content: message.content, group: message.group, status: "submitted", insertedAt: now, updatedAt: now } as never);
    if (put.error) throw new Error(`storacha-server: piece store: ${put.error.message}`);
  }
  const records: { piece: CID; content: CID }[] = [];
  for (const upload of uploads) {
    for (const [i, piece] of upload.pieces.entries()) {
      const got = await context.pieceStore.get({ piece: CID.parse(piece) as never });
      if (got.error) throw new Error(`storacha-server: piece ${piece} not in the storefront: ${got.error.message}`);
      records.push(got.ok as never);
      const claimed = await StorefrontEvents.handlePieceInsertToEquivalencyClaim({ claimsService: context.claimsService } as never, got.ok as never);
      if (claimed.error) throw new Error(`storacha-server: equals claim of ${piece} (shard ${upload.shards[i]}): ${claimed.error.message}`);
    }
  }
  const aggregate = Aggregate.build({ pieces: records.map((r) => Piece.fromLink(r.piece as never)) });
  for (const record of records) {
    const proof = aggregate.resolveProof(record.piece as never);
    if (proof.error) throw new Error(`storacha-server: no inclusion proof: ${proof.error.message}`);
    const task = await StorefrontCaps.filecoinAccept
      .invoke({ issuer: context.id, audience: context.id, with: context.id.did(), nb: { piece: record.piece, content: record.content }, expiration: Infinity } as never)
      .delegate();
    const accept = await Receipt.issue({
      issuer: context.id,
      ran: task,
      result: { ok: { piece: record.piece, aggregate: aggregate.link, inclusion: { subtree: proof.ok[0], index: proof.ok[1] }, aux: { dataType: 0n, dataSource: { dealID: 111n } } } },
    } as never);
    const put = await context.receiptStore.put(accept as never);
    if (put.error) throw new Error(`storacha-server: receipt store: ${put.error.message}`);
  }

  // ---- the worker's agent and its delegations -------------------------------
  const agent = await ed25519.generate();
  const capabilities = [
    { can: "upload/list", with: space.did() },
    { can: "filecoin/info", with: space.did() },
  ] as const;
  const encodeProof = async (d: { archive(): unknown }) => {
    const archive = (await d.archive()) as { ok?: Uint8Array };
    if (!archive.ok) throw new Error("storacha-server: delegation archive");
    return CID.createV1(0x0202, identity.digest(archive.ok)).toString(base64);
  };
  const proof = await encodeProof(await delegate({ issuer: space, audience: agent, capabilities: capabilities as never, expiration: Infinity }));
  // Forged: claims the space as issuer but is signed by another key.
  const impostor = await ed25519.generate();
  const forgedDelegation = await delegate({ issuer: impostor.withDID(space.did() as never) as never, audience: agent, capabilities: capabilities as never, expiration: Infinity });
  const forgedProof = await encodeProof(forgedDelegation);
  const otherAudienceProof = await encodeProof(await delegate({ issuer: space, audience: await ed25519.generate(), capabilities: capabilities as never, expiration: Infinity }));
  void Delegation;
  log.length = 0;

  return {
    base,
    fixture: {
      space: space.did(),
      key: ed25519.format(agent),
      proof,
      forgedProof,
      otherAudienceProof,
      serviceDid: context.id.did(),
      uploads,
      deal: { dealId: "111", provider: "f11111" },
    },
    async close() {
      for (const r of held) r.destroy();
      await close();
      await Context.cleanupContext(context);
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

async function carOf(blocks: { cid: CID; bytes: Uint8Array }[], root?: CID): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create(root ? [root] : []);
  const chunks: Uint8Array[] = [];
  const collected = (async () => {
    for await (const chunk of out) chunks.push(chunk);
  })();
  for (const b of blocks) await writer.put(b);
  await writer.close();
  await collected;
  return new Uint8Array(Buffer.concat(chunks));
}
