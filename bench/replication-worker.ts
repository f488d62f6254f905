/**
 * The replication bench's worker (bench/replication-s3.ts starts it with
 * `wrangler dev`; never deployed). `POST /s3?leaves=&leafSize=&partSize=`
 * replicates a synthetic DAG (bench/replication-dag.ts) with the real S3
 * backend to `S3_ENDPOINT`; `POST /generate?...` only reads the same CAR to
 * its end (the baseline: what producing the bytes costs). Both answer JSON.
 */
import { create } from "../src/backends/s3/s3-backend";
import type { Json } from "../src/backends/replication-backend";
import { syntheticDag } from "./replication-dag";

interface BenchEnv {
  S3_ENDPOINT: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    const leaves = Number(url.searchParams.get("leaves") ?? 16);
    const leafSize = Number(url.searchParams.get("leafSize") ?? 1024 * 1024);
    const dag = await syntheticDag(leaves, leafSize);
    const started = Date.now();
    if (url.pathname === "/generate") {
      let bytes = 0;
      const reader = dag.car().getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
      }
      return Response.json({ carSize: dag.carSize, bytes, ms: Date.now() - started });
    }
    if (url.pathname === "/s3") {
      const secrets: Record<string, string> = { ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID, SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY };
      const backend = await create({
        name: "bench-s3",
        settings: {
          type: "s3",
          endpoint: env.S3_ENDPOINT,
          bucket: env.S3_BUCKET,
          region: "us-east-1",
          prefix: `bench-${Date.now()}/`,
          multipartThresholdBytes: 5 * 1024 * 1024,
          partSizeBytes: Number(url.searchParams.get("partSize") ?? 16 * 1024 * 1024),
        },
        secret: (field) => secrets[field],
        env: env as unknown as Env,
      });
      let checkpoints = 0;
      const outcome = await backend.store(dag, {
        deadline: Date.now() + 3_600_000,
        checkpoint: async (_progress: Json) => void checkpoints++,
      });
      const ms = Date.now() - started;
      const check = await backend.check(outcome.replica, dag);
      return Response.json({ carSize: dag.carSize, outcome, checkpoints, ms, check: check.state });
    }
    return new Response("not found\n", { status: 404 });
  },
};
