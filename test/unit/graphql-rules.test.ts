import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { contractError, withContractCode } from "../../src/graphql/errors.ts";
import { mapBounded } from "../../src/graphql/fan-out.ts";
import { CallMemo } from "../../src/graphql/memo.ts";
import { connectionOf, forwardPage } from "../../src/graphql/paging.ts";
import { ApiError } from "../../src/protocol/index.ts";

describe("GraphQL errors", () => {
  it("keep a refusal's code and retryAfter, and hide anything unexpected as internal", () => {
    const reported: unknown[] = [];
    const report = (error: unknown) => reported.push(error);
    const limited = new GraphQLError("x", {
      originalError: new ApiError("rate_limited", "slow down", { retryAfter: 2 }),
    });
    expect(contractError(limited, report).extensions).toEqual({
      code: "rate_limited",
      retryAfter: 2,
    });
    const leak = contractError(new Error("at db.ts:12 password=hunter2"), report);
    expect(leak.message).toBe("something went wrong on our side");
    expect(leak.extensions).toEqual({ code: "internal" });
    expect(reported).toHaveLength(1);
  });

  it("give errors raised before execution bad_request, and leave contract codes alone", () => {
    const validation = new GraphQLError("Cannot query field", {
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });
    expect(withContractCode(validation).extensions).toEqual({ code: "bad_request" });
    const found = new GraphQLError("no such room", { extensions: { code: "not_found" } });
    expect(withContractCode(found)).toBe(found);
  });
});

describe("GraphQL paging", () => {
  it("pages forward only", () => {
    expect(forwardPage({ first: 5, after: "9" })).toEqual({ first: 5, after: "9" });
    expect(() => forwardPage({ last: 5 })).toThrow(/forward only/);
    expect(() => forwardPage({ before: "3" })).toThrow(ApiError);
  });

  it("builds a connection whose end cursor is its last edge's", () => {
    const page = connectionOf([7, 6], String, true);
    expect(page.edges).toEqual([
      { cursor: "7", node: 7 },
      { cursor: "6", node: 6 },
    ]);
    expect(page.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: "7",
      endCursor: "6",
    });
    expect(connectionOf([], String, false).pageInfo.endCursor).toBeNull();
  });
});

describe("the per-request memo", () => {
  it("runs each key once and counts the runs", async () => {
    const memo = new CallMemo();
    let runs = 0;
    const load = () => memo.load("room:a:info", async () => ++runs);
    expect(await Promise.all([load(), load(), load()])).toEqual([1, 1, 1]);
    await memo.load("room:a:members", async () => ++runs);
    expect(memo.count).toBe(2);
  });
});

describe("the bounded fan-out of me.rooms", () => {
  it("keeps at most `limit` calls in flight and the answers in the items' order", async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 20 }, (_, i) => i);
    const answers = await mapBounded(items, 6, async (i) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      // Later items finish sooner, so that order comes from the index, not from completion.
      await new Promise((resolve) => setTimeout(resolve, 20 - i));
      inFlight -= 1;
      return i * 10;
    });
    expect(answers).toEqual(items.map((i) => i * 10));
    expect(most).toBe(6);
    expect(await mapBounded([], 6, async () => 1)).toEqual([]);
  });

  it("rejects with the first failure", async () => {
    const failing = mapBounded([1, 2, 3], 2, async (i) => {
      if (i === 2) throw new ApiError("internal", "boom");
      return i;
    });
    await expect(failing).rejects.toThrow("boom");
  });
});
