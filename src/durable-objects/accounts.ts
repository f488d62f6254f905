import { DurableObject } from "cloudflare:workers";
import { base58btc } from "multiformats/bases/base58";
import { identity } from "multiformats/hashes/identity";
import { hashToken, newId, newToken } from "../accounts/token-hash";
import { migrate } from "./sql-migrations";

/** Numbered schema migrations (docs/storage.md, "Accounts"). Append only. */
const MIGRATIONS = [
  `CREATE TABLE accounts (
     id TEXT PRIMARY KEY,
     created INTEGER NOT NULL
   );
   CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     account TEXT NOT NULL REFERENCES accounts(id),
     name TEXT NOT NULL,
     sha256 TEXT NOT NULL UNIQUE,
     created INTEGER NOT NULL
   );
   CREATE INDEX tokens_account ON tokens(account);
   CREATE TABLE service_key (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     public_key BLOB NOT NULL,
     private_jwk TEXT NOT NULL
   );`,
  // 2: operator alerts already sent, one per kind and period (src/cron/budget-alert.ts: at most once a month).
  `CREATE TABLE alerts_sent (
     kind TEXT NOT NULL,
     period TEXT NOT NULL,
     sent_at INTEGER NOT NULL,
     PRIMARY KEY (kind, period)
   ) WITHOUT ROWID;`,
  // 3 (issue 9): accounts that have replicas, for the verification cron's fan-out (src/replication/verify-cron.ts).
  `CREATE TABLE replicating_accounts (
     account TEXT PRIMARY KEY,
     since INTEGER NOT NULL
   );
   CREATE TABLE cursors (
     name TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );`,
];

export type TokenRecord = { id: string; account: string; name: string; created: string };
export type MintedToken = TokenRecord & { token: string; sha256: string };

/**
 * Operator-level records: accounts, the list of API tokens (SHA-256 only,
 * each bound to an account) and the service's Ed25519 identity (the peer ID
 * advertised in PSA `delegates`). One instance, named "accounts": the
 * operator API, the first delegate look-up of an isolate, and the first use
 * of a bearer token in an isolate (its hash, cached per isolate for
 * TOKEN_CACHE_TTL_MS, so that an unknown token never reaches a per-account
 * object) reach it. The account's own PinRegistry keeps a copy of its
 * tokens' hashes and checks every request, so revocation is immediate.
 */
export class Accounts extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, MIGRATIONS));
  }

  /**
   * A new token. Without `account`, a new account is created for it (the
   * DESIGN.md contract: "a token bound to its own account"); with one, the
   * token is one more device token of that existing account.
   */
  async mintToken(name: string, account?: string): Promise<MintedToken | { error: "unknown_account" }> {
    const now = Date.now();
    const id = newId("tok_");
    if (account === undefined) {
      account = newId("acc_");
      this.#sql.exec("INSERT INTO accounts (id, created) VALUES (?, ?)", account, now);
    } else if (!this.accountExists(account)) {
      return { error: "unknown_account" };
    }
    const token = newToken(account);
    const sha256 = await hashToken(token);
    this.#sql.exec(
      "INSERT INTO tokens (id, account, name, sha256, created) VALUES (?, ?, ?, ?, ?)",
      id, account, name, sha256, now,
    );
    return { id, account, name, created: new Date(now).toISOString(), token, sha256 };
  }

  listTokens(account?: string): TokenRecord[] {
    const rows = account === undefined
      ? this.#sql.exec<TokenRow>("SELECT id, account, name, created FROM tokens ORDER BY created, id")
      : this.#sql.exec<TokenRow>("SELECT id, account, name, created FROM tokens WHERE account = ? ORDER BY created, id", account);
    return rows.toArray().map(toRecord);
  }

  /** The account whose token has this SHA-256 (hex), or null: the gate every bearer token passes first (src/accounts/token-lookup.ts). */
  accountOfToken(sha256: string): string | null {
    const row = this.#sql.exec<{ account: string }>("SELECT account FROM tokens WHERE sha256 = ?", sha256).toArray()[0];
    return row?.account ?? null;
  }

  /** The account of a token id, or null. */
  tokenOwner(id: string): string | null {
    const row = this.#sql.exec<{ account: string }>("SELECT account FROM tokens WHERE id = ?", id).toArray()[0];
    return row?.account ?? null;
  }

  /** Forgets a token (after the account's PinRegistry stopped accepting it). */
  revokeToken(id: string): boolean {
    return this.#sql.exec("DELETE FROM tokens WHERE id = ?", id).rowsWritten > 0;
  }

  accountExists(account: string): boolean {
    return this.#sql.exec("SELECT 1 FROM accounts WHERE id = ?", account).toArray().length > 0;
  }

  listAccounts(): string[] {
    return this.#sql.exec<{ id: string }>("SELECT id FROM accounts ORDER BY id").toArray().map((r) => r.id);
  }

  /** Claims the alert of `kind` for `period`: true once, false when it was claimed before. */
  claimAlert(kind: string, period: string): boolean {
    return this.#sql.exec("INSERT OR IGNORE INTO alerts_sent (kind, period, sent_at) VALUES (?, ?, ?)", kind, period, Date.now()).rowsWritten > 0;
  }

  /** Gives a claim back (the alert could not be delivered: the next run tries again). */
  releaseAlert(kind: string, period: string): void {
    this.#sql.exec("DELETE FROM alerts_sent WHERE kind = ? AND period = ?", kind, period);
  }

  /** When the alert of `kind` for `period` was sent (epoch ms), or null. */
  alertSentAt(kind: string, period: string): number | null {
    return this.#sql.exec<{ sent_at: number }>("SELECT sent_at FROM alerts_sent WHERE kind = ? AND period = ?", kind, period).toArray()[0]?.sent_at ?? null;
  }

  // ---- replication (issue 9) ----------------------------------------------------

  /** An account's PinRegistry planned its first replica: the verification cron visits it from now on. */
  noteReplicatingAccount(account: string): void {
    this.#sql.exec("INSERT OR IGNORE INTO replicating_accounts (account, since) VALUES (?, ?)", account, Date.now());
  }

  /**
   * The next `limit` accounts with replicas after the cron's saved cursor
   * (wrapping round at the end), and advances the cursor: successive runs
   * visit every account in bounded batches.
   */
  nextReplicatingAccounts(limit: number): string[] {
    const cursor = this.#sql.exec<{ value: string }>("SELECT value FROM cursors WHERE name = 'verify'").toArray()[0]?.value ?? "";
    let batch = this.#sql.exec<{ account: string }>("SELECT account FROM replicating_accounts WHERE account > ? ORDER BY account LIMIT ?", cursor, limit).toArray().map((r) => r.account);
    if (batch.length < limit && cursor !== "") {
      const wrapped = this.#sql.exec<{ account: string }>("SELECT account FROM replicating_accounts WHERE account <= ? ORDER BY account LIMIT ?", cursor, limit - batch.length).toArray();
      batch = [...batch, ...wrapped.map((r) => r.account).filter((a) => !batch.includes(a))];
    }
    const last = batch[batch.length - 1];
    if (last !== undefined) this.#sql.exec("INSERT OR REPLACE INTO cursors (name, value) VALUES ('verify', ?)", last);
    return batch;
  }

  /** Accounts with replicas after `after` in order, `limit` at most (no cursor moved): the Filecoin watch resolves a shared copy's owners with it. */
  replicatingAccountsAfter(after: string, limit: number): string[] {
    return this.#sql.exec<{ account: string }>("SELECT account FROM replicating_accounts WHERE account > ? ORDER BY account LIMIT ?", after, limit).toArray().map((r) => r.account);
  }

  /**
   * The service's libp2p peer ID: identity multihash of the protobuf
   * `PublicKey { Type: Ed25519 (1), Data: <32 bytes> }`, base58btc (libp2p
   * peer-ids spec). The key pair is generated once and kept, so the ID is
   * stable across deploys of the same storage.
   */
  async servicePeerId(): Promise<string> {
    let row = this.#sql.exec<{ public_key: ArrayBuffer }>("SELECT public_key FROM service_key WHERE id = 1").toArray()[0];
    if (row === undefined) {
      const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
      const publicKey = (await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer;
      const privateJwk = JSON.stringify(await crypto.subtle.exportKey("jwk", pair.privateKey));
      this.#sql.exec("INSERT OR IGNORE INTO service_key (id, public_key, private_jwk) VALUES (1, ?, ?)", publicKey, privateJwk);
      row = this.#sql.exec<{ public_key: ArrayBuffer }>("SELECT public_key FROM service_key WHERE id = 1").toArray()[0]!;
    }
    const key = new Uint8Array(row.public_key);
    const protobuf = new Uint8Array([0x08, 0x01, 0x12, key.length, ...key]);
    return base58btc.baseEncode(identity.digest(protobuf).bytes);
  }
}

type TokenRow = { id: string; account: string; name: string; created: number };

function toRecord(row: TokenRow): TokenRecord {
  return { id: row.id, account: row.account, name: row.name, created: new Date(row.created).toISOString() };
}

/** The one Accounts object. */
export function accountsStub(env: Env): DurableObjectStub<Accounts> {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName("accounts"));
}
