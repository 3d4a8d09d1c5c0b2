import { describe, expect, it } from "vitest";
import { AdminRoomList, Overview, type Session } from "../../src/protocol/index.ts";
import { call, Client, guest, newRoom } from "./helpers.ts";

const TOKEN = "worker-test-scrape-token";

const scrape = async () => {
  const res = await call("/metrics", { token: TOKEN });
  expect(res.status).toBe(200);
  return res.text();
};

/** The value of one series in the text format, 0 when absent. */
function valueOf(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return registered.json();
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  return signedIn.json();
}

const POSTED = 'edgechat_commands_total{type="post",outcome="ok"}';

describe("/metrics", () => {
  it("is refused without the scrape token, or with a wrong one", async () => {
    for (const token of [undefined, "wrong-token-of-some-length", `${TOKEN}x`]) {
      const res = await call("/metrics", token ? { token } : {});
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    // The first request of the file starts the worker.
  }, 20_000);

  it("serves the text format with every catalogued metric", async () => {
    const res = await call("/metrics", { token: TOKEN });
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    for (const name of ["http_requests_total", "commands_total", "commit_duration_seconds"])
      expect(text).toContain(`# TYPE edgechat_${name} `);
  });

  it("counts a room's commands, events, refusals and latency once its alarm pushed them", async () => {
    const before = await scrape();
    const ada = await guest("ada");
    const room = await newRoom(ada, "metered");
    for (let i = 0; i < 3; i++) {
      const res = await call(`/api/rooms/${room}/messages`, {
        method: "POST",
        token: ada.token,
        json: { text: `hello ${i}`, clientId: `m${i}` },
      });
      expect(res.status).toBe(201);
    }
    const refused = await call(`/api/rooms/${room}/messages`, {
      method: "POST",
      token: ada.token,
      json: { text: "hi", clientId: "r1", replyTo: 999 },
    });
    expect(refused.status).toBe(404);
    // Each push arrives on the room's alarm (50 ms here): wait for all of them.
    const counted = async () => {
      const after = await scrape();
      const diff = (series: string) => valueOf(after, series) - valueOf(before, series);
      return {
        posted: diff(POSTED),
        refused: diff('edgechat_commands_total{type="post",outcome="not_found"}'),
        appended: diff('edgechat_events_appended_total{type="message.posted"}'),
        committed: diff("edgechat_commit_duration_seconds_count"),
      };
    };
    await expect
      .poll(counted, { timeout: 5000 })
      .toEqual({ posted: 3, refused: 1, appended: 3, committed: 4 });
    const after = await scrape();
    const diff = (series: string) => valueOf(after, series) - valueOf(before, series);
    expect(diff('edgechat_api_errors_total{code="not_found"}')).toBeGreaterThanOrEqual(1);
    expect(
      diff(
        'edgechat_http_requests_total{route="/api/rooms/:room/messages",method="POST",status="201"}',
      ),
    ).toBe(3);
    // The room's name is never a label: routes are patterns.
    expect(after).not.toContain(room);
  });

  it("counts a big room's sockets on its fan-out shards, and their deliveries", async () => {
    const before = await scrape();
    const ada = await guest("ada");
    const room = await newRoom(ada, "big", 2);
    const people = await Promise.all(["bob", "cyd", "dia"].map((name) => guest(name)));
    const clients = await Promise.all(people.map((who) => Client.open(room, who)));
    clients[0]!.send({ type: "post", clientId: "p1", text: "to everyone" });
    await Promise.all(clients.map((client) => client.next("event")));
    const diffs = async () => {
      const after = await scrape();
      const diff = (series: string) => valueOf(after, series) - valueOf(before, series);
      return {
        sockets: diff('edgechat_sockets_open{kind="chat"}'),
        delivered: diff('edgechat_deliveries_total{transport="chat"}') >= 3,
      };
    };
    await expect.poll(diffs, { timeout: 5000 }).toEqual({ sockets: 3, delivered: true });
    for (const client of clients) client.close();
    await expect.poll(async () => (await diffs()).sockets, { timeout: 5000 }).toBe(0);
  });

  it("counts refused tokens", async () => {
    const before = await scrape();
    const res = await call("/api/auth/me", { token: "not.a.jwt" });
    expect(res.status).toBe(401);
    const series = 'edgechat_auth_failures_total{reason="token"}';
    expect(valueOf(await scrape(), series) - valueOf(before, series)).toBe(1);
  });
});

describe("the admin overview", () => {
  it("is for instance admins only", async () => {
    const bob = await guest("bob");
    for (const path of ["/api/admin/overview", "/api/admin/rooms"]) {
      expect((await call(path, { token: bob.token })).status).toBe(403);
      expect((await call(path)).status).toBe(401);
    }
  });

  it("shows the hour's windows, the gauges and the busiest rooms", async () => {
    const admin = await root();
    const ada = await guest("ada");
    const room = await newRoom(ada, "busy");
    for (let i = 0; i < 5; i++)
      await call(`/api/rooms/${room}/messages`, {
        method: "POST",
        token: ada.token,
        json: { text: `busy ${i}`, clientId: `b${i}` },
      });
    let overview: Overview | undefined;
    await expect
      .poll(
        async () => {
          const res = await call("/api/admin/overview", { token: admin.token });
          overview = Overview.parse(await res.json());
          return overview.busiestRooms.find((r) => r.name === room)?.recentEvents ?? 0;
        },
        { timeout: 5000 },
      )
      .toBeGreaterThanOrEqual(5);
    expect(overview!.series.at).toHaveLength(360);
    expect(overview!.series.windowSeconds).toBe(10);
    expect(overview!.now.replicaLagMs).toBeNull();

    const rooms = async (query: string) => {
      const res = await call(`/api/admin/rooms${query}`, { token: admin.token });
      expect(res.status).toBe(200);
      return AdminRoomList.parse(await res.json()).rooms;
    };
    const found = await rooms(`?q=${room.slice(0, 6)}&sort=activity`);
    expect(found.map((r) => r.name)).toContain(room);
    expect(found.every((r) => r.name.startsWith(room.slice(0, 6)))).toBe(true);
    const byName = await rooms("?sort=name");
    expect(byName.map((r) => r.name)).toEqual(
      byName.map((r) => r.name).toSorted((a, b) => a.localeCompare(b)),
    );
    expect((await call("/api/admin/rooms?sort=loudest", { token: admin.token })).status).toBe(400);
  });
});
