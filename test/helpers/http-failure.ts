import { expect } from "vitest";
import { HttpError } from "../../src/http/errors";

/** The status and message of the HttpError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return { status: (err as HttpError).status, message: (err as HttpError).message };
  }
  throw new Error("expected a rejection, the promise resolved");
}
