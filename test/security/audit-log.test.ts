/**
 * The instance audit log's endpoints under attack: who may read it (admins only: a guest, a
 * registered user and a forged admin are refused), and fuzzed query strings judged by the
 * oracle of contract.ts (never a 5xx, a contract error for every bad query, a page for a good
 * one). The log itself must record the attacker's failed sign-ins, not leak through errors.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_ACTIONS, auditQueryVerdict, errorBodyProblem } from "./contract.ts";
import {
  call,
  expectError,
  forge,
  register,
  SECURITY_VARS,
  signInGuest,
  startServer,
  type TestServer,
  type Who,
} from "./helpers.ts";

const RUNS = Number(process.env.FUZZ_AUDIT_RUNS ?? 400);

let server: TestServer;
let root: Who;
let mallory: Who;
let guest: Who;

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  root = await register(server.url, "root");
  mallory = await register(server.url, "mallory");
  guest = await signInGuest(server.url, "gwen");
});
afterAll(async () => server?.dispose());

const PATHS = ["/api/admin/audit", "/api/admin/audit/verify"];

describe("who may read the instance audit log", () => {
  it("admins only: 401 without a token, 403 for a guest and a registered user, 401 for a forged admin", async () => {
    for (const path of PATHS) {
      expectError(await call(server.url, "GET", path), 401, "unauthorized", path);
      expectError(
        await call(server.url, "GET", path, { token: guest.token }),
        403,
        "forbidden",
        path,
      );
      expectError(
        await call(server.url, "GET", path, { token: mallory.token }),
        403,
        "forbidden",
        path,
      );
      const fakeRoot = await forge({
        sub: root.user.id,
        name: "root",
        kind: "user",
        sid: "f".repeat(32),
      });
      expectError(
        await call(server.url, "GET", path, { token: fakeRoot }),
        401,
        "unauthorized",
        path,
      );
      // The admin flag is configuration, never a claim or a parameter.
      const smuggled = `${path}?admin=true&role=admin`;
      expectError(
        await call(server.url, "GET", smuggled, { token: mallory.token }),
        403,
        "forbidden",
        smuggled,
      );
      expect((await call(server.url, "GET", path, { token: root.token })).status, path).toBe(200);
    }
  });

  it("records mallory's guesses at root's password with her address, and hides nothing from root", async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await call(server.url, "POST", "/api/auth/login", {
        body: { username: "ROOT", password: `guess number ${i}` },
        headers: { "cf-connecting-ip": "192.0.2.66" },
      });
      expectError(answer, 401, "unauthorized");
    }
    await expect
      .poll(async () => {
        const answer = await call(
          server.url,
          "GET",
          "/api/admin/audit?action=auth.sign_in_failed&actor=root",
          {
            token: root.token,
          },
        );
        const entries = (answer.json as { entries: { ip: string; actor: { name: string } }[] })
          .entries;
        return entries.filter((e) => e.ip === "192.0.2.66").map((e) => e.actor.name);
      })
      .toEqual(["ROOT", "ROOT", "ROOT"]);
  });
});

/** A query parameter's value: plausible, then everything an attacker might try. */
const value = fc.oneof(
  fc.constantFrom(
    "",
    "0",
    "1",
    "50",
    "200",
    "201",
    "-1",
    "1e3",
    "0x10",
    " 5",
    "5 ",
    "999999999999999",
    "9999999999999999",
  ),
  fc.nat({ max: 300 }).map(String),
  fc.constantFrom(...AUDIT_ACTIONS, "message.posted", "AUTH.SIGNED_IN", "auth.*", "admin"),
  fc.constantFrom(
    "root",
    "u_x",
    "' OR 1=1 --",
    "%",
    "_",
    "\u0000",
    "\t",
    "👍".repeat(40),
    "a".repeat(65),
    " ".repeat(3),
  ),
  fc.string({ maxLength: 80 }),
);
const params = fc.dictionary(
  fc.constantFrom("actor", "action", "since", "until", "before", "limit", "cursor", "__proto__"),
  value,
  { maxKeys: 5 },
);

describe("fuzzed queries", () => {
  it(`${RUNS} generated queries: a page or the contract's 400, never a 5xx or a leak`, async () => {
    await fc.assert(
      fc.asyncProperty(params, async (query) => {
        const search = new URLSearchParams(Object.entries(query)).toString();
        const answer = await call(server.url, "GET", `/api/admin/audit?${search}`, {
          token: root.token,
        });
        const verdict = auditQueryVerdict(Object.fromEntries(new URLSearchParams(search)));
        const what = `${search} (${verdict}): ${answer.status} ${answer.text.slice(0, 200)}`;
        expect(answer.status, what).toBeLessThan(500);
        if (answer.status === 400) {
          expect(errorBodyProblem(400, answer.json, answer.text), what).toBeUndefined();
          expect((answer.json as { error: { code: string } }).error.code, what).toBe("bad_request");
          expect(verdict, what).not.toBe("ok");
          return;
        }
        expect(answer.status, what).toBe(200);
        expect(verdict, what).not.toBe("bad");
        const page = answer.json as { entries: { seq: number }[]; nextBefore: number | null };
        const limit = Number(new URLSearchParams(search).get("limit") ?? 50);
        expect(page.entries.length, what).toBeLessThanOrEqual(limit);
        const seqs = page.entries.map((e) => e.seq);
        expect(seqs, what).toEqual([...seqs].sort((a, b) => b - a));
      }),
      { numRuns: RUNS },
    );
  });
});
