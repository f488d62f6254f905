/**
 * The audit trail of one account (docs/operations.md "Audit trail"): who
 * did what to its pins, tokens and settings, kept in the account's
 * PinRegistry (table `audit_log`, PIN_REGISTRY_MIGRATIONS) and written in
 * the same call as the change it records, so an entry exists exactly when
 * the change does. Read through `GET /api/v1/audit` (src/audit/routes.ts).
 *
 * Entries never hold a token or a secret: a token is named by its id, a
 * webhook secret change by how many secrets there are.
 */

/** Who acted: the operator (ADMIN_TOKEN), the account through an API token, a signed webhook, or the service (pin work). */
export type AuditActor = "operator" | "account" | "webhook" | "system";

export type AuditDetail = Record<string, string | number | boolean | null>;

export type AuditAction =
  | "pin.create"
  | "pin.replace"
  | "pin.delete"
  | "pin.upload"
  | "pin.pinned"
  | "pin.failed"
  | "token.mint"
  | "token.revoke"
  | "limits.set"
  | "webhook_secrets.set";

export interface AuditEntry {
  /** Increasing per account: the cursor of `before`. */
  seq: number;
  /** Epoch ms. */
  at: number;
  actor: AuditActor;
  action: AuditAction;
  /** What it was done to: a pin's requestid, a token id. */
  target: string | null;
  /** Small facts (a CID, a name, limits). */
  detail: AuditDetail;
}

/** Oldest entries beyond this many per account are dropped. */
export const MAX_AUDIT_ENTRIES = 10_000;
export const MAX_AUDIT_PAGE = 1000;

/** `sql` is the account registry's; call inside its transaction when there is one. */
export function appendAudit(sql: SqlStorage, actor: AuditActor, action: AuditAction, target: string | null, detail: AuditDetail = {}): void {
  sql.exec("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)", Date.now(), actor, action, target, JSON.stringify(detail));
  sql.exec("DELETE FROM audit_log WHERE seq <= (SELECT MAX(seq) FROM audit_log) - ?", MAX_AUDIT_ENTRIES);
}

/** Newest first; `before` is a `seq` to continue from. */
export function readAudit(sql: SqlStorage, query: { before?: number; limit: number; action?: string }): AuditEntry[] {
  const rows = sql
    .exec<{ seq: number; at: number; actor: AuditActor; action: AuditAction; target: string | null; detail: string }>(
      `SELECT * FROM audit_log WHERE seq < ? ${query.action ? "AND action = ?" : ""} ORDER BY seq DESC LIMIT ?`,
      ...[query.before ?? Number.MAX_SAFE_INTEGER, ...(query.action ? [query.action] : []), Math.min(query.limit, MAX_AUDIT_PAGE)],
    )
    .toArray();
  return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as AuditDetail }));
}
