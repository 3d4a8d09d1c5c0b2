import { createRoute, z } from "@hono/zod-openapi";
import type { Actor } from "../identity/actor.ts";
import { signedIn } from "../http/authenticate.ts";
import { ApiError } from "../http/api-error.ts";
import { errors, json, jsonBody, problemOf, router, unwrap } from "../http/openapi.ts";
import { RoomName } from "../protocol/index.ts";
import {
  Attachment,
  AttachmentId,
  NewUpload,
  PartReceipt,
  Upload,
} from "../protocol/attachments.ts";
import { sniffType } from "../media/sniff.ts";
import { declaredPartBytes } from "../media/parts.ts";
import { errorFields, log } from "../telemetry/log.ts";

/**
 * Uploading a file into a room (docs/attachments.md, "The HTTP contract"): the room keeps the
 * session (src/room/uploads.ts) and decides; the bytes go from here to R2, in parts of exactly
 * `partBytes`, so that the room's thread never carries them.
 */
export const uploads = router();

const UPLOADS = "/api/rooms/{room}/uploads";
const UploadParam = z.object({ room: RoomName, id: AttachmentId });
const PartParam = UploadParam.extend({
  // Plain decimal digits: coercion alone would take "1e0", "0x1" or " 1" for part 1.
  part: z
    .string()
    .regex(/^\d{1,5}$/, "a part number is a whole number from 1 to 10000")
    .transform(Number)
    .pipe(z.number().min(1, "parts are numbered from 1").max(10_000))
    .openapi({ type: "integer", minimum: 1, maximum: 10_000 }),
});

/** The part PUT: exempt from the app's 64 KiB body limit, capped at `partBytes` here instead. */
export const isUploadPart = (method: string, path: string): boolean =>
  method === "PUT" && /^\/api\/rooms\/[^/]+\/uploads\/[^/]+\/parts\/[^/]+$/.test(path);

type RoomStub = ReturnType<Env["ROOM"]["getByName"]>;

/**
 * A part's body, read whole. A client that drops its connection mid-part (a phone losing its
 * network, an upload cancelled) makes the read throw: that is the client's doing and the SDK sends
 * the part again, so it is a warning and a `bad_request` nobody hears, never an error-level
 * "unhandled error" and a 500.
 */
async function partBody(
  request: Request,
  what: { room: string; id: string; part: number; bytes: number },
): Promise<Uint8Array> {
  try {
    return new Uint8Array(await request.arrayBuffer());
  } catch (error) {
    log.warn("upload part dropped", { ...what, error: errorFields(error) });
    throw new ApiError(
      "bad_request",
      `the connection closed before part ${what.part}'s bytes arrived`,
    );
  }
}

/**
 * R2's multipart upload for upload `id`, made now if the room has none yet. Two requests may
 * race to make it: the room keeps the first it is told of, and the loser's is aborted.
 */
async function multipartOf(
  bucket: R2Bucket,
  stub: RoomStub,
  actor: Actor,
  ticket: { id: string; key: string; multipart: string | null },
): Promise<string> {
  if (ticket.multipart !== null) return ticket.multipart;
  const made = await bucket.createMultipartUpload(ticket.key);
  const kept = unwrap(await stub.multipartStarted(actor, ticket.id, made.uploadId));
  if (kept !== made.uploadId) await made.abort();
  return kept;
}

/**
 * An R2 call for upload `id` failed. If the upload was given up (or expired) meanwhile, its
 * multipart upload is aborted under the call: the answer is then the room's `not_found`, as for
 * any upload that is gone, and not a 500. Otherwise the error is ours, and thrown as it is.
 */
async function unlessGone(
  stub: RoomStub,
  actor: Actor,
  id: string,
  error: unknown,
): Promise<never> {
  unwrap(await stub.upload(actor, id));
  throw error;
}

/**
 * The open route's validation: a size over the kind's limit is the contract's `too_large`, not
 * a `bad_request` (NewUpload's own refinement finds it).
 */
const tooLargeOrBadRequest = (result: { success: boolean; error?: z.ZodError }): undefined => {
  if (result.success || !result.error) return undefined;
  const issue = result.error.issues[0];
  if (issue?.code === "custom" && issue.path[0] === "size")
    throw new ApiError("too_large", issue.message);
  throw new ApiError("bad_request", problemOf(result.error.issues));
};

uploads.openapi(
  createRoute({
    method: "post",
    path: UPLOADS,
    summary: "Open an upload",
    description:
      "Starts uploading a file into the room, to post it after: for members who may post (not " +
      "muted). `size` is the file's exact size, at most 10 MiB for `voice` (which also gives " +
      "`durationMs`, at most 5 minutes), 25 MiB for `image`, 100 MiB for `file`. Send its " +
      "`parts` (all of `partBytes` but the last) to the part route, then complete it. At most " +
      "20 uploads open or unposted each in a room (`quota`); an upload not posted within 24 " +
      "hours is deleted. The same `clientId` again answers the upload it opened.",
    ...signedIn,
    request: { params: z.object({ room: RoomName }), ...jsonBody(NewUpload) },
    responses: {
      201: json(Upload, "the upload: send every part, then complete it"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "too_large", "quota"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const stub = c.env.ROOM.getByName(room);
    const opened = unwrap(await stub.openUpload(c.var.user, c.req.valid("json")));
    if (opened.upload.state === "open")
      await multipartOf(c.env.FILES, stub, c.var.user, { id: opened.upload.id, ...opened });
    return c.json(opened.upload, 201);
  },
  tooLargeOrBadRequest,
);

uploads.openapi(
  createRoute({
    method: "get",
    path: `${UPLOADS}/{id}`,
    summary: "An upload, as its uploader sees it",
    description:
      "Which parts are `received`: after a dropped connection, send the others again. Only its " +
      "uploader sees it; for anyone else it is not found.",
    ...signedIn,
    request: { params: UploadParam },
    responses: {
      200: json(Upload, "the upload"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room, id } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).upload(c.var.user, id)), 200);
  },
);

uploads.openapi(
  createRoute({
    method: "put",
    path: `${UPLOADS}/{id}/parts/{part}`,
    summary: "Send one part of an upload",
    description:
      "The part's bytes, `application/octet-stream`, with `Content-Length` (required): exactly " +
      "`partBytes` (5 MiB) for every part but the last, which is the rest of the file. Sending a " +
      "part again replaces it. Part 1's bytes say the file's type: a `voice` upload must be " +
      "audio (WebM, Ogg, MP4, MP3, WAV), an `image` PNG, JPEG, GIF or WebP, and markup (HTML, " +
      "SVG, XML) is refused for every kind (`unsupported_type`), whatever the file's name.",
    ...signedIn,
    request: {
      params: PartParam,
      body: {
        content: {
          "application/octet-stream": {
            schema: z.string().openapi({ type: "string", format: "binary" }),
          },
        },
        required: true,
      },
    },
    responses: {
      200: json(PartReceipt, "the part is stored"),
      ...errors(
        "bad_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "too_large",
        "unsupported_type",
      ),
    },
  }),
  async (c) => {
    const { room, id, part } = c.req.valid("param");
    const bytes = unwrap(declaredPartBytes(c.req.header("content-length")));
    const stub = c.env.ROOM.getByName(room);
    const actor = c.var.user;
    // The room says whether this part is wanted, and of this size, before a byte is read.
    const ticket = unwrap(await stub.partTicket(actor, id, part, bytes));
    const body = await partBody(c.req.raw, { room, id, part, bytes });
    if (body.byteLength !== bytes)
      throw new ApiError("bad_request", `the body is ${body.byteLength} bytes, not ${bytes}`);
    const type = part === 1 ? unwrap(await sniffType(ticket.kind, body)) : undefined;
    const multipart = await multipartOf(c.env.FILES, stub, actor, { id, ...ticket });
    const stored = await c.env.FILES.resumeMultipartUpload(ticket.key, multipart)
      .uploadPart(part, body)
      .catch((error: unknown) => unlessGone(stub, actor, id, error));
    const receipt = await stub.partStored(actor, id, { part, bytes, etag: stored.etag, type });
    return c.json(unwrap(receipt), 200);
  },
);

uploads.openapi(
  createRoute({
    method: "post",
    path: `${UPLOADS}/{id}/complete`,
    summary: "Complete an upload",
    description:
      "Every part is in: R2 assembles the file, and the answer is the `Attachment` to post " +
      "(its id in a `post`'s `attachments`). Completing again answers the same attachment.",
    ...signedIn,
    request: { params: UploadParam },
    responses: {
      200: json(Attachment, "the attachment, ready to post"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const { room, id } = c.req.valid("param");
    const stub = c.env.ROOM.getByName(room);
    const ticket = unwrap(await stub.completeTicket(c.var.user, id));
    if ("done" in ticket) return c.json(ticket.done, 200);
    let size: number;
    try {
      const object = await c.env.FILES.resumeMultipartUpload(ticket.key, ticket.multipart).complete(
        ticket.parts,
      );
      size = object.size;
    } catch (error) {
      // A complete that raced this one finished it: the object is there.
      const object = await c.env.FILES.head(ticket.key);
      if (!object) return unlessGone(stub, c.var.user, id, error);
      size = object.size;
    }
    return c.json(unwrap(await stub.uploadCompleted(c.var.user, id, size)), 200);
  },
);

uploads.openapi(
  createRoute({
    method: "delete",
    path: `${UPLOADS}/{id}`,
    summary: "Give an upload up",
    description:
      "Open or complete, not posted: it is gone at once, and its parts or file are deleted from " +
      "storage right after. A posted file goes with its message (delete or redact it).",
    ...signedIn,
    request: { params: UploadParam },
    responses: {
      204: { description: "given up" },
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const { room, id } = c.req.valid("param");
    unwrap(await c.env.ROOM.getByName(room).abortUpload(c.var.user, id));
    return c.body(null, 204);
  },
);
