import type { CID } from "multiformats/cid";
import { HttpError } from "../../http/errors";
import { MAX_BLOCK_BYTES, blockKey } from "../blocks/block";
import { verifyBlock } from "../blocks/verify-block";
import { safeText } from "../request/content-path";
import { ByteReader, IdleTimeout } from "../car/byte-reader";
import { CarSectionReader } from "../car/car-section-reader";
import { resumeKey, type BlockSource, type ResumePoint } from "../traversal/block-source";
import { BlockCache } from "./block-cache";
import type { BufferPool } from "../blocks/buffer-pool";
import { RAW } from "../dag/codecs";
import type { OutcomeResult, OutcomeSink } from "./outcome";
import type { TrustlessGateway } from "./trustless-gateway";
import { TtfbTimeout, UpstreamFault, toFault } from "./upstream-fault";

export interface SessionOptions {
  /** Upstreams, best first. */
  upstreams: TrustlessGateway[];
  hedgeDelayMs: number;
  /** Per-upstream hedge delay from its health (e.g. twice its TTFB average); falls back to hedgeDelayMs. */
  hedgeDelayFor?: (upstream: string) => number | undefined;
  ttfbTimeoutMs: number;
  idleTimeoutMs: number;
  maxConcurrent: number;
  sink?: OutcomeSink;
  /** Aborted when the client goes away: every upstream request stops. */
  signal?: AbortSignal;
  /**
   * Pool for raw leaf blocks (their buffers are reused once the response has
   * copied them: see blocks/buffer-pool.ts). Only for consumers that hold no
   * reference to a block after passing it on.
   */
  pool?: BufferPool;
}

/** One upstream stream in use by the session. */
interface Active {
  gw: TrustlessGateway;
  controller: AbortController;
  /** The CAR being read; undefined when the upstream serves block by block (?format=raw). */
  car?: CarSectionReader;
  rpKey: string;
  startedAt: number;
  ttfbMs?: number;
  bytes: number;
  reported: boolean;
}

/** Statuses that mean "I do not do CARs": fall back to per-block ?format=raw with that upstream. */
const CAR_REFUSED = new Set([400, 406, 415, 501]);
const DUP_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * The verified block source behind every gateway response: it races the
 * upstreams for a CAR of exactly what the traversal needs and hands the
 * traversal each block only after its hash matched the CID the traversal
 * expects next (the boxo `backend_car_traversal` rule).
 *
 * - Hedging: the best upstream starts; the next starts after `hedgeDelayMs`
 *   or as soon as one fails; the first to deliver a verified first block
 *   leads and the others are aborted.
 * - An upstream that sends a block with a wrong hash, an oversized block or
 *   a broken CAR is dropped for this request and reported as
 *   `invalid_block`. One that sends a valid block the traversal does not
 *   expect (old gateways ignore dag-scope and entity-bytes and send the whole
 *   DAG in their own order) deviates from the protocol but does not lie: its
 *   stream is stopped, it is reported as `deviation`, and it stays usable
 *   block by block (`?format=raw`), after the upstreams that follow the
 *   protocol. One that errors, stalls or ends
 *   early is dropped and reported too. The traversal then continues from the
 *   block it was waiting for, with a new race for the narrowest request that
 *   covers the rest (its ResumePoint). Blocks already delivered that a new
 *   stream repeats are skipped.
 * - When nobody can deliver: 404 if every upstream said not found, 504 if
 *   any timed out, 502 otherwise.
 */
export class VerifiedBlockSession implements BlockSource {
  readonly #o: SessionOptions;
  readonly #seen = new Set<string>();
  readonly #cache = new BlockCache(DUP_CACHE_BYTES);
  readonly #excluded = new Set<string>();
  /** Upstreams that deviated from the request (a valid block out of place): asked block by block (?format=raw) from then on. */
  readonly #perBlock = new Set<string>();
  readonly #faults: UpstreamFault[] = [];
  #active: Active | undefined;
  #gets = 0;

  constructor(options: SessionOptions) {
    this.#o = options;
  }

  async get(cid: CID, rp: ResumePoint): Promise<Uint8Array> {
    const key = blockKey(cid.multihash.bytes);
    this.#gets++;
    for (;;) {
      this.#o.signal?.throwIfAborted();
      const a = this.#active;
      if (!a) {
        const cached = this.#seen.has(key) ? this.#cache.get(key) : undefined;
        if (cached) return cached;
        const won = await this.#race(cid, key, rp);
        this.#active = won.active;
        return this.#deliver(won.active, key, won.bytes);
      }
      // Block by block, a block met again need not be asked for again (a CAR stream would repeat it).
      if (!a.car && this.#seen.has(key)) {
        const cached = this.#cache.get(key);
        if (cached) return cached;
      }
      try {
        const bytes = await this.#take(a, cid, key);
        if (bytes) return this.#deliver(a, key, bytes);
        // Clean end of stream. Fine for a narrowed stream the traversal has moved past; a truncation otherwise.
        if (a.rpKey === resumeKey(rp)) throw new UpstreamFault(a.gw.base, "error", `stream ended before block ${cid}`);
        this.#report(a, "ok");
        this.#active = undefined;
      } catch (err) {
        if (err instanceof HttpError) throw err;
        this.#drop(a, toFault(a.gw.base, err, a.controller.signal));
        this.#active = undefined;
      }
    }
  }

  /** Whether an upstream may still be asked: not dropped for this request. */
  #usable(base: string): boolean {
    return !this.#excluded.has(base);
  }

  /**
   * Ends the session once the response is complete: the leading upstream
   * must have nothing left to send (an extra block is a lie, penalised).
   * Safe to call more than once; meant for ctx.waitUntil.
   */
  async close(): Promise<void> {
    const a = this.#active;
    this.#active = undefined;
    if (!a || a.reported) return;
    if (!a.car) return this.#report(a, "ok");
    try {
      const extra = await a.car.peek();
      if (extra) return this.#drop(a, await this.#misplaced(a, a.car, extra.cid, "after the end of the DAG"));
      this.#report(a, "ok");
    } catch (err) {
      this.#drop(a, toFault(a.gw.base, err, a.controller.signal));
    }
  }

  /** Stops everything (client gone, or response failed). */
  abort(): void {
    const a = this.#active;
    this.#active = undefined;
    if (a) this.#report(a, "aborted");
  }

  #deliver(a: Active, key: string, bytes: Uint8Array): Uint8Array {
    this.#seen.add(key);
    // A pooled buffer is reused once written out: it must not be served again from the cache.
    if (!this.#o.pool?.owns(bytes)) this.#cache.put(key, bytes);
    a.bytes += bytes.length;
    return bytes;
  }

  /**
   * The expected block from an upstream's stream; null at a clean end of
   * stream. The whole block must arrive within IDLE_TIMEOUT_MS: the byte-level
   * watchdog alone would let an upstream that trickles a few bytes at a time
   * hold a response forever.
   */
  async #take(a: Active, cid: CID, key: string): Promise<Uint8Array | null> {
    if (!a.car) return this.#rawBlockFrom(a, cid);
    const ms = this.#o.idleTimeoutMs;
    const deadline = setTimeout(() => a.controller.abort(new IdleTimeout(ms)), ms);
    try {
      return await this.#takeFromCar(a, a.car, cid, key);
    } finally {
      clearTimeout(deadline);
    }
  }

  async #takeFromCar(a: Active, car: CarSectionReader, cid: CID, key: string): Promise<Uint8Array | null> {
    let skipped = 0;
    for (;;) {
      const head = await car.peek();
      // The stream ended: a block met again that a dups=n upstream did not repeat is fetched by itself.
      if (!head) return this.#seen.has(key) ? (this.#cache.get(key) ?? (await this.#fetchAlone(cid, key))) : null;
      if (head.key === key) {
        const pool = cid.code === RAW ? this.#o.pool : undefined;
        const data = await car.readData(pool && ((n) => pool.acquire(n)));
        if (pool) pool.adopt(data);
        if (!(await verifyBlock(cid, data))) {
          pool?.release(data);
          throw new UpstreamFault(a.gw.base, "invalid_block", `block ${cid} failed hash verification`);
        }
        return data;
      }
      // A stream opened to resume repeats blocks we already delivered: skip them (bounded by what we delivered).
      if (this.#seen.has(head.key) && skipped++ <= this.#gets + 16) {
        await car.skipData();
        continue;
      }
      // We meet a block again that the upstream did not repeat (it deduplicates): serve it ourselves.
      if (this.#seen.has(key)) return this.#cache.get(key) ?? (await this.#fetchAlone(cid, key));
      throw await this.#misplaced(a, car, head.cid, `where ${cid} was expected`);
    }
  }

  /**
   * A block the traversal did not ask for at this point. Its bytes are read
   * and hashed (at most one block, MAX_BLOCK_BYTES): a block that does not
   * match its own CID is a lie (`invalid_block`); a valid one is a protocol
   * deviation (`deviation`): old gateways (Kubo before 0.22 and others)
   * ignore dag-scope and entity-bytes and send the whole DAG, in their own
   * order. Either way the stream is given up without reading the rest.
   */
  async #misplaced(a: Active, car: CarSectionReader, cid: CID, where: string): Promise<UpstreamFault> {
    const data = await car.readData();
    if (!(await verifyBlock(cid, data))) return new UpstreamFault(a.gw.base, "invalid_block", `block ${cid} ${where} failed hash verification`);
    return new UpstreamFault(a.gw.base, "deviation", `sent block ${cid} ${where} (dag-scope, entity-bytes or DFS order not followed)`);
  }

  /** One block by itself (its own race over ?format=raw), leaving the current stream where it is. */
  async #fetchAlone(cid: CID, key: string): Promise<Uint8Array> {
    const won = await this.#race(cid, key, { kind: "raw", cid });
    this.#report(won.active, "ok", won.bytes.length);
    return won.bytes;
  }

  /** Per-block mode: GET {base}/ipfs/{cid}?format=raw and verify it. */
  async #rawBlockFrom(a: Active, cid: CID): Promise<Uint8Array> {
    const timer = setTimeout(() => a.controller.abort(new TtfbTimeout(this.#o.ttfbTimeoutMs)), this.#o.ttfbTimeoutMs);
    try {
      const res = await a.gw.request({ kind: "raw", cid }, a.controller.signal, cid);
      return await this.#readRawBlock(a, res, cid);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async #readRawBlock(a: Active, res: Response, cid: CID): Promise<Uint8Array> {
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      throw new UpstreamFault(a.gw.base, "not_found", `${cid}: HTTP ${res.status}`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new UpstreamFault(a.gw.base, "error", `${cid}: HTTP ${res.status}`);
    }
    const reader = new ByteReader(res.body, this.#o.idleTimeoutMs, () => a.controller.abort(new IdleTimeout(this.#o.idleTimeoutMs)));
    const length = Number(res.headers.get("Content-Length") ?? NaN);
    const hint = Number.isInteger(length) && length >= 0 && length <= MAX_BLOCK_BYTES ? length + 1 : 64 * 1024;
    if (await reader.fill(MAX_BLOCK_BYTES + 1, hint)) {
      await reader.cancel();
      throw new UpstreamFault(a.gw.base, "invalid_block", `${cid}: block larger than ${MAX_BLOCK_BYTES} bytes`);
    }
    const bytes = reader.take(reader.available);
    if (!(await verifyBlock(cid, bytes))) throw new UpstreamFault(a.gw.base, "invalid_block", `block ${cid} failed hash verification`);
    return bytes;
  }

  /** Hedged race for the first verified block of `rp`. */
  #race(cid: CID, key: string, rp: ResumePoint): Promise<{ active: Active; bytes: Uint8Array }> {
    // No cap on the number of races: each one either delivers a verified block (progress) or
    // excludes an upstream, so a response makes progress or runs out of upstreams.
    // Upstreams that deviated go last: another upstream's CAR beats a request per block.
    const usable = this.#o.upstreams.filter((u) => this.#usable(u.base));
    const candidates = [...usable.filter((u) => !this.#perBlock.has(u.base)), ...usable.filter((u) => this.#perBlock.has(u.base))];
    if (candidates.length === 0) {
      return Promise.reject(this.#exhausted(cid, rp));
    }
    return new Promise((resolve, reject) => {
      const running = new Set<Active>();
      let next = 0;
      let settled = false;
      let hedge: ReturnType<typeof setTimeout> | null = null;
      const onClientAbort = () => finish(() => reject(this.#o.signal?.reason ?? new Error("aborted")));
      const finish = (then: () => void, winnerTtfbMs?: number) => {
        if (settled) return;
        settled = true;
        if (hedge) clearTimeout(hedge);
        this.#o.signal?.removeEventListener("abort", onClientAbort);
        for (const other of running) {
          // A loser that had at least the winner's time is known to be slower: its elapsed time bounds its TTFB.
          const elapsed = Date.now() - other.startedAt;
          if (winnerTtfbMs !== undefined && elapsed >= winnerTtfbMs) other.ttfbMs = elapsed;
          this.#report(other, "aborted");
        }
        running.clear();
        then();
      };
      const startNext = () => {
        if (hedge) clearTimeout(hedge);
        if (settled || next >= candidates.length) return;
        if (running.size >= this.#o.maxConcurrent) return;
        const gw = candidates[next++]!;
        const a: Active = { gw, controller: new AbortController(), rpKey: resumeKey(rp), startedAt: Date.now(), bytes: 0, reported: false };
        running.add(a);
        this.#attempt(a, cid, key, rp).then(
          (bytes) => {
            running.delete(a);
            if (settled) return this.#report(a, "aborted");
            a.ttfbMs = Date.now() - a.startedAt;
            finish(() => resolve({ active: a, bytes }), a.ttfbMs);
          },
          (err: unknown) => {
            running.delete(a);
            // A loser we cancelled when the race was decided: reported "aborted" then, and still usable
            // (dropping it here would leave nobody to resume from if the winner fails later).
            if (settled) return;
            if (err instanceof HttpError) {
              this.#report(a, "aborted");
              return finish(() => reject(err));
            }
            const fault = toFault(gw.base, err, a.controller.signal);
            this.#drop(a, fault);
            // It sent valid blocks, just not the ones asked for: ask it again, block by block.
            if (fault.result === "deviation") candidates.splice(next, 0, gw);
            if (next < candidates.length) startNext();
            else if (running.size === 0) finish(() => reject(this.#exhausted(cid, rp)));
          },
        );
        hedge = setTimeout(startNext, this.#o.hedgeDelayFor?.(gw.base) ?? this.#o.hedgeDelayMs);
      };
      if (this.#o.signal?.aborted) return onClientAbort();
      this.#o.signal?.addEventListener("abort", onClientAbort);
      startNext();
    });
  }

  /** One upstream's try at `rp`: the response, the CAR header, and the first block, verified, within the TTFB timeout. */
  async #attempt(a: Active, cid: CID, key: string, rp: ResumePoint): Promise<Uint8Array> {
    const ms = this.#o.ttfbTimeoutMs;
    const timer = setTimeout(() => a.controller.abort(new TtfbTimeout(ms)), ms);
    try {
      // a.car stays undefined: per-block mode for the rest of the request.
      if (rp.kind === "car" && this.#perBlock.has(a.gw.base)) return await this.#rawBlockFrom(a, cid);
      const res = await a.gw.request(rp, a.controller.signal);
      if (rp.kind === "raw") return await this.#readRawBlock(a, res, cid);
      if (res.status === 404 || res.status === 410) {
        await res.body?.cancel();
        throw new UpstreamFault(a.gw.base, "not_found", `HTTP ${res.status}`);
      }
      if (CAR_REFUSED.has(res.status)) {
        await res.body?.cancel();
        return await this.#rawBlockFrom(a, cid); // a.car stays undefined: per-block mode from now on
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new UpstreamFault(a.gw.base, "error", `HTTP ${res.status}`);
      }
      const idle = this.#o.idleTimeoutMs;
      a.car = new CarSectionReader(new ByteReader(res.body, idle, () => a.controller.abort(new IdleTimeout(idle))));
      await a.car.readHeader();
      const bytes = await this.#take(a, cid, key);
      if (!bytes) throw new UpstreamFault(a.gw.base, "not_found", `CAR without block ${cid}`);
      return bytes;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  #drop(a: Active, fault: UpstreamFault): void {
    if (fault.result === "deviation") {
      // Not a failure: it stays usable, per block (health counts the deviation apart).
      this.#perBlock.add(a.gw.base);
    } else {
      this.#excluded.add(a.gw.base);
      this.#faults.push(fault);
    }
    this.#report(a, fault.result);
  }

  #report(a: Active, result: OutcomeResult, extraBytes = 0): void {
    if (a.reported) return;
    a.reported = true;
    if (result !== "ok") a.controller.abort(new Error(result));
    else if (a.car) void a.car.cancel().catch(() => undefined);
    this.#o.sink?.report({
      upstream: a.gw.base,
      result,
      ttfbMs: a.ttfbMs,
      bytes: a.bytes + extraBytes,
      durationMs: Date.now() - a.startedAt,
      at: Date.now(),
    });
  }

  /** The error when no upstream is left for `cid`. */
  #exhausted(cid: CID, rp: ResumePoint): HttpError {
    const faults = this.#faults;
    // Upstreams answer 404 for a whole request: name the path when the request had one.
    const what = rp.kind === "car" && rp.segments.length > 0 && cid.equals(rp.root) ? safeText(`/ipfs/${rp.root}/${rp.segments.join("/")}`) : String(cid);
    const detail = faults.map((f) => `${f.upstream}: ${f.result} (${f.message})`).join("; ");
    if (faults.length > 0 && faults.every((f) => f.result === "not_found")) {
      return new HttpError("not_found", `${what} not found on any upstream`);
    }
    const retry = { "Retry-After": "30" };
    if (faults.some((f) => f.result === "timeout")) {
      return new HttpError("gateway_timeout", `upstreams too slow for ${cid}: ${detail}`, retry);
    }
    if (faults.length === 0) return new HttpError("bad_gateway", `no upstream available for ${cid}`, retry);
    return new HttpError("bad_gateway", `no upstream could deliver ${cid}: ${detail}`, retry);
  }
}
