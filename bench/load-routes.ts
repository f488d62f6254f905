/**
 * The routes of the load figure (bench/figure-load.ts), prepared on a
 * gateway worker: a 256 KiB raw block, a small file and that file's CAR
 * already in the edge cache, a PSA list of an account with a few pins, the
 * health API. A CAR that goes upstream every time cannot be measured with
 * one repeated URL any more (the first request stores it), so its
 * yardstick is the pass-through Worker (bench/passthrough-worker.ts) asking
 * the same upstream, 5 ms away, for the same CAR each time: unverified,
 * the most any CAR miss could reach.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadRoute } from "./figure-load.ts";
import type { SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

async function cached(worker: WranglerDev, path: string, headers: Record<string, string> = {}): Promise<void> {
  const first = await fetch(`${worker.url}${path}`, { headers });
  if (first.status !== 200) throw new Error(`${path}: ${first.status}`);
  const size = (await first.arrayBuffer()).byteLength;
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${worker.url}${path}`, { method: "HEAD", headers: { ...headers, "Cache-Control": "only-if-cached" } });
    await res.arrayBuffer();
    if (res.status === 200) {
      // A hit goes out with its Content-Length on the wire (the Cache API's own stream, src/gateway/cache/edge-cache.ts), whole.
      const hit = await fetch(`${worker.url}${path}`, { headers: { ...headers, "Cache-Control": "only-if-cached" } });
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

/**
 * The load client's own ceiling, figure 8's first row: the same 256 KiB
 * block from the bench's Node upstream directly, no worker
 * (bench/load-client.mjs). It must stay far above every worker row.
 */
export function clientCeilingRoute(upstreamBase: string, block: SyntheticFile): LoadRoute {
  return { label: "load client ceiling: the same 256 KiB raw block from the Node upstream directly, no worker (yardstick)", url: `${upstreamBase}/honest~ceiling/ipfs/${block.root}?format=raw`, yardstick: true };
}

/** `passthrough`: a pass-through Worker whose upstream is the gateway's (5 ms away), for the CAR yardstick row. */
export async function loadRoutes(gateway: WranglerDev, adminToken: string, block: SyntheticFile, small: SyntheticFile, passthrough?: WranglerDev): Promise<LoadRoute[]> {
  const rawPath = `/ipfs/${block.root}?format=raw`;
  const filePath = `/ipfs/${small.root}`;
  const carPath = `/ipfs/${small.root}?format=car`;
  const car = { Accept: "application/vnd.ipld.car" };
  await cached(gateway, rawPath);
  await cached(gateway, filePath);
  await cached(gateway, carPath, car);
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
    { label: "CAR of the 200 KiB file, edge-cache hit (stored by the first request)", url: `${gateway.url}${carPath}`, headers: car },
    ...(passthrough
      ? [{ label: "the same CAR through the pass-through Worker, upstream 5 ms away every time (unverified; yardstick)", url: `${passthrough.url}${carPath}&dag-scope=all`, headers: car, yardstick: true }]
      : []),
    { label: "PSA GET /psa/pins (10 pins)", url: `${gateway.url}/psa/pins`, headers: { Authorization: `Bearer ${token}` } },
    { label: "health API GET /api/v1/health/gateways", url: `${gateway.url}/api/v1/health/gateways` },
  ];
}
