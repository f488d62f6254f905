import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { CarInputError } from "../car/file-stream";
import { openCar, type OpenCar } from "../car/open-car";
import { CliFailure } from "./cli-error";
import { withTempDir } from "./temp-dir";

/**
 * Opens a CAR for a command that reads it once, front to back (`-` is stdin).
 * Input errors become one-line failures.
 */
export async function withCar<T>(path: string, use: (car: OpenCar) => Promise<T>): Promise<T> {
  let car: OpenCar;
  try {
    car = await openCar(path);
  } catch (err) {
    if (err instanceof CarInputError) throw new CliFailure(err.message, "bad-input");
    throw err;
  }
  try {
    return await use(car);
  } finally {
    await car.close();
  }
}

/**
 * Like `withCar`, for commands that need random access (ls, extract, split):
 * stdin is first copied to a temporary file (deleted afterwards).
 */
export async function withCarFile<T>(path: string, use: (car: OpenCar) => Promise<T>): Promise<T> {
  return withCarPath(path, (file) => withCar(file, use));
}

/** A file path for a CAR argument: itself, or stdin copied to a temporary file for `-`. */
export async function withCarPath<T>(path: string, use: (file: string) => Promise<T>): Promise<T> {
  if (path !== "-") return use(path);
  return withTempDir(async (dir) => {
    const file = join(dir, "stdin.car");
    await pipeline(process.stdin, createWriteStream(file));
    return use(file);
  });
}
