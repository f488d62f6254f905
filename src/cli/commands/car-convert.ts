import { open } from "node:fs/promises";
import { convertToV1, convertToV2 } from "../../car/convert-car";
import { describeFsError } from "../../car/file-stream";
import { CarSectionError } from "../../car/car-sections";
import { withCarFile } from "../car-input";
import { CliFailure, UsageError } from "../cli-error";
import type { Command } from "../command";

export const carConvert: Command = {
  name: "car convert",
  summary: "rewrite a CAR as CARv2 with an index, or back to CARv1",
  usage: "<car|->",
  minArgs: 1,
  maxArgs: 1,
  options: {
    to: { type: "string", value: "v1|v2", description: "target version (required)" },
    output: { type: "string", short: "o", value: "out.car", description: "output file (required)" },
  },
  details: "v2: the CARv1 payload as is, then a MultihashIndexSorted (0x0401) index, as go-car writes it. v1: the payload of a CARv2. --json: {output, version, dataSize, indexEntries, bytes}.",
  examples: ["ipfs-kit car convert site.car --to v2 -o site.v2.car", "ipfs-kit car convert site.v2.car --to v1 -o site.car"],
  async run({ args, options, out }) {
    const to = options.to as string | undefined;
    if (to !== "v1" && to !== "v2") throw new UsageError("--to must be v1 or v2");
    const output = options.output as string | undefined;
    if (!output) throw new UsageError("-o <out.car> is required");
    return withCarFile(args[0]!, async (car) => {
      const handle = await open(output, "w").catch((err: unknown) => {
        throw new CliFailure(`cannot write ${output}: ${describeFsError(err)}`);
      });
      try {
        const progress = out.progress("converting");
        const done = to === "v2" ? await convertToV2(car, handle, (n) => progress.add(n)) : { indexEntries: 0, ...(await convertToV1(car, handle, (n) => progress.add(n))) };
        progress.end();
        out.result({ output, version: to === "v2" ? 2 : 1, ...done });
        out.info(`${output}: CAR${to}, ${done.bytes} bytes`);
        return 0;
      } catch (err) {
        if (err instanceof CarSectionError) throw new CliFailure(`${args[0]}: section ${err.section}: ${err.message}`, "bad-car");
        throw err;
      } finally {
        await handle.close();
      }
    });
  },
};
