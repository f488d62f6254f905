import { CAR_HEADER_PROBE_BYTES, carHeaderMismatch } from "../car-header-check";
import { BackendSettings } from "../backend-settings";
import {
  BackendError,
  type BackendFactory,
  type BackendTestReport,
  type DagIdentity,
  type DagToStore,
  type Json,
  type ReplicaCheck,
  type ReplicaRef,
  type ReplicationBackend,
  type StoreContext,
  type StoreOutcome,
} from "../replication-backend";
import { streamPrefix } from "../stream-prefix";
import { base64, HubApi } from "./hf-hub-api";
import { uploadLfs } from "./lfs-upload";

/** The Hub's preupload wants the first 512 bytes of a file (huggingface.js `ApiPreuploadRequest.sample`). */
const SAMPLE_BYTES = 512;

/**
 * A Hugging Face dataset repo as a replication target: one CAR per pin at
 * `{pathPrefix}{last two characters of the CID}/{CID}.car` (sharded: the
 * Hub advises against more than 10k files in a folder), uploaded through
 * Git LFS (sha256 computed streaming, `preupload`, LFS batch, the upload to
 * the URL it gives, an NDJSON `commit` whose summary names the CID).
 * `check` compares the file's LFS oid and size (`paths-info`) and reads the
 * CAR header back (`resolve` with `Range`); `remove` is a deleting commit.
 * Settings and secrets: docs/backends.md.
 */
export class HfBackend implements ReplicationBackend {
  readonly type = "hf" as const;
  readonly name: string;
  readonly #hub: HubApi;
  readonly #prefix: string;

  constructor(name: string, hub: HubApi, pathPrefix: string) {
    this.name = name;
    this.#hub = hub;
    this.#prefix = pathPrefix;
  }

  pathOf(dag: DagIdentity): string {
    const cid = dag.root.toV1().toString();
    return `${this.#prefix}${cid.slice(-2)}/${cid}.car`;
  }

  async store(dag: DagToStore, ctx: StoreContext): Promise<StoreOutcome> {
    const cid = dag.root.toV1().toString();
    const path = this.pathOf(dag);
    // The LFS oid is the CAR's sha256: one streaming pass, saved so a retry does not hash again.
    let oid = savedOid(ctx.progress, dag.carSize);
    if (oid === undefined) {
      oid = await sha256Hex(dag.car());
      await ctx.checkpoint({ oid, size: dag.carSize });
    }
    const replica = (commit: string | null): ReplicaRef => ({
      backend: this.name,
      remoteId: path,
      details: { repo: this.#hub.repo, path, oid: oid!, size: dag.carSize, commit },
    });

    // Idempotent: the file already committed with this content is not uploaded or committed again.
    const existing = await this.#hub.pathInfo(path);
    if (existing?.lfs?.oid === oid && existing.lfs.size === dag.carSize) return { state: "stored", replica: replica(null), bytes: dag.carSize };
    if (Date.now() >= ctx.deadline) return { state: "pending", replica: replica(null), retryAfterMs: 0, next: "store" };

    const preupload = await this.#hub.preupload(path, dag.carSize, await streamPrefix(dag.car(), Math.min(SAMPLE_BYTES, dag.carSize)));
    if (preupload.shouldIgnore) throw new BackendError("permanent", `Hub preupload: ${path} is ignored by the repo's .gitignore`);
    // A CAR is binary (its header holds a 0x00 byte), so the Hub answers "lfs"; an "lfsFile" commit is valid either way.
    const { transfer, object } = await this.#hub.lfsBatch(oid, dag.carSize);
    await uploadLfs(transfer, object, dag, ctx.signal);
    const description = [dag.name ? `name: ${dag.name}` : "", `blocks: ${dag.blocks}`, `dag size: ${dag.dagSize}`, `car size: ${dag.carSize}`]
      .filter(Boolean)
      .join("\n");
    const commit = await this.#hub.commit(`Pin ${cid}`, description, [{ key: "lfsFile", value: { path, algo: "sha256", oid, size: dag.carSize } }]);
    return { state: "stored", replica: replica(commit.commitOid), bytes: dag.carSize };
  }

  async check(replica: ReplicaRef, dag: DagIdentity): Promise<ReplicaCheck> {
    const info = await this.#hub.pathInfo(replica.remoteId);
    if (info === undefined) return { state: "lost", message: `${replica.remoteId} is not in the repo` };
    const wantOid = replica.details["oid"];
    if (info.lfs === undefined) return { state: "lost", message: `${replica.remoteId} is not an LFS file` };
    if (typeof wantOid === "string" && info.lfs.oid !== wantOid) return { state: "lost", message: `${replica.remoteId} has another LFS oid` };
    if (info.lfs.size !== dag.carSize) return { state: "lost", message: `${replica.remoteId} has ${info.lfs.size} bytes, the CAR ${dag.carSize}` };
    const prefix = await this.#hub.readPrefix(replica.remoteId, Math.min(CAR_HEADER_PROBE_BYTES, dag.carSize));
    if (prefix === undefined) return { state: "lost", message: `${replica.remoteId} cannot be downloaded` };
    const wrongHeader = carHeaderMismatch(prefix, dag.root);
    if (wrongHeader !== undefined) return { state: "lost", message: wrongHeader };
    return { state: "stored", details: { oid: info.lfs.oid, size: info.lfs.size } };
  }

  async remove(replica: ReplicaRef): Promise<void> {
    // Idempotent: a file already gone needs no commit (the Hub refuses to delete a missing path).
    if ((await this.#hub.pathInfo(replica.remoteId)) === undefined) return;
    const cid = /([^/]+)\.car$/.exec(replica.remoteId)?.[1] ?? replica.remoteId;
    await this.#hub.commit(`Unpin ${cid}`, "", [{ key: "deletedFile", value: { path: replica.remoteId } }]);
  }

  retrievalUrls(replica: ReplicaRef): string[] {
    return [this.#hub.resolveUrl(replica.remoteId)];
  }

  /** A tiny regular file committed, read back through `resolve`, and deleted by a second commit (two commits in the repo's history). */
  async test(): Promise<BackendTestReport> {
    const started = Date.now();
    const path = `${this.#prefix}.ipfs-kit-edge-test`;
    const content = new TextEncoder().encode(`ipfs-kit-edge backend test ${new Date(started).toISOString()}\n`);
    let reachable = false;
    let authorised = false;
    try {
      await this.#hub.commit("ipfs-kit-edge backend test", "", [{ key: "file", value: { path, content: base64(content), encoding: "base64" } }]).catch((err: unknown) => {
        if (err instanceof BackendError && err.kind !== "retryable") reachable = true;
        throw err;
      });
      reachable = authorised = true;
      const back = await this.#hub.readPrefix(path, content.length + 1);
      await this.#hub.commit("ipfs-kit-edge backend test (cleanup)", "", [{ key: "deletedFile", value: { path } }]);
      if (back === undefined || base64(back) !== base64(content)) throw new BackendError("retryable", "the test file read back differs");
      return { reachable, authorised, roundTrip: true, latencyMs: Date.now() - started };
    } catch (err) {
      if (err instanceof BackendError && err.kind === "unauthorized") authorised = false;
      const message = err instanceof Error ? err.message : String(err);
      return { reachable, authorised, roundTrip: false, latencyMs: Date.now() - started, message };
    }
  }
}

function savedOid(progress: Json | undefined, size: number): string | undefined {
  if (progress === null || typeof progress !== "object" || Array.isArray(progress)) return undefined;
  return typeof progress.oid === "string" && /^[0-9a-f]{64}$/.test(progress.oid) && progress.size === size ? progress.oid : undefined;
}

async function sha256Hex(stream: ReadableStream<Uint8Array>): Promise<string> {
  const digest = new crypto.DigestStream("SHA-256");
  await stream.pipeTo(digest);
  return [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `BACKENDS` entry `{ "type": "hf", "repo": "user/dataset", "revision"?: "main",
 * "pathPrefix"?: "ipfs/", "hubUrl"?: "https://huggingface.co" }`; secret
 * `BACKEND_<NAME>_TOKEN`: a fine-grained token with write access to that one repo.
 */
export const create: BackendFactory = ({ name, settings, secret }) => {
  const read = new BackendSettings(name, settings, secret);
  const repo = read.string("repo");
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(repo)) throw new BackendError("permanent", `backend ${name}: setting "repo" must be "owner/dataset"`);
  const hub = new HubApi(
    { hubUrl: read.url("hubUrl", "https://huggingface.co"), repo, revision: read.string("revision", "main") },
    () => read.secret("TOKEN"),
  );
  return new HfBackend(name, hub, read.string("pathPrefix", "ipfs/"));
};
