import { bases } from "multiformats/basics";
import { CID } from "multiformats/cid";
import { badRequest } from "../http/errors";

/** Every multibase `multiformats` knows, by prefix, so a CID in base36, base64... parses too. */
const byPrefix = new Map(Object.values(bases).map((base) => [base.prefix as string, base]));

/** A CID from user input (CIDv0 or any multibase CIDv1), or a 400 naming it. */
export function parseUserCid(text: string, field = "cid"): CID {
  if (text.length === 0 || text.length > 512) throw badRequest(`invalid ${field}: must be a CID`);
  try {
    if (text.startsWith("Qm")) return CID.parse(text);
    const base = byPrefix.get(String.fromCodePoint(text.codePointAt(0)!));
    if (base === undefined) throw new Error("unknown multibase");
    return CID.parse(text, base);
  } catch {
    throw badRequest(`invalid ${field} ${JSON.stringify(text.slice(0, 128))}: not a valid CID`);
  }
}
