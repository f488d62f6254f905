/**
 * The routes of the load figure (bench/figure-load.ts), prepared on a
 * gateway worker: a 256 KiB raw block and a small file already in the edge
 * cache, a small file's CAR (never cached: every request goes upstream), a
 * PSA list of an account with a few pins, the health API.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadRoute } from "./figure-load.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

async function cached(worker: WranglerDev, path: string): Promise<void> {
  const first = await fetch(`${worker.url}${path}`);
  if (first.status !== 200) throw new Error(`${path}: ${first.status}`);
  const size = (await first.arrayBuffer()).byteLength;
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${worker.url}${path}`, { method: "HEAD", headers: { "Cache-Control": "only-if-cached" } });
    await res.arrayBuffer();
    if (res.status === 200) {
      // A hit goes out with its Content-Length on the wire (the Cache API's own stream, src/gateway/cache/edge-cache.ts), whole.
      const hit = await fetch(`${worker.url}${path}`, { headers: { "Cache-Control": "only-if-cached" } });
      const bytes = (await hit.arrayBuffer()).byteLength;
      if (hit.status !== 200 || hit.headers.get("Content-Length") !== String(bytes) || hit.headers.get("Transfer-Encoding") !== null || bytes !== size) {
        throw new Error(`${path}: a hit answered ${hit.status}, Content-Length ${hit.headers.get("Content-Length")}, Transfer-Encoding ${hit.headers.get("Transfer-Encoding")}, ${bytes} bytes`);
      }
      return;
    }
    await sleep(20);
  }
  throw new Error(`${path} never reached the edge cache`);
}

export async function loadRoutes(gateway: WranglerDev, adminToken: string, block: SyntheticFile, small: SyntheticFile): Promise<LoadRoute[]> {
  const rawPath = `/ipfs/${block.root}?format=raw`;
  const filePath = `/ipfs/${small.root}`;
  await cached(gateway, rawPath);
  await cached(gateway, filePath);
  const minted = await fetch(`${gateway.url}/api/v1/tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "load" }),
  });
  if (minted.status !== 201) throw new Error(`minting a token: ${minted.status} ${await minted.text()}`);
  const { token } = (await minted.json()) as { token: string };
  for (let i = 0; i < 10; i++) {
    // An identity CID: pinned at once, nothing fetched.
    const res = await fetch(`${gateway.url}/psa/pins`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ cid: `bafkqaaa`, name: `load-${i}` }) });
    if (res.status !== 202) throw new Error(`POST /psa/pins: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  return [
    { label: "256 KiB raw block, edge-cache hit", url: `${gateway.url}${rawPath}` },
    { label: "200 KiB file (64 KiB blocks), edge-cache hit", url: `${gateway.url}${filePath}` },
    { label: "CAR of the 200 KiB file (upstream 5 ms away, not cached)", url: `${gateway.url}/ipfs/${small.root}?format=car`, headers: { Accept: "application/vnd.ipld.car" } },
    { label: "PSA GET /psa/pins (10 pins)", url: `${gateway.url}/psa/pins`, headers: { Authorization: `Bearer ${token}` } },
    { label: "health API GET /api/v1/health/gateways", url: `${gateway.url}/api/v1/health/gateways` },
  ];
}
