import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { roomEventStream } from "../../src/http/room-stream.ts";
import { ApiError } from "../../src/protocol/index.ts";
import { guest, newRoom, roomStub } from "./helpers.ts";

/**
 * A stream of a room's events (GraphQL over SSE, the RPC WatchRoom) whose consumer stops taking
 * them is ended with `unavailable` once it holds its backlog, rather than growing without end
 * (the room never waits for a reader): the consumer gets what it held, then the error, and
 * resumes with `since`.
 */
it("ends with unavailable, after the events it held, when its consumer falls a backlog behind", async () => {
  const ada = await guest("ada");
  const room = await newRoom(ada, "slow");
  const events = (await roomEventStream(env, room, 2, ada.user, 3))[Symbol.asyncIterator]();
  // Asking for the first event starts the stream; then the consumer stops asking.
  const first = events.next();
  const posted: number[] = [];
  for (let i = 0; i < 6; i++) {
    const result = await roomStub(room).command(
      { type: "post", clientId: `p${i}`, text: `${i}` },
      ada.user,
    );
    if (!result.ok) throw new Error(result.error.message);
    posted.push(result.value.seq);
  }
  // Let the room's socket deliver everything to the (idle) stream.
  await new Promise((wake) => setTimeout(wake, 200));
  const received: number[] = [(await first).value.seq];
  const ended = await (async () => {
    for (;;) {
      const next = await events.next();
      if (next.done) return undefined;
      received.push(next.value.seq);
    }
  })().catch((error: unknown) => error);
  expect(ended).toBeInstanceOf(ApiError);
  expect(ended).toMatchObject({ code: "unavailable" });
  expect((ended as ApiError).message).toMatch(/too far behind .* subscribe again with since/);
  // What it held came first, in order, and nothing past the backlog.
  expect(received.length).toBeGreaterThanOrEqual(3);
  expect(received).toEqual(posted.slice(0, received.length));
});
