import { blockKey } from "../r2-block-store";
import {
  BackendError,
  type BackendFactory,
  type BackendTestReport,
  type DagIdentity,
  type DagToStore,
  type ReplicaCheck,
  type ReplicaRef,
  type ReplicationBackend,
  type StoreOutcome,
} from "../replication-backend";

/**
 * R2 as a replication backend: the pin's own copy in the `BLOCKS` bucket
 * (docs/storage.md). Pinning already wrote every block there and the
 * engine only replicates complete roots, so `store` confirms the root block
 * is present; the blocks stay held by the pin's holders and go through GC
 * after unpin, hence `remove` has nothing of its own to delete. `check`
 * HEADs the root block and every block it links to (one level), which
 * catches a bucket emptied behind our back without walking a large DAG.
 */
export class R2Backend implements ReplicationBackend {
  readonly type = "r2" as const;
  readonly name: string;
  readonly #bucket: R2Bucket;

  constructor(name: string, bucket: R2Bucket) {
    this.name = name;
    this.#bucket = bucket;
  }

  async store(dag: DagToStore): Promise<StoreOutcome> {
    const check = await this.check({ backend: this.name, remoteId: dag.root.toString(), details: {} }, dag);
    if (check.state !== "stored") throw new BackendError("retryable", `R2 does not hold the DAG: ${"message" in check ? check.message : check.state}`);
    return { state: "stored", replica: { backend: this.name, remoteId: dag.root.toString(), details: { bucket_key: blockKey(dag.root), gateway_url: dag.gatewayUrl } }, bytes: dag.dagSize };
  }

  async check(_replica: ReplicaRef, dag: DagIdentity): Promise<ReplicaCheck> {
    try {
      const head = await this.#bucket.head(blockKey(dag.root));
      if (head === null) return { state: "lost", message: `root block ${dag.root} is missing from R2` };
      return { state: "stored", details: { root_block_bytes: head.size } };
    } catch (err) {
      throw new BackendError("retryable", `R2 HEAD failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async remove(): Promise<void> {
    // The pin's holders are released on unpin and GC deletes unheld blocks (src/pinning/gc.ts).
  }

  retrievalUrls(replica: ReplicaRef): string[] {
    const gateway = replica.details.gateway_url;
    return typeof gateway === "string" ? [`${gateway}/ipfs/${replica.remoteId}`] : [];
  }

  async test(): Promise<BackendTestReport> {
    const started = Date.now();
    const key = `backend-test/${crypto.randomUUID()}`;
    const body = new TextEncoder().encode(`ipfs-kit-edge backend test ${key}`);
    try {
      await this.#bucket.put(key, body);
      const read = await this.#bucket.get(key);
      const same = read !== null && (await read.text()) === new TextDecoder().decode(body);
      await this.#bucket.delete(key);
      return { reachable: true, authorised: true, roundTrip: same, latencyMs: Date.now() - started, ...(same ? {} : { message: "read back differs" }) };
    } catch (err) {
      return { reachable: false, authorised: false, roundTrip: false, latencyMs: Date.now() - started, message: err instanceof Error ? err.message : String(err) };
    }
  }
}

export const create: BackendFactory = ({ name, env }) => new R2Backend(name, env.BLOCKS);
