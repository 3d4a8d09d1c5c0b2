import { describe, expect, it } from "vitest";
import {
  atLeast,
  byRank,
  can,
  COMMAND_RANK,
  isModeration,
  rankOf,
  refusal,
  type CommandType,
  type Standing,
} from "../../src/protocol/index.ts";

const owner: Standing = { role: "owner" };
const moderator: Standing = { role: "moderator" };
const member: Standing = { role: "member" };
const outsider: Standing = { role: undefined };
const admin: Standing = { role: undefined, admin: true };

describe("ranks", () => {
  it("put admins over owners over moderators over members over everyone else", () => {
    const sorted = [member, admin, outsider, owner, moderator].sort(byRank).map(rankOf);
    expect(sorted).toEqual(["admin", "owner", "moderator", "member", "none"]);
    expect(atLeast(moderator, "moderator")).toBe(true);
    expect(atLeast(member, "moderator")).toBe(false);
    expect(atLeast({ role: "member", admin: true }, "owner")).toBe(true);
  });
});

describe("can", () => {
  it("lets anyone who sees the room post, edit, delete their own, react and leave", () => {
    for (const type of ["post", "edit", "delete", "react", "leave"] as const)
      expect(can(outsider, type)).toBe(true);
  });

  it("keeps room settings and sanctions to moderators and above", () => {
    for (const type of ["topic", "slow_mode", "invite", "mute", "kick", "ban"] as const) {
      expect(can(member, type)).toBe(false);
      expect(can(moderator, type)).toBe(true);
      expect(can(admin, type)).toBe(true);
    }
    expect(refusal(member, "kick")).toEqual({
      code: "forbidden",
      message: "only the room's owner and moderators may do that",
    });
  });

  it("keeps roles, transfers and inviting moderators to the owner (and admins)", () => {
    for (const action of ["role", "transfer", "invite_moderator"] as const) {
      expect(can(moderator, action)).toBe(false);
      expect(can(owner, action)).toBe(true);
      expect(can(admin, action)).toBe(true);
    }
  });

  it("lets moderators delete others' messages and skip slow mode, members not", () => {
    for (const action of ["delete_any", "skip_slow_mode"] as const) {
      expect(can(member, action)).toBe(false);
      expect(can(moderator, action)).toBe(true);
    }
  });

  it("acts only on someone of a lower rank, and never on the owner", () => {
    expect(can(moderator, "kick", member)).toBe(true);
    expect(can(moderator, "kick", moderator)).toBe(false);
    expect(can(owner, "ban", moderator)).toBe(true);
    expect(can(moderator, "unban", outsider)).toBe(true);
    expect(refusal(admin, "mute", owner)).toEqual({
      code: "forbidden",
      message: "nobody may act on the room's owner",
    });
    expect(can(owner, "transfer", member)).toBe(true);
    expect(can(admin, "role", owner)).toBe(false);
  });
});

describe("moderation commands", () => {
  it("are exactly the commands that need more than being let in, invite and automation included", () => {
    const all = Object.keys(COMMAND_RANK) as CommandType[];
    expect(all.filter(isModeration).sort()).toEqual(
      [
        "save_rule",
        "delete_rule",
        "enable_plugin",
        "disable_plugin",
        "ban",
        "invite",
        "kick",
        "mute",
        "role",
        "slow_mode",
        "topic",
        "transfer",
        "unban",
        "unmute",
      ].sort(),
    );
  });
});
