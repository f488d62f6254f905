/**
 * The helpers that point the worker at chosen upstream personalities:
 * requests really reach the personalities listed, in workerd.
 */
import { describe, expect, it } from "vitest";
import { putDagCbor, requestLog, uniquePersonality, withUpstreams } from "../helpers/upstream";

describe("withUpstreams", () => {
  it("sends the worker's upstream requests to the listed personality", async () => {
    const honest = uniquePersonality("honest");
    const block = await putDagCbor({ nonce: crypto.randomUUID() });
    const worker = withUpstreams([honest]);
    expect(worker.upstreams).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${honest}$`));
    const response = await worker.fetch(`/ipfs/${block.cid}?format=raw`);
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(block.bytes);
    await worker.settle();
    const log = await requestLog(honest);
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((entry) => entry.url.startsWith(`/${honest}/ipfs/${block.cid}`))).toBe(true);
  });

  it("with only a not-found upstream the worker answers 404 (docs/architecture.md) after asking it", async () => {
    const notFound = uniquePersonality("not-found");
    const block = await putDagCbor({ nonce: crypto.randomUUID() });
    const worker = withUpstreams([notFound]);
    const response = await worker.fetch(`/ipfs/${block.cid}?format=raw`);
    expect(response.status).toBe(404);
    await response.arrayBuffer();
    await worker.settle();
    const log = await requestLog(notFound);
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((entry) => entry.status === 404)).toBe(true);
  });
});
