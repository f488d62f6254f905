/**
 * The PSA `info` line of a replica stored on a `filecoin` backend: each
 * provider's copy as FilecoinBackend.store() recorded it in the replica's
 * details (`copies[]`: provider, data set, piece ids, piece CIDs,
 * retrieval URLs). PSA `info` is a string map (IPFS Pinning Service API,
 * `PinStatus.info`), so the copies are one line:
 * `provider 1: data set 9001, piece 0 bafk… http://…/piece/bafk…; provider 2: …`.
 * Undefined when the details do not have that shape (other backends).
 */
export function filecoinCopiesInfo(details: unknown): string | undefined {
  const copies = (details as { copies?: unknown } | null)?.copies;
  if (!Array.isArray(copies) || copies.length === 0) return undefined;
  const lines: string[] = [];
  for (const c of copies as Array<Record<string, unknown>>) {
    const { providerId, dataSetId, pieceIds, pieceCids, retrievalUrls } = c;
    if (typeof providerId !== "string" || typeof dataSetId !== "string" || !Array.isArray(pieceIds) || !Array.isArray(pieceCids)) return undefined;
    const pieces = pieceIds.map((id, i) => `piece ${String(id)} ${String(pieceCids[i])}${Array.isArray(retrievalUrls) && retrievalUrls[i] ? ` ${String(retrievalUrls[i])}` : ""}`);
    lines.push(`provider ${providerId}: data set ${dataSetId}, ${pieces.join(", ")}`);
  }
  return lines.join("; ");
}
