import type { Command } from "../command";
import { carCreate } from "./car-create";
import { carConvert } from "./car-convert";
import { carExtract } from "./car-extract";
import { carBlocks, carLs, carRoots, carVerify } from "./car-inspect";
import { gatewayBench, gatewayTest } from "./gateway";
import { get } from "./get";
import { carMerge, carSplit } from "./car-split";
import { pinAdd, pinLs, pinRm, pinStatus } from "./pin";
import { backendLs, backendTest } from "./replication";
import { migrateBatch, migrateContent } from "./migrate";
import { migrateStoracha } from "./migrate-storacha";
import { verify } from "./verify";

/** Every command, in the order `ipfs-kit --help` lists them. */
export const COMMANDS: Command[] = [carCreate, carExtract, carVerify, carLs, carRoots, carBlocks, carSplit, carMerge, carConvert, pinAdd, pinLs, pinStatus, pinRm, get, verify, gatewayTest, gatewayBench, backendLs, backendTest, migrateContent, migrateBatch, migrateStoracha];
