/**
 * Names of the gateway-conformance fixtures used by the conformance tests,
 * as in `test/fixtures/conformance/README.md` ("Fixture reference"), and the block
 * lists of `expected-car-blocks.json`. The fixture CARs themselves are served
 * by the test upstream (test/servers/trustless-gateway-server.ts).
 */
import expectedCarBlocks from "../fixtures/conformance/expected-car-blocks.json";

export const RB_DIR = "bafybeifaqksygmsbnqe76kwvxoqxtkzcwssq5jkhuo65ldtqiunr3bxlra";
/** sha2-256 of the 57-byte RB_DIR block. */
export const RB_DIR_SHA256 = "a082a58332416c09ff2ad5bba179ab22b4a50ea547a3bdd58e70451b1d86eb88";
export const RB_ASCII = "bafkreihhpc5y2pqvl5rbe5uuyhqjouybfs3rvlmisccgzue2kkt5zq6upq";
export const RB_ASCII_TEXT = "hello application/vnd.ipld.raw\n";

export const DUP_ROOT = "bafybeihchr7vmgjaasntayyatmp5sv6xza57iy2h4xj7g46bpjij6yhrmy";

export interface CarCheck {
  id: string;
  fixture: string;
  path: string;
  query: Record<string, string>;
  /** Sent as Accept instead of the two upstream variants (C26–C29). */
  accept?: string;
  blocks: string[];
  exact: boolean;
  ordered: boolean;
  alsoAcceptStatus404?: boolean;
  note?: string;
}

export const carChecks: CarCheck[] = expectedCarBlocks.checks as CarCheck[];

export function carCheck(id: string): CarCheck {
  const check = carChecks.find((candidate) => candidate.id === id);
  if (!check) throw new Error(`no ${id} in expected-car-blocks.json`);
  return check;
}
