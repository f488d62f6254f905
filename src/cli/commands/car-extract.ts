import { BlockError } from "../../car/check-block";
import { extractUnixfs } from "../../car/extract";
import { CarInputError } from "../../car/file-stream";
import { withCarFile } from "../car-input";
import { CliFailure } from "../cli-error";
import type { Command } from "../command";
import { parseCid } from "../parse-values";
import { indexOf } from "./car-inspect";

export const carExtract: Command = {
  name: "car extract",
  summary: "write the files of a CAR into a directory, verifying every block",
  usage: "<car|-> <dir>",
  minArgs: 2,
  maxArgs: 2,
  options: { root: { type: "string", value: "cid", description: "extract from this CID (default: the first root)" } },
  details:
    "Every block is hashed before its bytes are written. Entries cannot escape <dir> (names are single path segments, files are created with O_EXCL|O_NOFOLLOW, existing files are never overwritten); symlinks are written as links, never followed. A file root is written as <dir>/<cid>. --json: {root, files, directories, symlinks, bytes, blocks}.",
  examples: ["ipfs-kit car extract site.car ./site", "ipfs-kit car extract - out < photo.car"],
  async run({ args, options, out }) {
    const [carPath, target] = args as [string, string];
    return withCarFile(carPath, async (car) => {
      const index = await indexOf(car);
      const root = options.root ? parseCid(String(options.root)) : car.roots[0];
      if (!root) throw new CliFailure(`${carPath}: the CAR names no root; pass --root`, "bad-car");
      const progress = out.progress("extracting");
      try {
        const done = await extractUnixfs((cid) => index.get(cid), root, target, (n) => progress.add(n), (bytes) => index.release(bytes));
        progress.end();
        out.result({ root: root.toString(), ...done, blocks: index.verified }, undefined);
        out.info(`${root}: ${done.files} file(s), ${done.directories} dir(s), ${done.symlinks} symlink(s), ${done.bytes} bytes written to ${target}`);
        return 0;
      } catch (err) {
        progress.end();
        if (err instanceof BlockError) throw new CliFailure(`${err.message}; extraction stopped, ${target} is incomplete`, `block-${err.problem}`);
        if (err instanceof CarInputError) throw new CliFailure(err.message, "bad-input");
        throw err;
      }
    });
  },
};
