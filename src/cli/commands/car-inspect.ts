import { CarIndex } from "../../car/car-index";
import { BlockError } from "../../car/check-block";
import { CarSectionError, carSections } from "../../car/car-sections";
import { walkUnixfs } from "../../car/unixfs-walk";
import { verifyCar } from "../../car/verify-car";
import { withCar, withCarFile } from "../car-input";
import { CliFailure } from "../cli-error";
import type { Command } from "../command";
import { parseCid } from "../parse-values";

export const carVerify: Command = {
  name: "car verify",
  summary: "check every block's hash and that the DAG is complete from its roots",
  usage: "<car|->",
  minArgs: 1,
  maxArgs: 1,
  options: {},
  details:
    "Hashes: sha2-256, sha2-512, identity (others are reported as unverifiable). Each problem is one line on stdout naming its block and section; exit status 1 if there is any. --json: {roots, blocks, bytes, reachable, complete, problems: [{kind, cid?, section?, message}]}.",
  examples: ["ipfs-kit car verify site.car", "curl -s -H 'Accept: application/vnd.ipld.car' $GW/ipfs/$CID | ipfs-kit car verify -"],
  async run({ args, out }) {
    return withCar(args[0]!, async (car) => {
      const progress = out.progress("verifying", car.handle ? (await car.handle.stat()).size : undefined);
      const report = await verifyCar(car, (n) => progress.add(n));
      progress.end();
      out.result(report, report.problems.map((p) => p.message).join("\n"));
      out.info(
        report.problems.length === 0
          ? `ok: ${report.blocks} blocks, ${report.bytes} bytes, DAG complete from ${report.roots.length} root(s)`
          : `${report.problems.length} problem(s) in ${report.blocks} blocks`,
      );
      return report.problems.length === 0 ? 0 : 1;
    });
  },
};

export const carRoots: Command = {
  name: "car roots",
  summary: "print the root CIDs of a CAR's header",
  usage: "<car|->",
  minArgs: 1,
  maxArgs: 1,
  options: {},
  details: "--json: {roots: [cid]}.",
  examples: ["ipfs-kit car roots site.car"],
  async run({ args, out }) {
    return withCar(args[0]!, async (car) => {
      out.result({ roots: car.roots.map(String) }, car.roots.map(String).join("\n"));
      return 0;
    });
  },
};

export const carBlocks: Command = {
  name: "car blocks",
  summary: "list the blocks of a CAR: CID, size, offset",
  usage: "<car|->",
  minArgs: 1,
  maxArgs: 1,
  options: {},
  details: "One line per block: `<cid>\\t<size>\\t<offset of its data>`. Does not hash (see car verify). --json: {blocks: [{cid, size, offset}]}.",
  examples: ["ipfs-kit car blocks site.car", "ipfs-kit car blocks site.car --json | jq '.blocks | length'"],
  async run({ args, out }) {
    return withCar(args[0]!, async (car) => {
      const blocks: { cid: string; size: number; offset: number }[] = [];
      try {
        for await (const s of carSections(car, { withData: false })) {
          if (out.json) blocks.push({ cid: s.cid.toString(), size: s.dataLength, offset: s.dataOffset });
          else out.line(`${s.cid}\t${s.dataLength}\t${s.dataOffset}`);
        }
      } catch (err) {
        if (err instanceof CarSectionError) throw new CliFailure(`${args[0]}: section ${err.section} (byte ${err.offset}): ${err.message}`, "bad-car");
        throw err;
      }
      out.result({ blocks });
      return 0;
    });
  },
};

export const carLs: Command = {
  name: "car ls",
  summary: "list the UnixFS entries of a CAR: CID, size, path",
  usage: "<car|->",
  minArgs: 1,
  maxArgs: 1,
  options: { root: { type: "string", value: "cid", description: "list from this CID (default: the first root)" } },
  details: "One line per entry: `<cid>\\t<size>\\t<path>` (directories end with /). Blocks are verified as they are read. --json: {root, entries: [{path, cid, type, size}]}.",
  examples: ["ipfs-kit car ls site.car", "ipfs-kit car ls site.car --root bafy... --json"],
  async run({ args, options, out }) {
    return withCarFile(args[0]!, async (car) => {
      const index = await indexOf(car);
      const root = options.root ? parseCid(String(options.root)) : car.roots[0];
      if (!root) throw new CliFailure(`${args[0]}: the CAR names no root; pass --root`, "bad-car");
      const entries: { path: string; cid: string; type: string; size: number }[] = [];
      try {
        for await (const e of walkUnixfs((cid) => index.get(cid), root)) {
          if (out.json) entries.push({ path: e.path, cid: e.cid.toString(), type: e.type, size: e.size });
          else out.line(`${e.cid}\t${e.size}\t${e.path}${e.type === "directory" && e.path !== "" ? "/" : ""}${e.type === "symlink" ? ` -> ${e.target}` : ""}`);
        }
      } catch (err) {
        if (err instanceof BlockError) throw new CliFailure(err.message, `block-${err.problem}`);
        throw err;
      }
      out.result({ root: root.toString(), entries });
      return 0;
    });
  },
};

/** Indexes a CAR, turning a malformed one into a one-line failure. */
export async function indexOf(car: Parameters<typeof CarIndex.build>[0], onBytes?: (offset: number) => void): Promise<CarIndex> {
  try {
    return await CarIndex.build(car, onBytes);
  } catch (err) {
    if (err instanceof CarSectionError) throw new CliFailure(`${car.path}: section ${err.section} (byte ${err.offset}): ${err.message}`, err.truncated ? "truncated-car" : "bad-car");
    throw err;
  }
}
