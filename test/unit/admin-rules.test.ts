import { describe, expect, it } from "vitest";
import {
  adminActionRefusal,
  BANNED,
  pageOfKeys,
  prefixRange,
} from "../../src/account/admin-rules.ts";
import { AdminUserQuery, BanUser } from "../../src/protocol/index.ts";

describe("what an admin may do to an account", () => {
  it("refuses banning or deleting yourself, whatever the case of the name", () => {
    expect(adminActionRefusal("ban", "root", "ROOT")).toMatchObject({
      code: "forbidden",
      message: "instance admins cannot ban themselves",
    });
    expect(adminActionRefusal("delete", "Root", "root")?.code).toBe("forbidden");
  });

  it("allows ending your own sessions and unbanning, and anything on someone else", () => {
    expect(adminActionRefusal("end_sessions", "root", "root")).toBeUndefined();
    expect(adminActionRefusal("unban", "root", "root")).toBeUndefined();
    for (const action of ["ban", "delete", "end_sessions", "unban"] as const)
      expect(adminActionRefusal(action, "root", "rooty")).toBeUndefined();
  });

  it("tells a banned account it is banned, as forbidden", () => {
    expect(BANNED).toEqual({
      code: "forbidden",
      message: "this account is banned from this instance",
    });
  });
});

describe("the user index's pages", () => {
  it("covers exactly the names with the prefix, lower-cased", () => {
    const range = prefixRange("Ad");
    expect(range).toEqual({ from: "ad", fromInclusive: true, to: "ad~" });
    const inRange = (key: string) => key >= range.from && key < range.to;
    for (const key of ["ad", "ada", "ad.min", "ad-1", "ad_x", "ad9", "adzzzz"])
      expect(inRange(key), key).toBe(true);
    for (const key of ["ac", "a", "ae", "b", "_ad"]) expect(inRange(key), key).toBe(false);
  });

  it("an empty prefix covers every name", () => {
    const range = prefixRange("");
    for (const key of ["-", ".a", "0", "zzz", "___"])
      expect(key >= range.from && key < range.to).toBe(true);
  });

  it("starts after the cursor when it is within the prefix, else at the prefix", () => {
    expect(prefixRange("ad", "Ada")).toEqual({ from: "ada", fromInclusive: false, to: "ad~" });
    expect(prefixRange("ad", "ab")).toEqual({ from: "ad", fromInclusive: true, to: "ad~" });
  });

  it("pages rows fetched one over the limit", () => {
    const rows = ["a", "b", "c"].map((key) => ({ key }));
    expect(pageOfKeys(rows, 2)).toEqual({ rows: rows.slice(0, 2), nextAfter: "b" });
    expect(pageOfKeys(rows, 3)).toEqual({ rows, nextAfter: null });
    expect(pageOfKeys([], 3)).toEqual({ rows: [], nextAfter: null });
  });
});

describe("the admin API's inputs", () => {
  it("reads the query's prefix, cursor and limit, and refuses anything else", () => {
    expect(AdminUserQuery.parse({})).toEqual({ prefix: "", limit: 50 });
    expect(AdminUserQuery.parse({ prefix: "Ad.m-_1", after: "ada", limit: "200" })).toEqual({
      prefix: "Ad.m-_1",
      after: "ada",
      limit: 200,
    });
    for (const bad of [
      { prefix: "a b" },
      { prefix: "%" },
      { prefix: "x".repeat(33) },
      { limit: "0" },
      { limit: "201" },
      { limit: "1e3" },
    ])
      expect(AdminUserQuery.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it("takes an optional reason of at most 500 characters for a ban", () => {
    expect(BanUser.parse({})).toEqual({});
    expect(BanUser.parse({ reason: "  spam " })).toEqual({ reason: "spam" });
    expect(BanUser.safeParse({ reason: "x".repeat(501) }).success).toBe(false);
  });
});
