/**
 * A room with the content of a real conversation, written through the public REST API as
 * clients write it: registered members (so that every authenticated request also asks the
 * reader's account whether the session is live, as in production), messages of varied length
 * from a few talkative authors and several quiet ones, replies, reactions from several members,
 * edits, a few deletions, two moderators and a muted member. A fixed seed makes every run's
 * room the same but for its timestamps, ids and tokens.
 */
import { randomBytes } from "node:crypto";
import { WebSocket } from "ws";
import { BEARER_PREFIX, SUBPROTOCOL } from "../../src/protocol/index.ts";
import { call } from "../http.ts";
import { withTimeout } from "../util.ts";

export type SeedOptions = {
  room: string;
  members: number;
  messages: number;
  /** Members connected to the room's chat while the bench reads, so that "online" names some. */
  online: number;
  log: (line: string) => void;
};

export type SeededRoom = {
  room: string;
  /** The token of the member who reads the page (not the owner: an ordinary member). */
  readerToken: string;
  /** Closes the online members' sockets. */
  close(): void;
  counts: {
    online: number;
    members: number;
    messages: number;
    reactions: number;
    edits: number;
    deletions: number;
    replies: number;
  };
};

const FIRST_NAMES = [
  "ada",
  "grace",
  "linus",
  "barbara",
  "edsger",
  "margaret",
  "ken",
  "frances",
  "donald",
  "radia",
  "dennis",
  "sophie",
  "alan",
  "hedy",
  "niklaus",
  "karen",
];
const WORDS = (
  "the build is green again after the flaky test was fixed we should ship the release " +
  "candidate on friday unless someone objects I reviewed the pull request and left a few " +
  "comments about naming can you take a look at the migration before we merge it latency " +
  "dropped by half once the cache was warm thanks for the quick turnaround let's move the " +
  "standup to ten tomorrow the dashboard shows a spike around noon probably the batch job " +
  "I can pair on this after lunch does anyone remember why we pinned that version"
).split(" ");
const EMOJI = ["👍", "❤️", "😂", "🎉", "👀", "🚀"];

/** mulberry32: a small seeded generator, so that every run writes the same room. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
  };
}

type Json = Record<string, unknown>;

/** One setup request, waiting out 429s (commands are idempotent). */
const api = (base: string, method: string, path: string, token?: string, body?: Json) =>
  call<Json>(base, method, path, token, body, 20);

type Person = { name: string; id: string; token: string };

async function register(base: string, name: string): Promise<Person> {
  const password = randomBytes(12).toString("base64url");
  const session = await api(base, "POST", "/api/auth/register", undefined, {
    username: name,
    password,
  });
  const user = session.user as { id: string };
  return { name, id: user.id, token: session.token as string };
}

/** A chat line of 3–40 words; now and then a long one (a pasted log or a careful answer). */
function sentence(rand: ReturnType<typeof seeded>): string {
  const words = rand.chance(0.05) ? 60 + rand.int(60) : 3 + rand.int(rand.chance(0.3) ? 37 : 12);
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[rand.int(WORDS.length)]!);
  const text = out.join(" ");
  return text[0]!.toUpperCase() + text.slice(1) + (rand.chance(0.2) ? "?" : ".");
}

/** A member's plain edgechat.v1 socket, open once the room has welcomed it. */
function connect(base: string, room: string, who: Person): Promise<WebSocket> {
  const url = new URL(`/api/rooms/${room}/ws`, base);
  url.protocol = "ws:";
  const socket = new WebSocket(url, [SUBPROTOCOL, BEARER_PREFIX + who.token]);
  return withTimeout(
    new Promise<WebSocket>((resolve, reject) => {
      socket.on("message", (data: Buffer) => {
        if ((JSON.parse(data.toString()) as { type: string }).type === "welcome") resolve(socket);
      });
      socket.on("error", reject);
      socket.on("close", (code) => reject(new Error(`${who.name}'s socket closed (${code})`)));
    }),
    30_000,
    `${who.name}'s socket`,
  );
}

export async function seedRoom(base: string, options: SeedOptions): Promise<SeededRoom> {
  const rand = seeded(12);
  const suffix = randomBytes(3).toString("hex");
  const people: Person[] = [];
  for (let i = 0; i < options.members; i++) {
    const first = FIRST_NAMES[i % FIRST_NAMES.length]!;
    people.push(await register(base, `${first}-${i}-${suffix}`));
  }
  const [owner, reader] = people as [Person, Person];
  const room = options.room;
  await api(base, "POST", "/api/rooms", owner.token, {
    name: room,
    topic: "Release planning for 2.0: decisions, links and who does what",
    visibility: "public",
  });
  options.log(`  seed: ${people.length} registered members, room ${room}`);

  let command = 0;
  const send = (who: Person, frame: Json) =>
    api(base, "POST", `/api/rooms/${room}/commands`, who.token, {
      ...frame,
      clientId: `seed-${++command}`,
    }).then((posted) => posted.seq as number);

  // A few talkative authors and a long tail: the first five write about three quarters.
  const author = (i: number) =>
    i < people.length
      ? people[i]!
      : people[rand.chance(0.75) ? rand.int(5) : rand.int(people.length)]!;
  const posted: { id: number; by: Person }[] = [];
  let replies = 0;
  for (let i = 0; i < options.messages; i++) {
    const by = author(i); // everyone posts once first: posting joins a public room
    const replyTo =
      posted.length > 5 && rand.chance(0.15)
        ? posted[posted.length - 1 - rand.int(5)]!.id
        : undefined;
    if (replyTo !== undefined) replies++;
    const id = await send(by, {
      type: "post",
      text: sentence(rand),
      ...(replyTo ? { replyTo } : {}),
    });
    posted.push({ id, by });
  }
  options.log(`  seed: ${posted.length} messages`);

  let reactions = 0;
  let edits = 0;
  let deletions = 0;
  for (const message of posted) {
    if (rand.chance(0.35)) {
      const picked = EMOJI.filter(() => rand.chance(0.3)).slice(0, 3);
      for (const emoji of picked.length ? picked : [EMOJI[rand.int(EMOJI.length)]!]) {
        const reactors = new Set(
          Array.from({ length: 1 + rand.int(5) }, () => people[rand.int(people.length)]!),
        );
        for (const who of reactors) {
          await send(who, { type: "react", messageId: message.id, emoji, on: true });
          reactions++;
        }
      }
    }
    if (rand.chance(0.1)) {
      await send(message.by, {
        type: "edit",
        messageId: message.id,
        text: `${sentence(rand)} (edited)`,
      });
      edits++;
    } else if (rand.chance(0.02)) {
      await send(message.by, { type: "delete", messageId: message.id });
      deletions++;
    }
  }
  // Two moderators and a muted member, so that the member list has every shape.
  await send(owner, { type: "role", userId: people[2]!.id, role: "moderator" });
  await send(owner, { type: "role", userId: people[3]!.id, role: "moderator" });
  await send(owner, { type: "mute", userId: people.at(-1)!.id, seconds: 24 * 60 * 60 });
  options.log(
    `  seed: ${reactions} reactions, ${edits} edits, ${deletions} deletions, ${replies} replies`,
  );
  // Some members have the room open (not the reader, whose page is being fetched).
  const sockets = await Promise.all(
    people.slice(4, 4 + options.online).map((who) => connect(base, room, who)),
  );
  return {
    room,
    readerToken: reader.token,
    close: () => sockets.forEach((socket) => socket.close()),
    counts: {
      members: people.length,
      online: sockets.length,
      messages: posted.length,
      reactions,
      edits,
      deletions,
      replies,
    },
  };
}
