/**
 * `npm run bench:replication-s3`: replication of one large DAG (1 GiB by
 * default; `REPLICATION_GIB=0.25` for less) to a local S3 service with the
 * real S3 backend, in bounded memory. Starts, on 127.0.0.1: s3rver behind
 * its test front (test/servers/s3-server.ts, SigV4 checked, data in a temp
 * dir) and one `wrangler dev` worker (bench/replication-worker.ts). Measures,
 * in the same run:
 *
 * - baseline: the worker producing the synthetic CAR and reading it to its end (no network);
 * - the S3 multipart upload of that CAR (16 MiB parts), with the workerd
 *   process's peak VmRSS above its idle VmRSS sampled meanwhile;
 *
 * then checks the copy (HEAD + ranged header read) and prints a table; the
 * JSON goes to bench/.work/replication-s3.json. Stops everything it started.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { S3_TEST_ACCESS_KEY_ID, S3_TEST_BUCKET, S3_TEST_SECRET_ACCESS_KEY, startS3Server } from "../test/servers/s3-server.ts";
import { AwsClient } from "aws4fetch";
import { rssBytes, sampleRss } from "./rss-sampler.ts";
import { mbPerSecond, MIB } from "./stats.ts";
import { bundleWorker, startWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));
const log = (m: string) => process.stderr.write(`[bench:replication-s3 ${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);
const LEAF = MIB;
const leaves = Math.round(Number(process.env["REPLICATION_GIB"] ?? 1) * 1024);
const PART = 16 * MIB;

async function post(worker: WranglerDev, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${worker.url}${path}`, { method: "POST" });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Baseline for the upload: the same number of bytes sent by Node itself to the
 * same s3rver as a multipart upload of 16 MiB parts (one buffer reused), so
 * the worker's figure can be read against what the local S3 takes at all.
 */
async function nodeMultipart(base: string, bytes: number): Promise<number> {
  const aws = new AwsClient({ accessKeyId: S3_TEST_ACCESS_KEY_ID, secretAccessKey: S3_TEST_SECRET_ACCESS_KEY, service: "s3", region: "us-east-1", retries: 0 });
  const url = `${base}/${S3_TEST_BUCKET}/baseline-${Date.now()}.bin`;
  const part = new Uint8Array(PART).fill(7);
  const started = performance.now();
  const created = await (await aws.fetch(`${url}?uploads=`, { method: "POST", headers: { "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD" } })).text();
  const uploadId = /<UploadId>([^<]+)</.exec(created)![1]!;
  const etags: string[] = [];
  for (let n = 1, sent = 0; sent < bytes; n++) {
    const body = part.subarray(0, Math.min(PART, bytes - sent));
    const res = await aws.fetch(`${url}?partNumber=${n}&uploadId=${uploadId}`, { method: "PUT", body, headers: { "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD" } });
    etags.push(res.headers.get("ETag")!);
    await res.arrayBuffer();
    sent += body.length;
  }
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
  const done = await aws.fetch(`${url}?uploadId=${uploadId}`, { method: "POST", body: xml, headers: { "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD" } });
  if (!done.ok) throw new Error(`baseline complete: HTTP ${done.status}`);
  await done.arrayBuffer();
  return mbPerSecond(bytes, performance.now() - started);
}

rmSync(`${WORK}state/replication`, { recursive: true, force: true });
mkdirSync(`${WORK}state`, { recursive: true });
const loadStart = loadavg();
const s3 = await startS3Server();
let worker: WranglerDev | undefined;
try {
  const script = await bundleWorker("bench/replication.wrangler.toml", `${WORK}bundle-replication`, `${WORK}bundle-replication.log`);
  worker = await startWranglerDev({
    name: "replication",
    config: "bench/replication.wrangler.toml",
    script,
    vars: { S3_ENDPOINT: s3.base, S3_BUCKET: S3_TEST_BUCKET, S3_ACCESS_KEY_ID: S3_TEST_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: S3_TEST_SECRET_ACCESS_KEY },
    persistTo: `${WORK}state/replication`,
    logFile: `${WORK}replication.log`,
  });
  log(`s3 ${s3.base}; worker ${worker.url}; ${leaves} leaves of 1 MiB`);
  // Warm-up (JIT, first connections), small.
  await post(worker, `/s3?leaves=8&leafSize=${LEAF}&partSize=${5 * MIB}`);

  const generateIdle = rssBytes(worker.workerdPid);
  const generateSampler = sampleRss(worker.workerdPid, 50);
  const generated = await post(worker, `/generate?leaves=${leaves}&leafSize=${LEAF}`);
  const generatePeak = Math.max((await generateSampler.stop()).peakBytes, generateIdle);
  log(`baseline: generating the CAR: VmRSS ${(generateIdle / MIB).toFixed(0)} → ${(generatePeak / MIB).toFixed(0)} MiB`);
  const nodeMBps = await nodeMultipart(s3.base, Number(generated["bytes"]));
  log(`baseline: Node → s3rver ${nodeMBps.toFixed(0)} MB/s`);
  log(`baseline: ${generated["bytes"]} bytes in ${generated["ms"]} ms`);
  const idle = rssBytes(worker.workerdPid);
  const sampler = sampleRss(worker.workerdPid, 50);
  const started = performance.now();
  const replicated = await post(worker, `/s3?leaves=${leaves}&leafSize=${LEAF}&partSize=${PART}`);
  const wallMs = performance.now() - started;
  const samples = await sampler.stop();
  const outcome = replicated["outcome"] as { state: string; replica: { remoteId: string; details: { parts: number } } };
  const carSize = Number(replicated["carSize"]);
  const onDisk = await fetch(`${s3.base}/__metadata/${S3_TEST_BUCKET}/${outcome.replica.remoteId}`);
  const result = {
    date: new Date().toISOString(),
    carBytes: carSize,
    parts: outcome.replica.details.parts,
    checkpoints: replicated["checkpoints"],
    state: outcome.state,
    check: replicated["check"],
    storedMetadata: onDisk.ok ? await onDisk.json() : null,
    baselineGenerateMBps: mbPerSecond(Number(generated["bytes"]), Number(generated["ms"])),
    s3MBps: mbPerSecond(carSize, Number(replicated["ms"])),
    baselineNodeToS3MBps: nodeMBps,
    wallMs,
    idleRssBytes: idle,
    peakRssBytes: Math.max(samples.peakBytes, idle),
    aboveIdleBytes: Math.max(samples.peakBytes, idle) - idle,
    rssSamples: samples.count,
    loadAverage: { start: loadStart, end: loadavg() },
  };
  writeFileSync(`${WORK}replication-s3.json`, `${JSON.stringify(result, null, 2)}\n`);
  const mb = (n: number) => (n / MIB).toFixed(1);
  process.stdout.write(
    [
      `| figure | value |`,
      `|---|---|`,
      `| CAR replicated | ${mb(carSize)} MiB in ${result.parts} parts of ${PART / MIB} MiB (${result.checkpoints} checkpoints), state ${result.state}, check ${result.check} |`,
      `| baseline: produce the CAR in the worker | ${result.baselineGenerateMBps.toFixed(0)} MB/s |`,
      `| baseline: Node itself → the same s3rver, multipart, same bytes | ${nodeMBps.toFixed(0)} MB/s |`,
      `| worker → s3rver with the S3 backend (multipart) | ${result.s3MBps.toFixed(0)} MB/s (${(result.s3MBps / nodeMBps).toFixed(2)} of Node → s3rver) |`,
      `| workerd VmRSS: idle → peak (above idle) | ${mb(idle)} → ${mb(result.peakRssBytes)} MiB (+${mb(result.aboveIdleBytes)} MiB, ${samples.count} samples) |`,
      `| load average (1 min) start → end | ${loadStart[0]!.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} |`,
      "",
    ].join("\n"),
  );
} finally {
  await worker?.stop();
  await s3.close();
}
