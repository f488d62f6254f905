import { verifyCar, type VerifyReport } from "../../car/verify-car";
import type { Command } from "../command";
import { carPath, requestCar } from "../fetch-car";
import type { Progress } from "../output";
import { ServiceClient } from "../service-client";
import { resolveService, serviceOptions } from "../service-config";
import { parseContentPath } from "./get";

/** Fetches the CAR of `path` from `client`'s gateway and verifies it as it streams (nothing written). */
export async function verifyRemote(client: ServiceClient, path: string, progress?: Progress): Promise<{ report: VerifyReport; status: number; ttfbMs: number }> {
  const { car, response, ttfbMs } = await requestCar(client, path);
  try {
    return { report: await verifyCar(car, (n) => progress?.add(n)), status: response.status, ttfbMs };
  } finally {
    await car.close();
  }
}

export const verify: Command = {
  name: "verify",
  summary: "fetch a DAG through the service (or --gateway) and check it block by block",
  usage: "<cid>[/path]",
  minArgs: 1,
  maxArgs: 1,
  options: { gateway: { type: "string", value: "url", description: "ask this trustless gateway instead of the service" }, ...serviceOptions },
  details: "Same checks and output as car verify, on the CAR the gateway returns for dag-scope=all. Exit 1 on any problem. --json: the car verify report plus {source}.",
  examples: ["ipfs-kit verify bafy...", "ipfs-kit verify bafy... --gateway https://trustless-gateway.link --json"],
  async run({ args, options, out }) {
    const { cid, segments } = parseContentPath(args[0]!);
    const service = options.gateway ? { endpoint: String(options.gateway).replace(/\/+$/, ""), endpointSource: "--gateway" } : await resolveService(options, false);
    const client = new ServiceClient(service);
    const progress = out.progress("verifying");
    const { report } = await verifyRemote(client, carPath(cid, segments), progress);
    progress.end();
    out.result({ source: service.endpoint, ...report }, report.problems.map((p) => p.message).join("\n"));
    out.info(report.problems.length === 0 ? `ok: ${report.blocks} blocks, ${report.bytes} bytes from ${service.endpoint}, DAG complete` : `${report.problems.length} problem(s) in ${report.blocks} blocks from ${service.endpoint}`);
    return report.problems.length === 0 ? 0 : 1;
  },
};
