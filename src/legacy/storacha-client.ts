import { CID } from "multiformats/cid";
import { pieceOfShard } from "./storacha-claims";
import type { StorachaConfig } from "./storacha-config";
import { StorachaError, type StorachaFilecoinInfo, type StorachaSpace, type StorachaUpload } from "./storacha-space";

/**
 * `StorachaSpace` through `@storacha/client` 2.1 (docs/storacha.md): an
 * in-memory agent (`StoreMemory`) made of `STORACHA_KEY`, holding the
 * space's delegation `STORACHA_PROOF`, talking UCAN over HTTP to
 * `STORACHA_SERVICE_URL`. The SDK is loaded with `import()` here only, on
 * the Storacha routes and the import job: the gateway never evaluates it.
 *
 * Every request is bounded by `STORACHA_TIMEOUT_MS`: the SDK's own
 * connections (`@storacha/client/service`) take no `fetch` and no signal, so
 * they are built here the same way (ucanto's `connect` over its HTTP
 * channel, CAR codec, the SDK's `X-Client` header) with a `fetch` that
 * carries an `AbortSignal.timeout`; the signal also bounds reading the
 * answer's body. A timeout is `unavailable` (retry later).
 */
export async function openStorachaSpace(config: StorachaConfig): Promise<StorachaSpace> {
  if (config.key === undefined || config.proof === undefined) {
    throw new StorachaError("misconfigured", "STORACHA_KEY and STORACHA_PROOF must be set (wrangler secret put) to read a Storacha space");
  }
  const [{ create }, { StoreMemory }, Signer, Proof, Service, { connect }, { CAR, HTTP }] = await Promise.all([
    import("@storacha/client"),
    import("@storacha/client/stores/memory"),
    import("@storacha/client/principal/ed25519"),
    import("@storacha/client/proof"),
    import("@storacha/client/service"),
    import("@ucanto/client"),
    import("@ucanto/transport"),
  ]);
  let principal;
  try {
    principal = Signer.parse(config.key);
  } catch {
    throw new StorachaError("misconfigured", "STORACHA_KEY is not an Ed25519 agent key (the base64 `Mg…` form `storacha key create` prints)");
  }
  let proof;
  try {
    proof = await Proof.parse(config.proof);
  } catch {
    throw new StorachaError("misconfigured", "STORACHA_PROOF is not a delegation (the base64 CAR `storacha delegation create --base64` prints)");
  }
  // The service's identity (a did:web); invocations are addressed to it.
  const id = { did: () => config.serviceDid } as never;
  const url = new URL(config.serviceUrl);
  const timeoutMs = config.timeoutMs;
  // As Service.uploadServiceConnection({ id, url }) builds it, with the bounded fetch.
  const connection = () =>
    connect({
      id,
      codec: CAR.outbound,
      channel: HTTP.open<Record<string, never>>({ url, method: "POST", headers: Service.defaultHeaders, fetch: (href: string, init: RequestInit) => fetch(href, { ...init, signal: AbortSignal.timeout(timeoutMs) }) }),
    }) as never;
  const client = await create({
    principal,
    store: new StoreMemory(),
    serviceConf: {
      access: connection(),
      upload: connection(),
      filecoin: connection(),
      // Only `authorizeContentServe` uses it, never called here.
      gateway: connection(),
    },
    receiptsEndpoint: new URL("/receipt/", url),
  });
  let space;
  try {
    space = await client.addSpace(proof);
    await client.setCurrentSpace(space.did());
  } catch (err) {
    throw new StorachaError("misconfigured", `STORACHA_PROOF does not delegate a space: ${firstLine(err)}`);
  }
  const did = space.did();
  if (proof.audience.did() !== principal.did()) {
    throw new StorachaError("unauthorized", `STORACHA_PROOF is delegated to ${proof.audience.did()}, not to this agent (${principal.did()}, STORACHA_KEY)`);
  }

  return {
    did,
    async listUploads(cursor, size) {
      let page;
      try {
        page = await client.capability.upload.list({ ...(cursor === undefined ? {} : { cursor }), size });
      } catch (err) {
        throw toStorachaError("upload/list", err, timeoutMs);
      }
      const results: StorachaUpload[] = (page.results as unknown as { root: CID; shards?: CID[]; insertedAt: string; updatedAt: string }[]).map((u) => ({
        root: u.root.toString(),
        shards: (u.shards ?? []).map((s) => s.toString()),
        insertedAt: u.insertedAt,
        updatedAt: u.updatedAt,
      }));
      return page.cursor && results.length === size ? { results, cursor: page.cursor } : { results };
    },
    async pieceOf(shard) {
      return pieceOfShard(config.claimsUrl, CID.parse(shard), timeoutMs);
    },
    async filecoinInfo(piece) {
      let receipt;
      try {
        receipt = await client.capability.filecoin.info(CID.parse(piece) as never);
      } catch (err) {
        throw toStorachaError("filecoin/info", err, timeoutMs);
      }
      const out = receipt.out as { ok?: FilecoinInfoOk; error?: { name?: string; message?: string } };
      if (out.error) throw toStorachaError("filecoin/info", Object.assign(new Error("failed filecoin/info invocation"), { cause: out.error }), timeoutMs);
      const ok = out.ok!;
      const info: StorachaFilecoinInfo = {
        piece: ok.piece.toString(),
        aggregates: ok.aggregates.map((a) => ({ aggregate: a.aggregate.toString() })),
        deals: ok.deals.map((d) => ({ aggregate: d.aggregate.toString(), provider: String(d.provider), dealId: String(d.aux.dataSource.dealID) })),
      };
      return info;
    },
  };
}

type FilecoinInfoOk = {
  piece: CID;
  aggregates: { aggregate: CID }[];
  deals: { aggregate: CID; provider: string; aux: { dataSource: { dealID: bigint | number } } }[];
};

/** Names of UCAN validation failures (ucanto validator) and missing local proofs: the delegation is at fault. */
const AUTH_FAILURES = /Unauthorized|InvalidAudience|Expired|NotValidBefore|InvalidSignature|UnavailableProof|InvalidClaim|DelegationError|Escalation|UnknownCapability|Revoked|no proofs available/i;

/**
 * The SDK throws `Error("failed <ability> invocation", { cause })` when the
 * service answered with an error receipt, and the transport's errors
 * (fetch failures, `HTTPError` with a status, the signal's `TimeoutError`
 * when the service did not answer in time) otherwise.
 */
function toStorachaError(ability: string, err: unknown, timeoutMs: number): StorachaError {
  if (err instanceof StorachaError) return err;
  if ((err as { name?: string } | null)?.name === "TimeoutError") {
    return new StorachaError("unavailable", `Storacha service did not answer ${ability} within ${timeoutMs} ms (STORACHA_TIMEOUT_MS)`);
  }
  const cause = (err as { cause?: { name?: string; message?: string } })?.cause;
  const text = `${cause?.name ?? ""} ${cause?.message ?? ""} ${err instanceof Error ? err.message : ""}`;
  if (AUTH_FAILURES.test(text)) return new StorachaError("unauthorized", `Storacha refused ${ability}: ${firstLine(cause?.message ?? err)}`);
  if (cause?.name && /NotFound/i.test(cause.name)) return new StorachaError("not_found", `Storacha: ${ability}: ${firstLine(cause.message ?? cause.name)}`);
  return new StorachaError("unavailable", `Storacha service unavailable for ${ability}: ${firstLine(cause?.message ?? err)}`);
}

function firstLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.split("\n")[0]!.slice(0, 200);
}
