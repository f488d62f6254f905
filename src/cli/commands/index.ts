import type { Command } from "../command";
import { carCreate } from "./car-create";
import { carExtract } from "./car-extract";
import { carBlocks, carLs, carRoots, carVerify } from "./car-inspect";

/** Every command, in the order `ipfs-kit --help` lists them. */
export const COMMANDS: Command[] = [carCreate, carExtract, carVerify, carLs, carRoots, carBlocks];
