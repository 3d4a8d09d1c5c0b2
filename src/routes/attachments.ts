import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/app-env.ts";
import { signedIn } from "../http/authenticate.ts";
import { ApiError } from "../http/api-error.ts";
import { errors, router, unwrap } from "../http/openapi.ts";
import { RoomName } from "../protocol/index.ts";
import { AttachmentId } from "../protocol/attachments.ts";
import {
  contentRange,
  etagMatches,
  FILE_CSP,
  parseRange,
  servingHeaders,
} from "../media/serving.ts";

/**
 * Serving a room's files (docs/attachments.md, "Serving files"): for whoever may read the room,
 * from R2, with the headers that keep a file from ever being a page of the UI's origin.
 */
export const attachments = router();

/** Where files are served: the app's CSP is replaced there (attachmentPolicy). */
export const ATTACHMENTS_PATH = "/api/rooms/:room/attachments/:id";

/**
 * Gives every answer of the file route the files' CSP (`default-src 'none'; sandbox`). Mounted
 * before the app's secureHeaders, which sets the app's policy on the way out, so that this one,
 * set last, is the one sent.
 */
export const attachmentPolicy = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.res.headers.set("content-security-policy", FILE_CSP);
});

const binary = z.string().openapi({ type: "string", format: "binary" });

attachments.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/attachments/{id}",
    summary: "A posted file's bytes",
    description:
      "For whoever may read the room's history, while its message is neither deleted nor " +
      "redacted; an uploader also reads their own complete upload before posting it. Served " +
      "with the type read from its bytes, `inline` for the accepted images and audio and " +
      "`attachment` for anything else, `X-Content-Type-Options: nosniff` and " +
      "`Content-Security-Policy: default-src 'none'; sandbox`. One `Range` (`bytes=a-b`, " +
      "`a-`, `-n`) answers 206, past the end 416; `If-None-Match` with its `ETag` answers 304.",
    ...signedIn,
    request: {
      params: z.object({ room: RoomName, id: AttachmentId }),
      headers: z.object({
        range: z.string().optional(),
        "if-none-match": z.string().optional(),
      }),
    },
    responses: {
      200: { content: { "application/octet-stream": { schema: binary } }, description: "the file" },
      206: {
        content: { "application/octet-stream": { schema: binary } },
        description: "the range asked for, with Content-Range",
      },
      304: { description: "not modified: the ETag matches" },
      416: { description: "the range starts past the end (Content-Range: bytes */size)" },
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room, id } = c.req.valid("param");
    const served = unwrap(await c.env.ROOM.getByName(room).attachment(c.var.user, id));
    const { attachment } = served;
    // Its bytes never change under its id: the id is its ETag, and a 304 costs no R2 read.
    const etag = `"${attachment.id}"`;
    const headers = servingHeaders(attachment, etag);
    if (etagMatches(c.req.header("if-none-match"), etag))
      return new Response(null, { status: 304, headers });
    const range = parseRange(c.req.header("range"), attachment.size);
    if (range.kind === "unsatisfiable") {
      headers.set("content-range", contentRange(attachment.size));
      return new Response(null, { status: 416, headers });
    }
    const part = range.kind === "part" ? range : undefined;
    const object = await c.env.FILES.get(
      served.key,
      part && { range: { offset: part.offset, length: part.length } },
    );
    // Listed but gone from R2 (its deletion ran between the room's answer and this read).
    if (!object) throw new ApiError("not_found", `no attachment ${id} here`);
    headers.set("content-length", String(part ? part.length : object.size));
    if (part) headers.set("content-range", contentRange(attachment.size, part));
    return new Response(object.body, { status: part ? 206 : 200, headers });
  },
);
