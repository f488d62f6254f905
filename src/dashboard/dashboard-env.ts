import type { Context } from "hono";
import { accountsStub } from "../durable-objects/accounts";
import { HttpError } from "../http/errors";
import type { Session } from "./session";

/** Hono environment of the dashboard's signed-in routes. */
export type DashboardEnv = {
  Bindings: Env;
  Variables: {
    session: Session;
    /** Dispatches a request through the whole worker (the verified fetch test goes through the gateway's own routes). */
    dispatch: (request: Request) => Promise<Response>;
    /** The body of a POST, parsed once by the CSRF check. */
    form: FormData;
  };
};

export type DashboardContext = Context<DashboardEnv>;

/**
 * The account a panel shows or acts on: the session's own in the account
 * view (whatever was asked); in the service view the one the operator chose
 * (`?account=` or the form's `account` field), which must exist, or null
 * when none was chosen.
 */
export async function targetAccount(c: DashboardContext, requested: string | undefined): Promise<string | null> {
  const session = c.get("session");
  if (session.view === "account") return session.account;
  if (requested === undefined || requested === "") return null;
  if (!/^acc_[0-9a-f]{24}$/.test(requested) || !(await accountsStub(c.env).accountExists(requested))) {
    throw new HttpError("not_found", `no account ${JSON.stringify(requested.slice(0, 40))}`);
  }
  return requested;
}

/** A form field as a string (absent, a file, or repeated fields: undefined / the first string). */
export function field(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}
