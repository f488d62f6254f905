import { CarReader } from "@ipld/car";
import { base58btc } from "multiformats/bases/base58";
import type { CID } from "multiformats/cid";
import { StorachaError } from "./storacha-space";

/** Bytes of a claims answer read at most (a shard has a handful of claims, each a few KB). */
const MAX_CLAIMS_BYTES = 1 << 20;

/**
 * The piece CID of a CAR shard: Storacha's storefront publishes an
 * `assert/equals` claim (content = the shard, equals = its piece) to the
 * content-claims service, read at `GET {claims}/claims/multihash/{base58btc
 * multihash}` (a CAR whose blocks are claim archives, as
 * `@web3-storage/content-claims/client` `read` fetches them; the console
 * shows a shard's piece the same way). Claims are not verified here, as
 * the content-claims client does not: the piece only selects which
 * `filecoin/info` the Storacha service, which is authoritative, answers.
 * Null when no claim names a piece.
 */
export async function pieceOfShard(claimsUrl: string, shard: CID, timeoutMs: number): Promise<string | null> {
  const url = new URL(`/claims/multihash/${base58btc.encode(shard.multihash.bytes)}`, claimsUrl);
  // Bounds the answer's headers and body (STORACHA_TIMEOUT_MS).
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (err) {
    throw claimsFailure(err, timeoutMs);
  }
  if (response.status === 404) return (await response.body?.cancel(), null);
  if (!response.ok) {
    await response.body?.cancel();
    throw new StorachaError("unavailable", `content claims answered HTTP ${response.status}`);
  }
  const length = Number(response.headers.get("Content-Length") ?? "0");
  if (length > MAX_CLAIMS_BYTES) throw new StorachaError("unavailable", "content claims answer too large");
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    throw claimsFailure(err, timeoutMs);
  }
  if (bytes.length > MAX_CLAIMS_BYTES) throw new StorachaError("unavailable", "content claims answer too large");
  if (bytes.length === 0) return null;
  const { extract } = await import("@storacha/client/delegation");
  let reader: CarReader;
  try {
    reader = await CarReader.fromBytes(bytes);
  } catch {
    throw new StorachaError("unavailable", "content claims answer is not a CAR");
  }
  for await (const block of reader.blocks()) {
    const claim = await extract(block.bytes);
    if (!claim.ok) continue;
    for (const cap of claim.ok.capabilities as { can: string; nb?: { content?: unknown; equals?: unknown } }[]) {
      if (cap.can !== "assert/equals" || !cap.nb) continue;
      const content = cap.nb.content as { multihash?: { bytes: Uint8Array }; digest?: Uint8Array } | undefined;
      const contentHash = content?.multihash?.bytes ?? content?.digest;
      if (contentHash === undefined || !sameBytes(contentHash, shard.multihash.bytes)) continue;
      const equals = cap.nb.equals as CID | undefined;
      // A piece CID: raw codec, fr32-sha2-256-trunc254-padded-binary-tree multihash (FRC-0069).
      if (equals !== undefined && equals.multihash?.code === 0x1011) return equals.toString();
    }
  }
  return null;
}

function claimsFailure(err: unknown, timeoutMs: number): StorachaError {
  const name = err instanceof Error ? err.name : "fetch failed";
  if (name === "TimeoutError") return new StorachaError("unavailable", `content claims did not answer within ${timeoutMs} ms (STORACHA_TIMEOUT_MS)`);
  return new StorachaError("unavailable", `content claims unreachable: ${name}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
