import type { CID } from "multiformats/cid";
import type { BlockStore } from "../../backends/block-store";
import { HttpError } from "../../http/errors";
import type { VerifiedBlock } from "../blocks/block";
import { decodeNode, isUnixfsFile } from "../dag/decode-node";
import type { ResumePoint } from "../traversal/block-source";
import type { SessionSource } from "../handlers/unixfs-file";
import { readVerified } from "./r2-read";
import { ReadAhead } from "./read-ahead";
import type { WriteThrough } from "./write-through";

/** An upstream block session and the call that ends it (`openSession` returns one). */
export interface UpstreamSession {
  session: SessionSource;
  finish(): void;
}

/** Whether a request, if it completes, has walked the whole DAG under its root (see `wholeDag` in open-tiered-source.ts). */
export type WholeDag = "yes" | "if-unixfs-file" | "no";

export interface TieredOptions {
  /** The R2 block store. */
  store: BlockStore;
  /** The request's root CID (what R2 and IPNI are asked about). */
  root: CID;
  /** `Cache-Control: only-if-cached`: never go upstream; a block not in R2 is a 412. */
  onlyIfCached: boolean;
  /**
   * Opens the upstream session the first time a block is not in R2;
   * `preferred`: bases known to hold the root (`holders`), raced first.
   */
  openUpstream: (preferred: string[]) => UpstreamSession;
  /**
   * The trustless gateways holding a copy of the root (Filecoin providers...,
   * tiers/holder-lookup.ts): started beside the first R2 read, awaited only
   * when the upstream session opens. Absent with only-if-cached.
   */
  holders?: () => Promise<string[]>;
  /**
   * IPNI fallback: called once, when the upstreams said not found for the
   * first block asked. A session over the providers found, or undefined.
   */
  openProviders?: (root: CID) => Promise<UpstreamSession | undefined>;
  /** Hot write-through, when the policy says this request's blocks go to R2. */
  writeThrough?: WriteThrough;
  wholeDag: WholeDag;
  waitUntil: (p: Promise<unknown>) => void;
}

/**
 * The gateway's block source (DESIGN.md request flow, step 3 before step 4):
 * R2 first, then the upstream race, then providers found through IPNI.
 *
 * One R2 look-up decides the request: the first block the traversal asks
 * for (the root, unless the root is an identity CID) is read from R2. If it
 * is there, the DAG is taken to be in R2 (pinning and uploads store every
 * block of a DAG; write-through stores the root last) and every block is
 * read from R2, with read-ahead along UnixFS files; a block missing after
 * all is fetched by itself from upstreams (`?format=raw`). If it is not
 * there, the rest of the request goes straight to the upstream session with
 * no further R2 round trips.
 *
 * Blocks from R2 are re-hashed before use (`readVerified`) and are never
 * reported as upstream outcomes. A corrupt R2 block is logged, fetched from
 * upstreams and written back over the bad copy.
 */
export class TieredBlockSource implements SessionSource {
  readonly #o: TieredOptions;
  #mode: "undecided" | "r2" | "upstream" = "undecided";
  #upstream: UpstreamSession | undefined;
  #providers: UpstreamSession | undefined;
  #askedProviders = false;
  #fromUpstream = 0;
  #failed = false;
  #aborted = false;
  #rootBlock: VerifiedBlock | undefined;
  #bytes = 0;
  #holders: Promise<string[]> | undefined;
  readonly #readAhead: ReadAhead;

  constructor(options: TieredOptions) {
    this.#o = options;
    this.#readAhead = new ReadAhead((cid) => this.#r2(cid));
  }

  /** Where this request's blocks come from so far: `r2` once the first block was found there. */
  get mode(): "undecided" | "r2" | "upstream" {
    return this.#mode;
  }

  /** Verified bytes handed to the traversal so far (metrics: the size of a stream of unknown length). */
  get bytes(): number {
    return this.#bytes;
  }

  async get(cid: CID, rp: ResumePoint): Promise<Uint8Array> {
    try {
      const bytes = await this.#get(cid, rp);
      this.#bytes += bytes.length;
      if (cid.equals(this.#o.root)) this.#rootBlock = { cid, bytes };
      return bytes;
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }

  async #get(cid: CID, rp: ResumePoint): Promise<Uint8Array> {
    if (this.#mode === "upstream") return this.#upstreamGet(cid, rp);
    // Beside the first R2 read, not after it: a miss then waits for one R2 round trip, not two.
    if (this.#mode === "undecided" && !this.#o.onlyIfCached) this.#holders ??= this.#o.holders?.();
    const ahead = this.#mode === "r2" ? this.#readAhead.take(cid) : undefined;
    const read = ahead ? await ahead : await this.#r2(cid);
    this.#readAhead.refill();
    if (read) {
      if (this.#mode === "undecided") this.#mode = "r2";
      this.#readAhead.delivered(cid, read);
      return read;
    }
    if (this.#o.onlyIfCached) {
      throw new HttpError("precondition_failed", `${cid} is not cached here (Cache-Control: only-if-cached)`);
    }
    if (this.#mode === "undecided") {
      this.#mode = "upstream";
      return this.#upstreamGet(cid, rp);
    }
    // In R2 mode the upstream stream must not be opened on the traversal's resume point: it would
    // repeat blocks R2 already gave, which the session cannot tell from a lie. One block by itself.
    return this.#upstreamGet(cid, { kind: "raw", cid });
  }

  /** Drops the upstream stream in use (handlers call this when the walk changes course). */
  abort(): void {
    this.#aborted = true;
    this.#upstream?.session.abort();
    this.#providers?.session.abort();
  }

  /**
   * Ends the request: upstream sessions report their outcomes, and
   * write-through decides whether the root goes to R2 too (only when the
   * whole DAG was walked without an error or an abort).
   */
  finish(): void {
    this.#upstream?.finish();
    this.#providers?.finish();
    this.#o.writeThrough?.finish(this.#completeRoot());
  }

  #completeRoot(): VerifiedBlock | undefined {
    const root = this.#rootBlock;
    if (!root || this.#failed || this.#aborted || this.#mode !== "upstream") return undefined;
    if (this.#o.wholeDag === "yes") return root;
    if (this.#o.wholeDag === "if-unixfs-file" && isUnixfsFile(decodeNode(root.cid, root.bytes))) return root;
    return undefined;
  }

  /** Verified bytes from R2, or undefined when absent or corrupt (then repaired from upstream). */
  async #r2(cid: CID): Promise<Uint8Array | undefined> {
    const read = await readVerified(this.#o.store, cid);
    if (read.kind === "hit") return read.bytes;
    if (read.kind === "corrupt") {
      console.warn(`R2 block ${cid} does not match its hash: serving it from upstream and rewriting it`);
      this.#corrupt.add(cid.toString());
    }
    return undefined;
  }

  readonly #corrupt = new Set<string>();

  async #upstreamGet(cid: CID, rp: ResumePoint): Promise<Uint8Array> {
    if (!this.#providers && !this.#upstream) {
      const preferred = (await this.#holders) ?? [];
      this.#upstream ??= this.#o.openUpstream(preferred);
    }
    const active = this.#providers ?? this.#upstream!;
    let bytes: Uint8Array;
    try {
      bytes = await active.session.get(cid, rp);
    } catch (err) {
      const providers = await this.#providerFallback(err);
      if (!providers) throw err;
      bytes = await providers.session.get(cid, rp);
    }
    this.#fromUpstream++;
    if (this.#corrupt.delete(cid.toString())) {
      this.#o.waitUntil(this.#o.store.put(cid, bytes).catch((e: unknown) => console.warn(`R2 repair of ${cid} failed`, String(e))));
    } else if (!cid.equals(this.#o.root)) {
      this.#o.writeThrough?.add(cid, bytes);
    }
    return bytes;
  }

  /**
   * IPNI (docs/architecture.md "Provider discovery"): when every configured
   * upstream said not found before anything was delivered, ask delegated
   * routing once for providers of the root and race them instead.
   */
  async #providerFallback(err: unknown): Promise<UpstreamSession | undefined> {
    if (this.#askedProviders || this.#fromUpstream > 0 || !this.#o.openProviders) return undefined;
    if (!(err instanceof HttpError) || err.kind !== "not_found") return undefined;
    this.#askedProviders = true;
    this.#upstream?.session.abort();
    this.#providers = await this.#o.openProviders(this.#o.root);
    return this.#providers;
  }
}
