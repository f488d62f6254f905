import { CID } from "multiformats/cid";
import { UsageError } from "./cli-error";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 };

/** "1048576", "1MiB", "256KiB", "100MB", "4GiB" → bytes. */
export function parseSize(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${option}: "${text}" is not a size (examples: 1048576, 256KiB, 1MiB, 100MB)`);
  const n = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${option}: ${text} is out of range`);
  return n;
}

export function parseInteger(text: string, option: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`${option}: expected a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

export function parseCid(text: string, what = "CID"): CID {
  try {
    return CID.parse(text);
  } catch {
    throw new UsageError(`"${text}" is not a valid ${what}`);
  }
}

/** Whether `text` parses as a CID (for arguments that may be a CID or a path). */
export function looksLikeCid(text: string): boolean {
  try {
    CID.parse(text);
    return true;
  } catch {
    return false;
  }
}
