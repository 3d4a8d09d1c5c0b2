import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { backfillChain, EventLog } from "../../src/room/log.ts";
import type { Room } from "../../src/room/room.ts";
import { call, guest, newRoom, roomStub } from "./helpers.ts";
import type { Session } from "../../src/protocol/index.ts";

/** A room with a few events, every one of them committed and anchored. */
async function roomWithPosts(owner: Session, n = 5): Promise<string> {
  const room = await newRoom(owner);
  for (let i = 1; i <= n; i++)
    await roomStub(room).command(
      { type: "post", clientId: `p${i}`, text: `post ${i}` },
      owner.user,
    );
  // The anchor hears of a commit just after it: wait until it has the last one.
  await expect
    .poll(async () => {
      const report = await roomStub(room).auditVerify(owner.user);
      return report.ok && report.value.ok && report.value.anchoredSeq === report.value.lastSeq;
    })
    .toBe(true);
  return room;
}

const verify = async (room: string, who: Session) => {
  const report = await roomStub(room).auditVerify(who.user);
  if (!report.ok) throw new Error(report.error.message);
  return report.value;
};

describe("the room's hash chain", () => {
  it("links every event to the one before and serves the hashes with the events", async () => {
    const ada = await guest("ada");
    const room = await roomWithPosts(ada);
    const report = await verify(room, ada);
    expect(report).toMatchObject({ ok: true, lastSeq: 7, anchoredSeq: 7 });
    const page = await (
      await call(`/api/rooms/${room}/events?after=0`, { token: ada.token })
    ).json<{
      events: { seq: number; hash: string; prevHash: string }[];
    }>();
    for (const [i, e] of page.events.entries()) {
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.prevHash).toBe(i === 0 ? "0".repeat(64) : page.events[i - 1]!.hash);
    }
    expect(page.events.at(-1)!.hash).toBe(report.ok && report.head);
  });

  it("reports one changed byte, a deleted event and a cut-off tail, each at its seq", async () => {
    const ada = await guest("ada");
    const changed = await roomWithPosts(ada);
    await runInDurableObject(roomStub(changed), (_room: Room, state) => {
      state.storage.sql.exec(
        "UPDATE events SET data = replace(data, 'post 3', 'post 8') WHERE seq = 5",
      );
    });
    expect(await verify(changed, ada)).toMatchObject({ ok: false, seq: 5, problem: /content/ });

    const deleted = await roomWithPosts(ada);
    await runInDurableObject(roomStub(deleted), (_room: Room, state) => {
      state.storage.sql.exec("DELETE FROM events WHERE seq = 4");
    });
    expect(await verify(deleted, ada)).toMatchObject({ ok: false, seq: 4, problem: /missing/ });

    const cut = await roomWithPosts(ada);
    await runInDurableObject(roomStub(cut), (_room: Room, state) => {
      state.storage.sql.exec("DELETE FROM events WHERE seq > 5");
    });
    expect(await verify(cut, ada)).toMatchObject({ ok: false, seq: 6, problem: /cut off/ });
  });

  it("is for owners and admins: a member is refused, an outsider of a private room sees nothing", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await roomWithPosts(ada, 1);
    await roomStub(room).command({ type: "post", clientId: "b", text: "hi" }, bob.user);
    const answer = await call(`/api/rooms/${room}/audit/verify`, { token: bob.token });
    expect(answer.status).toBe(403);
    const mine = await call(`/api/rooms/${room}/audit/verify`, { token: ada.token });
    expect(await mine.json()).toMatchObject({ ok: true, lastSeq: 5 });
    expect((await call("/api/rooms/no-such-room/audit/verify", { token: ada.token })).status).toBe(
      404,
    );
  });

  it("chains the events stored before the chain existed, and then verifies", async () => {
    const ada = await guest("ada");
    const room = await roomWithPosts(ada, 3);
    await runInDurableObject(roomStub(room), (_room: Room, state) => {
      state.storage.sql.exec(
        "UPDATE events SET content_hash = NULL, prev_hash = NULL, hash = NULL",
      );
      expect(backfillChain(state.storage)).toBe(5);
      expect(backfillChain(state.storage)).toBe(0);
      const log = new EventLog(state.storage.sql);
      expect(log.range(0, 10).every((e) => e.hash !== undefined)).toBe(true);
    });
    expect(await verify(room, ada)).toMatchObject({ ok: true, lastSeq: 5 });
  });
});
