/**
 * Pinning figures (docs/benchmarks.md, "Pinning"), measured against a
 * running gateway worker (wrangler dev) and the local upstream server:
 *
 * 1. PSA `POST /psa/pins` throughput for CIDs the account already holds;
 * 2. time from a signed webhook to `pinned` for 100 small DAGs that only
 *    the local upstream serves;
 * 3. `GET /psa/pins` latency (p50/p95) with 10,000 pins in one account;
 * 4. upload throughput of a 256 MiB file (`POST /api/v1/upload`, raw bytes,
 *    imported as UnixFS), to set against the pass-through figure.
 */
import { createHmac } from "node:crypto";
import type { TrustlessGatewayServer } from "../test/servers/trustless-gateway-server.ts";
import { mbPerSecond, median, percentile } from "./stats.ts";
import { buildFile, leafBytes, type SyntheticFile } from "./synthetic-dag.ts";
import type { WranglerDev } from "./wrangler-dev.ts";

export interface LatencySummary {
  n: number;
  p50Ms: number;
  p95Ms: number;
}

export interface PinningFigure {
  postHeld: { pins: number; concurrency: number; pinsPerSecond: number; latency: LatencySummary };
  webhookToPinned: { dags: number; dagBytes: number; totalSeconds: number; latency: LatencySummary };
  listLatency: { pins: number; queries: Record<string, LatencySummary> };
  upload: { fileBytes: number; seconds: number; mbPerSecond: number; cid: string; expectedCid: string };
}

const latency = (ms: number[]): LatencySummary => ({ n: ms.length, p50Ms: median(ms), p95Ms: percentile(ms, 95) });

async function json(url: string, init: RequestInit, expected: number): Promise<unknown> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text === "" ? undefined : JSON.parse(text);
}

/** Runs `count` jobs with at most `concurrency` in flight; returns each job's latency in ms. */
async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<number[]> {
  const times: number[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        await job(i);
        times[i] = performance.now() - t0;
      }
    }),
  );
  return times;
}

function identityCid(i: number): string {
  // bafkqa… : CIDv1 raw with an identity multihash of `bench-pin-<i>` (base32 of the CID bytes).
  const data = Buffer.from(`bench-pin-${i}`);
  const bytes = Buffer.concat([Buffer.from([0x01, 0x55, 0x00, data.length]), data]);
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let value = 0;
  let out = "b";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

export async function pinningFigures(gateway: WranglerDev, upstream: TrustlessGatewayServer, adminToken: string, log: (m: string) => void): Promise<PinningFigure> {
  const base = gateway.url;
  const mint = async (name: string) =>
    (await json(`${base}/api/v1/tokens`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" }, body: JSON.stringify({ name }) }, 201)) as { token: string; account: string };
  const auth = (token: string) => ({ Authorization: `Bearer ${token}`, "Content-Type": "application/json" });

  // 1. POST /psa/pins for a root the account already holds.
  log("pinning 1: POST /psa/pins throughput, already-held CID");
  const held = await mint("bench-held");
  const small = buildFile({ size: 100_000, chunkSize: 65_536, seed: 77, keepLeaves: true });
  const smallBytes = Buffer.concat(Array.from({ length: small.leafCount }, (_, i) => leafBytes(77, i, Math.min(65_536, 100_000 - i * 65_536))));
  const up = (await json(`${base}/api/v1/upload`, { method: "POST", headers: { Authorization: `Bearer ${held.token}` }, body: smallBytes }, 201)) as { cid: string };
  const POSTS = 1000;
  const CONCURRENCY = 8;
  const t1 = performance.now();
  const postTimes = await pool(POSTS, CONCURRENCY, async () => {
    const pin = (await json(`${base}/psa/pins`, { method: "POST", headers: auth(held.token), body: JSON.stringify({ cid: up.cid }) }, 202)) as { status: string };
    if (pin.status !== "pinned") throw new Error(`already-held CID answered ${pin.status}`);
  });
  const postSeconds = (performance.now() - t1) / 1000;

  // 2. Webhook → pinned for 100 small DAGs only the upstream has.
  log("pinning 2: webhook → pinned, 100 small DAGs from the local upstream");
  const hook = await mint("bench-webhook");
  const secret = "whsec_" + Buffer.from("bench webhook secret, 32 bytes..").toString("base64");
  await json(`${base}/api/v1/accounts/${hook.account}/webhook-secrets`, { method: "PUT", headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" }, body: JSON.stringify({ secrets: [secret] }) }, 204);
  const DAGS = 100;
  const DAG_BYTES = 64 * 1024;
  const dags: SyntheticFile[] = Array.from({ length: DAGS }, (_, i) => buildFile({ size: DAG_BYTES, chunkSize: 16 * 1024, seed: 5000 + i, keepLeaves: true }));
  for (const dag of dags) upstream.addBlockSource(dag.getter);
  const key = Buffer.from(secret.slice(6), "base64");
  const sentAt = new Map<string, number>();
  const t2 = performance.now();
  await pool(DAGS, 10, async (i) => {
    const body = JSON.stringify({ cid: dags[i]!.root.toString(), name: `dag-${i}` });
    const id = `msg_bench_${i}_${Date.now()}`;
    const ts = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
    sentAt.set(dags[i]!.root.toString(), performance.now());
    await json(`${base}/webhooks/pin?account=${hook.account}`, { method: "POST", headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${sig}` }, body }, 202);
  });
  const pinnedAt = new Map<string, number>();
  const deadline = performance.now() + 300_000;
  while (pinnedAt.size < DAGS) {
    if (performance.now() > deadline) throw new Error(`only ${pinnedAt.size}/${DAGS} webhook pins pinned after 5 minutes`);
    const page = (await json(`${base}/psa/pins?status=pinned,failed&limit=1000`, { headers: auth(hook.token) }, 200)) as { results: { status: string; pin: { cid: string } }[] };
    for (const r of page.results) {
      if (r.status === "failed") throw new Error(`webhook pin of ${r.pin.cid} failed`);
      if (!pinnedAt.has(r.pin.cid)) pinnedAt.set(r.pin.cid, performance.now());
    }
    await new Promise((done) => setTimeout(done, 20));
  }
  const webhookTimes = [...pinnedAt].map(([cid, at]) => at - sentAt.get(cid)!);
  const webhookSeconds = (Math.max(...pinnedAt.values()) - t2) / 1000;

  // 3. GET /psa/pins with 10,000 pins in one account.
  log("pinning 3: GET /psa/pins latency with 10,000 pins in one account (creating them)");
  const many = await mint("bench-10k");
  const PINS = 10_000;
  await pool(PINS, 16, async (i) => {
    await json(`${base}/psa/pins`, { method: "POST", headers: auth(many.token), body: JSON.stringify({ cid: identityCid(i), name: `file-${i}.bin`, meta: { batch: String(i % 10) } }) }, 202);
  });
  // Identity roots complete on their first alarm step: wait until all are pinned.
  for (;;) {
    const r = (await json(`${base}/psa/pins?limit=1`, { headers: auth(many.token) }, 200)) as { count: number };
    if (r.count === PINS) break;
    await new Promise((done) => setTimeout(done, 200));
  }
  const queries: Record<string, string> = {
    "default (10 newest pinned)": "",
    "limit=1000": "?limit=1000",
    "before= (page in the middle)": "", // filled below
    "name ipartial": "?name=FILE-99&match=ipartial",
    "meta": `?meta=${encodeURIComponent(JSON.stringify({ batch: "3" }))}`,
    "cid": `?cid=${identityCid(4242)}`,
  };
  const middle = (await json(`${base}/psa/pins?limit=1000`, { headers: auth(many.token) }, 200)) as { results: { created: string }[] };
  queries["before= (page in the middle)"] = `?before=${encodeURIComponent(middle.results.at(-1)!.created)}`;
  const listLatency: Record<string, LatencySummary> = {};
  for (const [label, q] of Object.entries(queries)) {
    await json(`${base}/psa/pins${q}`, { headers: auth(many.token) }, 200); // warm
    const times = await pool(100, 1, async () => void (await json(`${base}/psa/pins${q}`, { headers: auth(many.token) }, 200)));
    listLatency[label] = latency(times);
  }

  // 4. Upload of a 256 MiB file.
  log("pinning 4: upload of a 256 MiB file (raw bytes → UnixFS, R2)");
  const uploader = await mint("bench-upload");
  const SIZE = 256 * 1024 * 1024;
  const CHUNK = 1024 * 1024;
  const reference = buildFile({ size: SIZE, chunkSize: CHUNK, seed: 9, keepLeaves: false });
  let index = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index * CHUNK >= SIZE) return controller.close();
      controller.enqueue(leafBytes(9, index, Math.min(CHUNK, SIZE - index * CHUNK)));
      index++;
    },
  });
  const t4 = performance.now();
  const uploaded = (await json(`${base}/api/v1/upload`, { method: "POST", headers: { Authorization: `Bearer ${uploader.token}`, "Content-Type": "application/octet-stream" }, body, duplex: "half" } as RequestInit, 201)) as { cid: string };
  const uploadSeconds = (performance.now() - t4) / 1000;
  if (uploaded.cid !== reference.root.toString()) throw new Error(`upload CID ${uploaded.cid} is not the importer's ${reference.root}`);

  return {
    postHeld: { pins: POSTS, concurrency: CONCURRENCY, pinsPerSecond: POSTS / postSeconds, latency: latency(postTimes) },
    webhookToPinned: { dags: DAGS, dagBytes: DAG_BYTES, totalSeconds: webhookSeconds, latency: latency(webhookTimes) },
    listLatency: { pins: PINS, queries: listLatency },
    upload: { fileBytes: SIZE, seconds: uploadSeconds, mbPerSecond: mbPerSecond(SIZE, uploadSeconds * 1000), cid: uploaded.cid, expectedCid: reference.root.toString() },
  };
}

export function formatPinning(f: PinningFigure, passthroughMBps?: number): string {
  const ms = (l: LatencySummary) => `p50 ${l.p50Ms.toFixed(1)} ms, p95 ${l.p95Ms.toFixed(1)} ms (n=${l.n})`;
  const lines = [
    "| pinning figure | result |",
    "|---|---|",
    `| POST /psa/pins, already-held CID (${f.postHeld.pins} requests, ${f.postHeld.concurrency} in flight) | ${f.postHeld.pinsPerSecond.toFixed(0)} pins/s; ${ms(f.postHeld.latency)} |`,
    `| webhook → pinned, ${f.webhookToPinned.dags} DAGs of ${f.webhookToPinned.dagBytes / 1024} KiB from the local upstream | all in ${f.webhookToPinned.totalSeconds.toFixed(2)} s; per pin ${ms(f.webhookToPinned.latency)} |`,
    ...Object.entries(f.listLatency.queries).map(([label, l]) => `| GET /psa/pins with ${f.listLatency.pins} pins: ${label} | ${ms(l)} |`),
    `| upload 256 MiB raw file → UnixFS in R2 | ${f.upload.mbPerSecond.toFixed(1)} MB/s (${f.upload.seconds.toFixed(1)} s)${passthroughMBps === undefined ? "" : `; pass-through GET of a 256 MiB CAR: ${passthroughMBps.toFixed(1)} MB/s, ratio ${(f.upload.mbPerSecond / passthroughMBps).toFixed(2)}`}; CID = importer's: ${f.upload.cid === f.upload.expectedCid ? "yes" : "**no**"} |`,
  ];
  return lines.join("\n") + "\n";
}
