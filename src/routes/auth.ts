import { createRoute } from "@hono/zod-openapi";
import { issueToken, newGuestId } from "../auth/token.ts";
import { config } from "../env.ts";
import { errors, json, router } from "../http/openapi.ts";
import { GuestSignIn, Session, type User } from "../protocol/index.ts";

/** Guest sign-in; registered accounts are in account.ts. */
export const auth = router().openapi(
  createRoute({
    method: "post",
    path: "/api/auth/guest",
    summary: "Sign in as a guest",
    description: "A guest is a user of kind `guest` with a fresh id; names need not be unique.",
    request: { body: { content: { "application/json": { schema: GuestSignIn } }, required: true } },
    responses: {
      200: json(Session, "a token for the new guest"),
      ...errors("bad_request", "too_large", "rate_limited"),
    },
  }),
  async (c) => {
    const { name } = c.req.valid("json");
    const user: User = { id: newGuestId(), name, kind: "guest" };
    const token = await issueToken(user, config(c.env).JWT_SECRET);
    return c.json({ token, user }, 200);
  },
);
