import { describe, expect, it } from "vitest";
import { botCountRefusal, botRoomsRefusal } from "../../src/identity/bot-rules.ts";
import {
  BotScope,
  BOTS_PER_USER_MAX,
  CreateBot,
  SCOPE_ROOMS_MAX,
  type Result,
  type Standing,
} from "../../src/protocol/index.ts";

/** The rules of users' own bots (docs/integrations.md, "Bots"): src/identity/bot-rules.ts. */

const owner: Result<Standing> = { ok: true, value: { role: "owner" } };
const moderator: Result<Standing> = { ok: true, value: { role: "moderator" } };
const member: Result<Standing> = { ok: true, value: { role: "member" } };
const outsider: Result<Standing> = { ok: true, value: { role: undefined } };
// An instance admin who is not the owner: admins' reach is not a bot's.
const admin: Result<Standing> = { ok: true, value: { role: undefined, admin: true } };
const adminMember: Result<Standing> = { ok: true, value: { role: "member", admin: true } };
// What a room answers for a private room the caller may not see, and for a room never created.
const hidden: Result<Standing> = {
  ok: false,
  error: { code: "not_found", message: "no such room" },
};
const banned: Result<Standing> = {
  ok: false,
  error: { code: "forbidden", message: "you are banned from this room" },
};

const standings = (entries: Record<string, Result<Standing>>) => new Map(Object.entries(entries));

describe("a bot's rooms", () => {
  it("are allowed when the caller owns every one of them now", () => {
    expect(botRoomsRefusal(["a", "b"], standings({ a: owner, b: owner }))).toBeUndefined();
  });

  it("are refused at the first room the caller does not own, naming it", () => {
    for (const other of [moderator, member, outsider, admin, adminMember]) {
      const refusal = botRoomsRefusal(["a", "b", "c"], standings({ a: owner, b: other, c: other }));
      expect(refusal).toEqual({
        code: "forbidden",
        message: '"b" is not a room you own: a bot may be given only rooms you own',
      });
    }
  });

  it("answer a hidden, a missing, a banning and an unasked room in the same words as any other", () => {
    const words = (standing: Result<Standing> | undefined) =>
      botRoomsRefusal(["x"], standing ? standings({ x: standing }) : new Map());
    const public_ = words(outsider);
    expect(public_?.code).toBe("forbidden");
    for (const standing of [hidden, banned, undefined]) expect(words(standing)).toEqual(public_);
  });

  it('refuses "*": every room is for admins', () => {
    expect(botRoomsRefusal("*", new Map())).toEqual({
      code: "bad_request",
      message: 'a bot names its rooms one by one: "*" is for admins',
    });
  });
});

describe("how many bots", () => {
  it(`allows up to ${BOTS_PER_USER_MAX} per user and refuses the next with conflict`, () => {
    expect(BOTS_PER_USER_MAX).toBe(10);
    for (let owned = 0; owned < BOTS_PER_USER_MAX; owned++)
      expect(botCountRefusal(owned)).toBeUndefined();
    expect(botCountRefusal(BOTS_PER_USER_MAX)).toEqual({
      code: "conflict",
      message: "a user may have at most 10 bots: delete one first",
    });
    expect(botCountRefusal(BOTS_PER_USER_MAX + 3)?.code).toBe("conflict");
  });
});

describe("a bot's scope as sent", () => {
  const problem = (value: unknown) => {
    const parsed = BotScope.safeParse(value);
    return parsed.success ? undefined : parsed.error.issues[0];
  };

  it("takes named rooms, a service's actions and a member's or moderator's role", () => {
    expect(problem({ rooms: ["ops"], actions: ["post"], role: "member" })).toBeUndefined();
    expect(
      problem({ rooms: ["ops"], actions: ["post", "ban"], role: "moderator" }),
    ).toBeUndefined();
  });

  it('refuses "*" in its own words, and no room, too many, or a bad name', () => {
    expect(problem({ rooms: "*", actions: ["post"], role: "member" })).toMatchObject({
      path: ["rooms"],
      message: `a bot names its rooms one by one: "*" (every room) is for admins' services`,
    });
    expect(problem({ rooms: [], actions: ["post"], role: "member" })?.message).toBe(
      "give at least one room",
    );
    const many = Array.from({ length: SCOPE_ROOMS_MAX + 1 }, (_, i) => `r${i}`);
    expect(problem({ rooms: many, actions: ["post"], role: "member" })?.message).toBe(
      `at most ${SCOPE_ROOMS_MAX} rooms`,
    );
    expect(problem({ rooms: ["Not A Room"], actions: ["post"], role: "member" })?.path).toEqual([
      "rooms",
      0,
    ]);
  });

  it("refuses the owner's role and actions, and a moderator's action in a member's scope", () => {
    expect(problem({ rooms: ["ops"], actions: ["post"], role: "owner" })?.path).toEqual(["role"]);
    expect(problem({ rooms: ["ops"], actions: ["transfer"], role: "moderator" })?.path).toEqual([
      "actions",
      0,
    ]);
    expect(problem({ rooms: ["ops"], actions: ["kick"], role: "member" })).toMatchObject({
      path: ["role"],
      message: "an action in this scope needs the moderator role: give it, or drop the action",
    });
  });

  it("refuses unknown fields, in the scope and in the body", () => {
    expect(problem({ rooms: ["ops"], actions: ["post"], role: "member", admin: true })?.code).toBe(
      "unrecognized_keys",
    );
    const body = CreateBot.safeParse({
      name: "deploybot",
      scope: { rooms: ["ops"], actions: ["post"], role: "member" },
      owner: "someone-else",
    });
    expect(body.success).toBe(false);
  });
});
