import { describe, expect, it } from "vitest";
import { describeDbError } from "../../src/db/errors.ts";

describe("describeDbError", () => {
  it("puts drizzle's cause first, with the failed query's first line after it", () => {
    const wrapped = new Error("Failed query: rollback\nparams: ", {
      cause: new Error("Connection terminated unexpectedly"),
    });
    expect(describeDbError(wrapped)).toBe(
      "Connection terminated unexpectedly (Failed query: rollback)",
    );
  });

  it("reads a WebSocket ErrorEvent, which is no Error, instead of printing [object ErrorEvent]", () => {
    const refused = new Event("error");
    expect(describeDbError(refused)).toBe(
      "the connection to the database failed (WebSocket error)",
    );
    const withInner = Object.assign(new Event("error"), { error: new Error("ECONNREFUSED") });
    expect(describeDbError(withInner)).toBe("ECONNREFUSED");
  });

  it("keeps a plain Error's message and stringifies anything else", () => {
    expect(describeDbError(new Error("password authentication failed"))).toBe(
      "password authentication failed",
    );
    expect(describeDbError("timeout")).toBe("timeout");
  });
});
