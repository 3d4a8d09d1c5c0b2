import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/room/group-commit.ts";

/** A group commit whose "durability" is a promise the test resolves by hand. */
function harness(limits = { maxQueued: 100, maxWaitMs: 250, maxLagMs: 500 }) {
  const batches: string[][] = [];
  let release: () => void = () => undefined;
  const commits = new GroupCommit<string>(
    (jobs) => batches.push(jobs),
    () => new Promise<void>((resolve) => (release = resolve)),
    limits,
  );
  const settle = async () => {
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { commits, batches, settle };
}

describe("GroupCommit", () => {
  it("runs a command at once when the room is idle: nothing waits for company", () => {
    const { commits, batches } = harness();
    expect(commits.offer("a", 0)).toEqual({ ok: true });
    expect(batches).toEqual([["a"]]);
  });

  it("writes what arrived during a commit together, in arrival order, in the next turn", async () => {
    const { commits, batches, settle } = harness();
    commits.offer("a", 0);
    for (const job of ["b", "c", "d"]) commits.offer(job, 1);
    expect(batches).toEqual([["a"]]);
    await settle();
    expect(batches).toEqual([["a"], ["b", "c", "d"]]);
    await settle();
    expect(commits.running).toBe(false);
    commits.offer("e", 10);
    expect(batches.at(-1)).toEqual(["e"]);
  });

  it("refuses past its limits, saying when to come back, instead of queueing without end", async () => {
    const { commits, batches, settle } = harness({ maxQueued: 2, maxWaitMs: 250, maxLagMs: 500 });
    commits.offer("a", 0);
    commits.offer("b", 0);
    commits.offer("c", 0);
    const full = commits.offer("d", 0);
    expect(full.ok).toBe(false);
    expect(commits.backlog(0)).toMatchObject({ queued: 2, oldestWaitMs: 0 });
    // The oldest waiting command has waited too long: the room is behind, new work is refused.
    await settle();
    commits.offer("e", 300);
    commits.offer("f", 400);
    const late = commits.offer("g", 600);
    expect(late).toEqual({ ok: false, retryAfterMs: 600 });
    await settle();
    expect(batches).toEqual([["a"], ["b", "c"], ["e", "f"]]);
  });

  it("refuses while the room's events reach its clients too late, though its queue is empty", () => {
    const { commits, batches } = harness();
    expect(commits.offer("a", 0, 800)).toEqual({ ok: false, retryAfterMs: 1600 });
    expect(commits.offer("b", 0, 400)).toEqual({ ok: true });
    expect(batches).toEqual([["b"]]);
  });
});

describe("GroupCommit's turns", () => {
  it("takes at most the bounded number of commands a turn, in order, the rest in the next", async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const commits = new GroupCommit<number>(
      (jobs) => batches.push(jobs),
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    commits.boundTurns(() => 3);
    for (let i = 0; i < 8; i++) commits.offer(i, 0);
    for (let turn = 0; turn < 4; turn++) {
      release();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(batches).toEqual([[0], [1, 2, 3], [4, 5, 6], [7]]);
  });
});
