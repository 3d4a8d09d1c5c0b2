/**
 * The worker's logs, read as an operator reads them: everything the real worker and its Durable
 * Objects print during a session (wrangler passes their console on to this process's) is one
 * JSON object per line with a level and a request id, and no line holds a password, a token, an
 * API key, a cookie or what anyone wrote.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { closeAll, connect, roomName, startServer, waitUntil, type TestServer } from "./helpers.ts";

const unique = (label: string) => `${label}-${randomBytes(6).toString("hex")}`;

let server: TestServer;
const printed: string[] = [];

beforeAll(async () => {
  server = await startServer({
    logLevel: "log",
    vars: { ADMIN_USERNAMES: "root", LOG_LEVEL: "debug" },
  });
  // From here on: the worker's lines, not wrangler's start-up banner.
  for (const method of ["log", "info", "warn", "error", "debug"] as const)
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(" "));
    });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await closeAll();
  await server?.dispose();
});

/** The lines the worker printed: wrangler's own request lines (`[wrangler:info] GET …`) aside. */
const workerLines = () =>
  printed
    .flatMap((chunk) => chunk.split("\n"))
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("[wrangler:"));

it("logs one JSON line per request and per command, with ids, and never a secret or a message", async () => {
  const password = unique("correct-horse-password");
  const wrongPassword = unique("wrong-password");
  const texts = [unique("secret-text-http"), unique("secret-text-ws"), unique("secret-text-bot")];
  const topic = unique("secret-topic");
  const badTokens = [
    `eyJhbGciOiJIUzI1NiJ9.${unique("bad")}.${unique("sig")}`,
    unique("not-a-token"),
  ];
  const cookie = unique("refresh-cookie");

  const api = new EdgechatApi(server.url);
  const root = await api.register("root", password);
  const login = await api.login("root", password);
  await api.login("root", wrongPassword).catch(() => undefined);
  const admin = api.withToken(login.token);
  const room = roomName("logs");
  await admin.createRoom({ name: room });
  const issued = await admin.admin.createService({
    name: "log-bot",
    scope: { rooms: [room], actions: ["post"], role: "member" },
  });
  await admin.postMessage(room, { text: texts[0]!, clientId: "log-http" });
  await admin.command(room, { type: "topic", clientId: "log-topic", topic });
  const client = await connect(server.url, room, { ...root, token: login.token, api: admin });
  const wsSeq = await client.conn.post(texts[1]!);
  const bot = new EdgechatApi(server.url, issued.key.secret);
  await bot.postMessage(room, { text: texts[2]!, clientId: "log-bot" });
  for (const token of badTokens) {
    const refused = await fetch(`${server.url}/api/rooms/${room}`, {
      headers: { authorization: `Bearer ${token}`, cookie: `edgechat_refresh=${cookie}` },
    });
    expect(refused.status).toBe(401);
  }

  const lines: string[] = await waitUntil(() => {
    const found = workerLines();
    const parsed = found.map((line) => JSON.parse(line) as Record<string, unknown>);
    const wsCommand = parsed.some((l) => l.msg === "command" && l.seq === wsSeq);
    return wsCommand && parsed.filter((l) => l.status === 401).length >= 2 ? found : undefined;
  }, "the session's log lines");

  const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const record of records) {
    expect(["debug", "info", "warn", "error"]).toContain(record.level);
    expect(record.requestId, JSON.stringify(record)).toEqual(expect.any(String));
  }
  // One line per request, with what an operator needs and who asked.
  const posted = records.find(
    (r) => r.msg === "request" && r.route === "/api/rooms/:room/messages" && r.status === 201,
  );
  expect(posted).toMatchObject({
    level: "info",
    method: "POST",
    userId: login.user.id,
    durationMs: expect.any(Number),
  });
  const wrong = records.find((r) => r.route === "/api/auth/login" && r.status === 401);
  expect(wrong).toBeDefined();
  // One line per command in the room, carrying the request id it came with.
  const command = records.find((r) => r.msg === "command" && r.requestId === posted?.requestId);
  expect(command).toMatchObject({
    room,
    type: "post",
    outcome: "ok",
    durationMs: expect.any(Number),
  });
  expect(records.find((r) => r.msg === "command" && r.type === "topic")).toBeDefined();
  expect(records.find((r) => r.msg === "command" && r.seq === wsSeq)).toMatchObject({
    transport: "websocket",
  });

  const all = lines.join("\n");
  const secrets = [
    password,
    wrongPassword,
    root.token,
    login.token,
    login.refreshToken,
    issued.key.secret,
    cookie,
    topic,
    ...texts,
    ...badTokens,
  ].filter((secret): secret is string => typeof secret === "string" && secret.length > 0);
  for (const secret of secrets) expect(all).not.toContain(secret);
});
