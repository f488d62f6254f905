import * as raw from "multiformats/codecs/raw";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { BackendSettings } from "../backend-settings";
import {
  BackendError,
  type BackendFactory,
  type BackendTestReport,
  type DagIdentity,
  type DagToStore,
  type ReplicaCheck,
  type ReplicaRef,
  type ReplicationBackend,
  type StoreContext,
  type StoreOutcome,
} from "../replication-backend";
import { authorizationHeader, KuboCommandError, kuboErrorKind, KuboRpc } from "./kubo-rpc";
import { multipartCar } from "./multipart-car";
import { encodeOneBlockCar } from "./one-block-car";

/** One NDJSON line of `dag/import` (Kubo's `CarImportOutput`). */
interface ImportLine {
  Root?: { Cid: { "/": string }; PinErrorMsg: string };
  Stats?: { BlockCount: number; BlockBytesCount: number };
  Message?: string;
  Type?: string;
}

/**
 * A user's own Kubo node over its RPC API: `dag/import` of the CAR (streamed
 * as multipart, pin-roots off), then `pin/add` (recursive, named after the
 * pin) of the root, whose blocks are now local; `pin/ls` checks,
 * `pin/rm` removes, `id` + a tiny import/pin/unpin round trip tests.
 * The node's `API.Authorizations` secret goes in the `Authorization`
 * header only. Settings and secrets: docs/backends.md.
 */
export class KuboBackend implements ReplicationBackend {
  readonly type = "kubo" as const;
  readonly name: string;
  readonly #rpc: KuboRpc;
  readonly #gatewayUrl: string | undefined;

  constructor(name: string, rpc: KuboRpc, gatewayUrl?: string) {
    this.name = name;
    this.#rpc = rpc;
    this.#gatewayUrl = gatewayUrl;
  }

  async store(dag: DagToStore, ctx: StoreContext): Promise<StoreOutcome> {
    const cid = dag.root.toV1().toString();
    const replica: ReplicaRef = { backend: this.name, remoteId: cid, details: { blocks: dag.blocks, bytes: dag.dagSize } };
    // Idempotent: a DAG the node already pins is not sent again.
    if ((await this.#pinType(cid)) === "recursive") return { state: "stored", replica, bytes: dag.carSize };

    const form = multipartCar(dag, ctx.signal);
    const imported = await this.#rpc.call("dag/import", [["pin-roots", "false"], ["stats", "true"], ["allow-big-block", "false"]], {
      body: form.body,
      contentType: form.contentType,
      signal: ctx.signal,
    });
    const stats = await readImport(imported);
    if (stats.BlockCount !== dag.blocks) {
      throw new BackendError("retryable", `Kubo dag/import: the node imported ${stats.BlockCount} of ${dag.blocks} blocks`);
    }
    const pinned = await this.#rpc.json<{ Pins?: string[] }>("pin/add", [["arg", cid], ["recursive", "true"], ["name", dag.name ?? ""]]);
    if (!pinned.Pins?.some((p) => sameCid(p, cid))) throw new BackendError("retryable", "Kubo pin/add: the root is not in the answer");
    return { state: "stored", replica, bytes: dag.carSize };
  }

  async check(replica: ReplicaRef): Promise<ReplicaCheck> {
    const type = await this.#pinType(replica.remoteId);
    if (type === "recursive") return { state: "stored", details: { pin: type } };
    if (type === undefined) return { state: "lost", message: `the node does not pin ${replica.remoteId}` };
    return { state: "lost", message: `the node pins ${replica.remoteId} ${type}ly only` };
  }

  async remove(replica: ReplicaRef): Promise<void> {
    try {
      await this.#rpc.json("pin/rm", [["arg", replica.remoteId], ["recursive", "true"]]);
    } catch (err) {
      // Kubo: "not pinned or pinned indirectly": already absent (idempotent remove).
      if (err instanceof KuboCommandError && /not pinned/.test(err.kuboMessage)) return;
      throw err;
    }
  }

  retrievalUrls(replica: ReplicaRef): string[] {
    return this.#gatewayUrl === undefined ? [] : [`${this.#gatewayUrl}/ipfs/${replica.remoteId}`];
  }

  async test(): Promise<BackendTestReport> {
    const started = Date.now();
    let reachable = false;
    let authorised = false;
    try {
      const id = await this.#rpc.json<{ ID?: string; AgentVersion?: string }>("id", []).catch((err: unknown) => {
        if (err instanceof BackendError && err.kind !== "retryable") reachable = true;
        throw err;
      });
      reachable = authorised = true;
      // A round trip with the calls replication uses: import one raw block, pin it, see it pinned, unpin.
      const bytes = new TextEncoder().encode("ipfs-kit-edge backend test\n");
      const root = CID.createV1(raw.code, await sha256.digest(bytes));
      const car = encodeOneBlockCar(root, bytes);
      const probe: DagToStore = {
        root,
        blocks: 1,
        dagSize: bytes.length,
        carSize: car.length,
        meta: {},
        gatewayUrl: "",
        account: "",
        name: "ipfs-kit-edge backend test",
        car: () => new Blob([car]).stream(),
      };
      await this.remove({ backend: this.name, remoteId: root.toString(), details: {} });
      const stored = await this.store(probe, { deadline: Date.now() + 30_000, checkpoint: async () => {} });
      const check = await this.check(stored.replica);
      await this.remove(stored.replica);
      if (check.state !== "stored") throw new BackendError("retryable", `the test block was not pinned: ${check.state}`);
      return { reachable, authorised, roundTrip: true, latencyMs: Date.now() - started, message: `${id.ID ?? "?"} (${id.AgentVersion ?? "?"})` };
    } catch (err) {
      if (err instanceof BackendError && err.kind === "unauthorized") authorised = false;
      const message = err instanceof Error ? err.message : String(err);
      return { reachable, authorised, roundTrip: false, latencyMs: Date.now() - started, message };
    }
  }

  /** The pin type of `cid` on the node (`recursive`, `direct`, `indirect`), or undefined when it is not pinned. */
  async #pinType(cid: string): Promise<string | undefined> {
    try {
      const listed = await this.#rpc.json<{ Keys?: Record<string, { Type?: string }> }>("pin/ls", [["arg", cid], ["type", "all"]]);
      const entry = Object.entries(listed.Keys ?? {}).find(([key]) => sameCid(key, cid));
      return entry?.[1].Type;
    } catch (err) {
      // Kubo: "path '/ipfs/<cid>' is not pinned".
      if (err instanceof KuboCommandError && /is not pinned/.test(err.kuboMessage)) return undefined;
      throw err;
    }
  }
}

/** Kubo may print a CID in another version or base than we asked with. */
function sameCid(a: string, b: string): boolean {
  try {
    return CID.parse(a).toV1().equals(CID.parse(b).toV1());
  } catch {
    return false;
  }
}

/** Reads `dag/import`'s NDJSON answer: Root lines (only with pin-roots), then Stats; an error line throws. */
async function readImport(response: Response): Promise<{ BlockCount: number; BlockBytesCount: number }> {
  const text = await response.text();
  let stats: ImportLine["Stats"];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: ImportLine;
    try {
      parsed = JSON.parse(line) as ImportLine;
    } catch {
      throw new BackendError("retryable", "Kubo dag/import: an answer line is not JSON");
    }
    if (parsed.Type === "error") {
      const body = { Message: String(parsed.Message), Code: Number((parsed as { Code?: unknown }).Code ?? 0), Type: "error" as const };
      throw new BackendError(kuboErrorKind(body, 500), `Kubo dag/import: ${body.Message.slice(0, 300)}`);
    }
    if (parsed.Root !== undefined && parsed.Root.PinErrorMsg !== "") {
      throw new BackendError("retryable", `Kubo dag/import: pinning ${parsed.Root.Cid["/"]} failed: ${parsed.Root.PinErrorMsg.slice(0, 300)}`);
    }
    if (parsed.Stats !== undefined) stats = parsed.Stats;
  }
  // Kubo ends a failed stream with an X-Stream-Error trailer and no Stats line.
  if (stats === undefined) throw new BackendError("retryable", "Kubo dag/import: no Stats line (the import did not finish)");
  return stats;
}

/**
 * `BACKENDS` entry `{ "type": "kubo", "url": "https://node.example:5001", "gatewayUrl"? }`;
 * secret `BACKEND_<NAME>_AUTH`: the `AuthSecret` of an `API.Authorizations`
 * entry of the node (`bearer:<token>` or `basic:<user>:<password>`).
 */
export const create: BackendFactory = ({ name, settings, secret }) => {
  const read = new BackendSettings(name, settings, secret);
  const gatewayUrl = read.optionalString("gatewayUrl") === undefined ? undefined : read.url("gatewayUrl");
  return new KuboBackend(name, new KuboRpc(read.url("url"), () => authorizationHeader(read.secret("AUTH"))), gatewayUrl);
};
