import { describe, expect, it } from "vitest";
import type * as z from "zod";
import { checkGrant, checkManifest } from "../../src/plugins/install-rules.ts";
import { grantableHost, grantedUrl } from "../../src/plugins/hosts.ts";
import {
  outcomeOf,
  ActionsAnswer,
  CommandAnswer,
  VerdictAnswer,
} from "../../src/plugins/outcomes.ts";
import { afterCall, isSuspended, NO_STRIKES, STRIKES } from "../../src/plugins/strikes.ts";
import { putProblem, STORE_LIMITS } from "../../src/plugins/store-rules.ts";
import type { PluginManifest } from "../../src/protocol/automation.ts";

const manifest = (over: Partial<PluginManifest> = {}): PluginManifest => ({
  id: "poll",
  version: "1.0.0",
  description: "",
  hooks: { beforeCommit: false, afterEvent: false },
  commands: [],
  jobs: [],
  hosts: [],
  ...over,
});

describe("outcomeOf", () => {
  const answered = (value: unknown) => ({
    kind: "answered" as const,
    result: { ok: true as const, value },
  });

  it("passes a valid verdict, actions and reply, and fills in no actions", () => {
    expect(outcomeOf(answered({ rewrite: "hi" }), VerdictAnswer, 3)).toEqual({
      outcome: "ok",
      value: { rewrite: "hi" },
      ms: 3,
    });
    expect(outcomeOf(answered(null), ActionsAnswer, 1)).toMatchObject({ outcome: "ok", value: [] });
    expect(
      outcomeOf(answered({ text: "5 votes", visibility: "in_channel" }), CommandAnswer, 1),
    ).toMatchObject({ outcome: "ok", value: { text: "5 votes", visibility: "in_channel" } });
  });

  it.each([
    [{ rewrite: "" }, VerdictAnswer, /rewrite/],
    [{ refuse: "x".repeat(501) }, VerdictAnswer, /invalid/],
    [{ maybe: true }, VerdictAnswer, /invalid/],
    [
      [{ post: "a" }, { post: "b" }, { post: "c" }, { post: "d" }, { post: "e" }, { post: "f" }],
      ActionsAnswer,
      /invalid/,
    ],
    [[{ react: -1, emoji: "👍" }], ActionsAnswer, /at 0/],
    [{ visibility: "everyone" }, CommandAnswer, /visibility/],
  ] as const)("calls an invalid answer a failure: %j", (value, schema, message) => {
    const outcome = outcomeOf(answered(value), schema as z.ZodType<unknown, unknown>, 1);
    expect(outcome.outcome).toBe("threw");
    if (outcome.outcome === "threw") expect(outcome.message).toMatch(message);
  });

  it("tells limits, throws, hangs and timeouts apart", () => {
    const failed = (limit: boolean) => ({
      kind: "answered" as const,
      result: { ok: false as const, limit, message: "m" },
    });
    expect(outcomeOf(failed(true), VerdictAnswer, 1).outcome).toBe("refused-by-limit");
    expect(outcomeOf(failed(false), VerdictAnswer, 1).outcome).toBe("threw");
    expect(outcomeOf({ kind: "timeout", budgetMs: 250 }, VerdictAnswer, 250)).toEqual({
      outcome: "timeout",
      message: "no answer within 250 ms",
      ms: 250,
    });
    const rejected = (message: string) => ({
      kind: "rejected" as const,
      error: new Error(message),
    });
    expect(outcomeOf(rejected("PluginLimit: ran more than"), VerdictAnswer, 1).outcome).toBe(
      "refused-by-limit",
    );
    expect(
      outcomeOf(rejected("… detected that your Worker's code had hung and …"), VerdictAnswer, 1)
        .outcome,
    ).toBe("timeout");
    expect(outcomeOf(rejected("Network connection lost."), VerdictAnswer, 1).outcome).toBe("threw");
  });

  it("clips long messages", () => {
    const outcome = outcomeOf(
      { kind: "rejected", error: new Error("x".repeat(2000)) },
      VerdictAnswer,
      1,
    );
    expect(outcome.outcome === "threw" && outcome.message.length).toBe(500);
  });
});

describe("strikes", () => {
  it("suspend after failures in a row, doubling, and forgive on success", () => {
    let strikes = NO_STRIKES;
    for (let i = 1; i < STRIKES.failuresInARow; i++) strikes = afterCall(strikes, false, 0);
    expect(isSuspended(strikes, 0)).toBe(false);
    strikes = afterCall(strikes, false, 1000);
    expect(strikes.suspendedUntil).toBe(1000 + STRIKES.firstSuspensionMs);
    expect(isSuspended(strikes, 1000 + STRIKES.firstSuspensionMs - 1)).toBe(true);
    for (let i = 0; i < STRIKES.failuresInARow; i++) strikes = afterCall(strikes, false, 5000);
    expect(strikes.suspendedUntil).toBe(5000 + 2 * STRIKES.firstSuspensionMs);
    for (let n = 0; n < 10; n++)
      for (let i = 0; i < STRIKES.failuresInARow; i++) strikes = afterCall(strikes, false, 0);
    expect(strikes.suspendedUntil).toBe(STRIKES.longestMs);
    expect(afterCall(strikes, true, 0)).toEqual(NO_STRIKES);
  });
});

describe("hosts", () => {
  it.each([
    ["api.example.com", true, "api.example.com"],
    ["API.Example.com", true, "api.example.com"],
    ["127.0.0.1", true, "127.0.0.1"],
    ["[::1]", true, "[::1]"],
    ["localhost", true, "localhost"],
  ])("grants %s (loopback allowed)", (raw, allowLoopback, host) => {
    expect(grantableHost(raw, { allowLoopback })).toEqual({ ok: true, host });
  });

  it.each([
    ["127.0.0.1", /loopback host, allowed only in local development/],
    ["10.1.2.3", /10\.0\.0\.0\/8 \(private\)/],
    ["169.254.169.254", /link-local/],
    ["api.example.com:8443", /bare host name/],
    ["https://api.example.com", /bare host name/],
    ["api.example.com/path", /bare host name/],
    ["printer", /single label/],
    ["nas.local", /\.local/],
    ["a b", /not a host name/],
  ])("refuses to grant %s", (raw, reason) => {
    const verdict = grantableHost(raw, { allowLoopback: false });
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(reason);
  });

  it("lets a request through to a granted host only, through the SSRF guard", () => {
    const hosts = ["api.example.com", "127.0.0.1"];
    expect(
      grantedUrl("https://api.example.com/x?q=1", hosts, { allowLoopback: false }),
    ).toMatchObject({ ok: true });
    expect(grantedUrl("https://other.example.com/", hosts, { allowLoopback: false })).toMatchObject(
      { ok: false, reason: expect.stringMatching(/not one the plugin was granted/) },
    );
    expect(grantedUrl("http://api.example.com/", hosts, { allowLoopback: false })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/https/),
    });
    expect(grantedUrl("http://127.0.0.1:9999/", hosts, { allowLoopback: true })).toMatchObject({
      ok: true,
    });
    expect(grantedUrl("http://127.0.0.1:9999/", hosts, { allowLoopback: false })).toMatchObject({
      ok: false,
    });
    // 2130706433 is 127.0.0.1 to the URL parser: the grant is read after it.
    expect(grantedUrl("http://2130706433/", hosts, { allowLoopback: true })).toMatchObject({
      ok: true,
    });
  });
});

describe("install rules", () => {
  it("takes a manifest for the id it is installed as", () => {
    expect(checkManifest(manifest(), "poll")).toMatchObject({ ok: true });
    expect(checkManifest(manifest(), "other")).toMatchObject({
      ok: false,
      error: { code: "bad_request", message: "the plugin's id is poll, not other" },
    });
    expect(checkManifest({ ...manifest(), version: "one" }, "poll")).toMatchObject({
      ok: false,
      error: {
        message: expect.stringMatching(/^the plugin's definition: version: a version is MAJOR/),
      },
    });
    expect(
      checkManifest(
        { ...manifest(), commands: [{ name: "Bad Name", usage: "", description: "" }] },
        "poll",
      ),
    ).toMatchObject({ ok: false });
  });

  it("grants only hosts the plugin asks for", () => {
    const asking = manifest({ hosts: ["api.example.com", "Cdn.Example.com"] });
    expect(
      checkGrant(["api.example.com", "cdn.example.com", "api.example.com"], asking, false),
    ).toEqual({
      ok: true,
      value: ["api.example.com", "cdn.example.com"],
    });
    expect(checkGrant(["evil.example.com"], asking, false)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/not one the plugin asks for/) },
    });
    expect(checkGrant(["10.0.0.1"], manifest({ hosts: ["10.0.0.1"] }), false)).toMatchObject({
      ok: false,
    });
  });
});

describe("store limits", () => {
  const empty = { keys: 0, bytes: 0 };
  it("refuses bad keys, big values and a full store", () => {
    expect(putProblem(empty, { key: "a", value: "1", replacing: empty })).toBeUndefined();
    expect(putProblem(empty, { key: "", value: "1", replacing: empty })).toMatch(/non-empty/);
    expect(putProblem(empty, { key: "k".repeat(257), value: "1", replacing: empty })).toMatch(
      /256/,
    );
    expect(
      putProblem(empty, {
        key: "a",
        value: "x".repeat(STORE_LIMITS.valueBytes + 1),
        replacing: empty,
      }),
    ).toMatch(/65536 bytes/);
    const full = { keys: STORE_LIMITS.keys, bytes: 10 };
    expect(putProblem(full, { key: "new", value: "1", replacing: empty })).toMatch(/1000 keys/);
    // Replacing a key in a full store is fine.
    expect(
      putProblem(full, { key: "old", value: "1", replacing: { keys: 1, bytes: 4 } }),
    ).toBeUndefined();
    const heavy = { keys: 1, bytes: STORE_LIMITS.totalBytes - 2 };
    expect(putProblem(heavy, { key: "a", value: "12", replacing: empty })).toMatch(
      /at most 4194304 bytes/,
    );
  });
});
