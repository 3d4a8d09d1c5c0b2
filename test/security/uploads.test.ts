/**
 * Uploads and files under attack (docs/attachments.md), against a real server (wrangler dev with
 * its local R2): who may upload (members who may post: not strangers, not the muted) and who may
 * read (whoever may read the room's history); sizes declared and actual, parts of the wrong size,
 * a huge Content-Length and none; bytes of the wrong type for their kind, HTML named .png, SVG,
 * the GIF polyglot; someone else's upload, another room's ids, malformed ids; names with `../`
 * and control characters. Every refusal is the contract's error body, and changes nothing.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Attachment, Upload } from "../../src/protocol/attachments.ts";
import {
  call,
  command,
  createRoom,
  expectError,
  invite,
  register,
  roomName,
  SECURITY_VARS,
  signInGuest,
  startServer,
  withoutIds,
  type Answer,
  type TestServer,
  type Who,
} from "./helpers.ts";

let server: TestServer;
let olga: Who; // owner of both rooms
let kim: Who; // member of both
let mia: Who; // member of the public room, muted
let nina: Who; // registered, member of neither
let gus: Who; // a guest, member of neither
const pub = roomName("upub");
const priv = roomName("upriv");
const ghost = roomName("ughost");
let n = 0;
const cid = () => `sec-up-${++n}`;

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  const base = server.url;
  olga = await register(base, "olga");
  kim = await register(base, "kim");
  mia = await register(base, "mia");
  nina = await register(base, "nina");
  gus = await signInGuest(base, "gus");
  await createRoom(base, olga, pub);
  await createRoom(base, olga, priv, "private");
  await invite(base, olga, pub, "kim");
  await invite(base, olga, pub, "mia");
  await invite(base, olga, priv, "kim");
  await command(base, olga, pub, {
    type: "mute",
    clientId: cid(),
    userId: mia.user.id,
    seconds: 3600,
  });
});
afterAll(async () => server?.dispose());

const text = (s: string) => new TextEncoder().encode(s);
const PNG_HEAD = [
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
];

/** A PNG's signature and IHDR, padded to `size`. */
function png(size = 64): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(PNG_HEAD);
  return bytes;
}

const open = (room: string, who: Who, body: Record<string, unknown>) =>
  call(server.url, "POST", `/api/rooms/${room}/uploads`, { token: who.token, body });

/** One part's bytes, with the Content-Length fetch computes from them. */
async function sendPart(
  room: string,
  who: Who,
  id: string,
  part: number | string,
  bytes: Uint8Array,
): Promise<Answer> {
  const response = await fetch(`${server.url}/api/rooms/${room}/uploads/${id}/parts/${part}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${who.token}`, "content-type": "application/octet-stream" },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
  const body = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text: body, json };
}

/** Opens an upload of `bytes` as `kind` and sends its one part: the upload and the part's answer. */
async function tryUpload(
  room: string,
  who: Who,
  kind: "voice" | "image" | "file",
  name: string,
  bytes: Uint8Array,
): Promise<{ upload: Upload; part: Answer }> {
  const voice = kind === "voice" ? { durationMs: 1000 } : {};
  const opened = await open(room, who, { kind, name, size: bytes.length, ...voice });
  expect(opened.status, opened.text).toBe(201);
  const upload = Upload.parse(opened.json);
  return { upload, part: await sendPart(room, who, upload.id, 1, bytes) };
}

/** Uploads, completes and posts `bytes`: the attachment. */
async function posted(
  room: string,
  who: Who,
  kind: "image" | "file",
  name: string,
  bytes: Uint8Array,
) {
  const { upload, part } = await tryUpload(room, who, kind, name, bytes);
  expect(part.status, part.text).toBe(200);
  const done = await call(server.url, "POST", `/api/rooms/${room}/uploads/${upload.id}/complete`, {
    token: who.token,
  });
  expect(done.status, done.text).toBe(200);
  const attachment = Attachment.parse(done.json);
  await command(server.url, who, room, {
    type: "post",
    clientId: cid(),
    attachments: [attachment.id],
  });
  return attachment;
}

const getFile = (room: string, who: Who, id: string) =>
  call(server.url, "GET", `/api/rooms/${room}/attachments/${id}`, { token: who.token });

/**
 * A part PUT written by hand on a socket, with the head `headers` and no more than `body`: a
 * Content-Length fetch would never send, or none at all. The answer's status and body.
 */
function rawPut(path: string, token: string, headers: string[], body = ""): Promise<Answer> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        [
          `PUT ${path} HTTP/1.1`,
          `host: ${url.host}`,
          `authorization: Bearer ${token}`,
          "content-type: application/octet-stream",
          "connection: close",
          ...headers,
          "",
          body,
        ].join("\r\n"),
      );
    });
    let raw = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      raw += chunk;
      const head = raw.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(raw.slice(0, head));
      if (head >= 0 && length && raw.length >= head + 4 + Number(length[1])) socket.destroy();
    });
    socket.on("close", () => {
      const [head = "", rest = ""] = raw.split("\r\n\r\n");
      const status = Number(head.split(" ")[1]);
      const body = rest.startsWith("{")
        ? rest
        : rest.slice(rest.indexOf("{"), rest.lastIndexOf("}") + 1);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      resolve({ status, headers: new Headers(), text: body, json });
    });
    socket.on("error", reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error("no answer in 15 s")));
  });
}

describe("who may upload", () => {
  it("not a stranger in a public room, nor a guest: members only", async () => {
    for (const who of [nina, gus]) {
      const answer = await open(pub, who, { kind: "file", name: "x.bin", size: 10 });
      expectError(answer, 403, "forbidden", `${who.user.name} opens`);
      expect(answer.text).toMatch(/only members upload/);
    }
  });

  it("not a muted member", async () => {
    const answer = await open(pub, mia, { kind: "file", name: "x.bin", size: 10 });
    expectError(answer, 403, "forbidden", "muted");
    expect(answer.text).toMatch(/muted until/);
  });

  it("in a private room, outsiders get the never-created room's 404, word for word", async () => {
    for (const who of [nina, gus]) {
      const real = await open(priv, who, { kind: "file", name: "x.bin", size: 10 });
      const never = await open(ghost, who, { kind: "file", name: "x.bin", size: 10 });
      expectError(real, 404, "not_found", `${who.user.name} private`);
      expect(withoutIds(real.text)).toBe(withoutIds(never.text));
    }
  });
});

describe("who may read a file", () => {
  it("whoever may read the room's history: in a public room, a non-member too", async () => {
    const attachment = await posted(pub, kim, "image", "cat.png", png());
    for (const who of [olga, kim, nina, gus]) {
      const answer = await getFile(pub, who, attachment.id);
      expect(answer.status, `${who.user.name}: ${answer.text}`).toBe(200);
    }
  });

  it("in a private room, only its members; a banned member no longer", async () => {
    const attachment = await posted(priv, kim, "file", "plan.bin", text("\x00secret plan"));
    expect((await getFile(priv, olga, attachment.id)).status).toBe(200);
    for (const who of [nina, gus]) {
      const real = await getFile(priv, who, attachment.id);
      const never = await getFile(ghost, who, attachment.id);
      expectError(real, 404, "not_found", `${who.user.name} private file`);
      expect(withoutIds(real.text)).toBe(withoutIds(never.text));
    }
  });

  it("a banned user of a public room is refused with 403", async () => {
    const attachment = await posted(pub, kim, "image", "dog.png", png(80));
    const troll = await register(server.url, "troll");
    expect((await getFile(pub, troll, attachment.id)).status).toBe(200);
    await command(server.url, olga, pub, { type: "ban", clientId: cid(), userId: troll.user.id });
    expectError(await getFile(pub, troll, attachment.id), 403, "forbidden", "banned");
  });
});

describe("sizes", () => {
  it("refuses a declared size over the kind's limit with too_large", async () => {
    for (const [kind, size, extra] of [
      ["voice", 10 * 1024 * 1024 + 1, { durationMs: 1000 }],
      ["image", 25 * 1024 * 1024 + 1, {}],
      ["file", 100 * 1024 * 1024 + 1, {}],
    ] as const) {
      const answer = await open(pub, kim, { kind, name: "big", size, ...extra });
      expectError(answer, 413, "too_large", kind);
    }
  });

  it("refuses a part larger than its size (too_large) and a shorter one (bad_request)", async () => {
    const opened = await open(pub, kim, { kind: "file", name: "ten.bin", size: 10 });
    const { id } = Upload.parse(opened.json);
    expectError(await sendPart(pub, kim, id, 1, new Uint8Array(11)), 413, "too_large", "longer");
    expectError(await sendPart(pub, kim, id, 1, new Uint8Array(9)), 400, "bad_request", "shorter");
    expectError(await sendPart(pub, kim, id, 2, new Uint8Array(1)), 400, "bad_request", "part 2");
    for (const part of ["0", "-1", "x", "1.5", "10001"])
      expectError(await sendPart(pub, kim, id, part, new Uint8Array(10)), 400, "bad_request", part);
    const seen = Upload.parse(
      (await call(server.url, "GET", `/api/rooms/${pub}/uploads/${id}`, { token: kim.token })).json,
    );
    expect(seen.received).toEqual([]);
  });

  it("refuses a part over 5 MiB by its Content-Length, and a part without one", async () => {
    const opened = await open(pub, kim, { kind: "file", name: "five.bin", size: 5 });
    const { id } = Upload.parse(opened.json);
    // A huge Content-Length (1e14) is refused the same way (test/unit/media.test.ts); through
    // wrangler dev's proxy a client must send the body it declared to read the answer.
    const over = await sendPart(pub, kim, id, 1, new Uint8Array(5 * 1024 * 1024 + 1));
    expectError(over, 413, "too_large", "over 5 MiB");
    const path = `/api/rooms/${pub}/uploads/${id}/parts/1`;
    const chunked = await rawPut(
      path,
      kim.token,
      ["transfer-encoding: chunked"],
      "5\r\nhello\r\n0\r\n\r\n",
    );
    expectError(chunked, 400, "bad_request", "chunked");
    expect(chunked.text).toMatch(/Content-Length is required/);
  });
});

describe("types read from the bytes", () => {
  const HTML = text("<!doctype html><html><body><script>alert(1)</script></body></html>");
  const SVG = text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

  it("refuses a voice upload that is an image", async () => {
    const { part } = await tryUpload(pub, kim, "voice", "memo.webm", png());
    expectError(part, 415, "unsupported_type", "png as voice");
    expect(part.text).toMatch(/these bytes are image\/png/);
  });

  it("refuses HTML named .png, as an image and as a file, and SVG, whatever the name", async () => {
    for (const [kind, name, bytes] of [
      ["image", "cat.png", HTML],
      ["file", "cat.png", HTML],
      ["file", "page.html", HTML],
      ["image", "logo.svg", SVG],
      ["file", "logo.png", SVG],
    ] as const) {
      const { upload, part } = await tryUpload(pub, kim, kind, name, bytes);
      expectError(part, 415, "unsupported_type", `${kind} ${name}`);
      // Nothing stored: completing has no part 1 to assemble.
      const done = await call(
        server.url,
        "POST",
        `/api/rooms/${pub}/uploads/${upload.id}/complete`,
        {
          token: kim.token,
        },
      );
      expectError(done, 400, "bad_request", `complete ${name}`);
    }
  });

  it("takes the GIF polyglot as an image, and serves it so that its script never runs", async () => {
    const attachment = await posted(
      pub,
      kim,
      "image",
      "x.gif",
      text("GIF89a<script>alert(1)</script>"),
    );
    expect(attachment.type).toBe("image/gif");
    const served = await getFile(pub, nina, attachment.id);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/gif");
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    expect(served.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(served.headers.get("cross-origin-resource-policy")).toBe("same-origin");
  });

  it("serves a file that is text as a download, never inline", async () => {
    const attachment = await posted(pub, kim, "file", "notes.txt", text("just <b>notes</b>"));
    const served = await getFile(pub, nina, attachment.id);
    expect(served.headers.get("content-type")).toBe("application/octet-stream");
    expect(served.headers.get("content-disposition")).toMatch(/^attachment; /);
  });
});

describe("ids", () => {
  it("someone else's upload is not found, as a missing one is, on every route", async () => {
    const { upload } = await tryUpload(pub, kim, "image", "mine.png", png());
    const missing = "ZZZZZZZZZZZZZZZZZZZZZZ";
    const routes: [string, string, unknown?][] = [
      ["GET", ""],
      ["POST", "/complete"],
      ["DELETE", ""],
    ];
    for (const [method, tail] of routes) {
      const theirs = await call(
        server.url,
        method,
        `/api/rooms/${pub}/uploads/${upload.id}${tail}`,
        {
          token: olga.token,
        },
      );
      const none = await call(server.url, method, `/api/rooms/${pub}/uploads/${missing}${tail}`, {
        token: olga.token,
      });
      expectError(theirs, 404, "not_found", `${method} ${tail}`);
      expect(withoutIds(theirs.text).replace(upload.id, missing)).toBe(withoutIds(none.text));
    }
    expectError(await sendPart(pub, olga, upload.id, 1, png()), 404, "not_found", "PUT theirs");
    const post = await call(server.url, "POST", `/api/rooms/${pub}/commands`, {
      token: olga.token,
      body: { type: "post", clientId: cid(), attachments: [upload.id] },
    });
    expectError(post, 404, "not_found", "post theirs");
    // Still kim's, untouched.
    const seen = await call(server.url, "GET", `/api/rooms/${pub}/uploads/${upload.id}`, {
      token: kim.token,
    });
    expect(Upload.parse(seen.json).received).toEqual([1]);
  });

  it("an id of another room is unknown in this one", async () => {
    const attachment = await posted(pub, kim, "image", "here.png", png());
    expectError(await getFile(priv, kim, attachment.id), 404, "not_found", "file elsewhere");
    const upload = await call(server.url, "GET", `/api/rooms/${priv}/uploads/${attachment.id}`, {
      token: kim.token,
    });
    expectError(upload, 404, "not_found", "upload elsewhere");
    const post = await call(server.url, "POST", `/api/rooms/${priv}/commands`, {
      token: kim.token,
      body: { type: "post", clientId: cid(), attachments: [attachment.id] },
    });
    expectError(post, 404, "not_found", "post elsewhere");
  });

  it("a malformed id is a bad request on every route", async () => {
    for (const id of [
      "short",
      "A".repeat(23),
      "AAAAAAAAAAAAAAAAAAAA.A",
      "..%2F..%2Fetc%2Fpasswd",
      "%00AAAAAAAAAAAAAAAAAAAAA",
    ]) {
      for (const [method, path] of [
        ["GET", `/uploads/${id}`],
        ["POST", `/uploads/${id}/complete`],
        ["DELETE", `/uploads/${id}`],
        ["GET", `/attachments/${id}`],
      ]) {
        const answer = await call(server.url, method!, `/api/rooms/${pub}${path}`, {
          token: kim.token,
        });
        expect([400, 404], `${method} ${path}: ${answer.text}`).toContain(answer.status);
        expectError(
          answer,
          answer.status,
          answer.status === 400 ? "bad_request" : "not_found",
          path!,
        );
      }
      expect((await sendPart(pub, kim, id, 1, png())).status).toBeGreaterThanOrEqual(400);
    }
  });
  it("takes a part number only in plain digits: not 1e0, 0x1, +1, 1.0 or with spaces", async () => {
    const { upload } = await tryUpload(pub, kim, "file", "digits.bin", text("\x00ten bytes"));
    for (const part of [
      "1e0",
      "0x1",
      "+1",
      "1.0",
      "%201",
      "1%20",
      "-1",
      "0",
      "10001",
      "99999999",
    ]) {
      const answer = await sendPart(pub, kim, upload.id, part, text("\x00ten bytes"));
      expectError(answer, 400, "bad_request", `part ${part}`);
    }
    const status = await call(server.url, "GET", `/api/rooms/${pub}/uploads/${upload.id}`, {
      token: kim.token,
    });
    // Only the one honest part 1 tryUpload sent is in.
    expect(Upload.parse(status.json).received).toEqual([1]);
  });
});

describe("names", () => {
  it("refuses a name with a slash or a control character", async () => {
    for (const name of [
      "../../etc/passwd",
      "..\\..\\boot.ini",
      "a\u0000b.png",
      "a\r\nb.png",
      "tab\there",
      "\u007f",
    ]) {
      const answer = await open(pub, kim, { kind: "file", name, size: 10 });
      expectError(answer, 400, "bad_request", JSON.stringify(name));
    }
  });

  it("refuses a name with bidirectional controls, which show it as another (…\u202Efdp.exe)", async () => {
    for (const name of ["invoice\u202Efdp.exe", "a\u202Ab.png", "a\u2066b\u2069.png", "\u202Dx"]) {
      const answer = await open(pub, kim, { kind: "file", name, size: 10 });
      expectError(answer, 400, "bad_request", JSON.stringify(name));
      expect(answer.text).toContain("bidirectional controls");
    }
    // Right-to-left names themselves are names like any other.
    expect((await open(pub, kim, { kind: "file", name: "מסמך.pdf", size: 10 })).status).toBe(201);
  });

  it("serves a name with quotes and non-ASCII in both forms, no header injected", async () => {
    const name = 'x"; filename=evil.html ünï 🎤.bin';
    const attachment = await posted(pub, kim, "file", name, text("\x00data"));
    const served = await getFile(pub, kim, attachment.id);
    const disposition = served.headers.get("content-disposition")!;
    expect(disposition).toBe(
      `attachment; filename="x_; filename=evil.html _n_ _.bin"; filename*=UTF-8''x%22%3B%20filename%3Devil.html%20%C3%BCn%C3%AF%20%F0%9F%8E%A4.bin`,
    );
    expect(decodeURIComponent(disposition.split("UTF-8''")[1]!)).toBe(name);
  });
});
